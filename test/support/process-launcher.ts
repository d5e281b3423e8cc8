/**
 * A launcher that runs each step in a separate Node process, to prove the step context is
 * plain data: the context goes to the child as JSON on stdin, the child finds the
 * component by module and export name, binds its own services (an artifact store over the
 * same directory; no registry) and answers with the executor's result as JSON on stdout.
 * A worker queue is this with a queue in place of the pipe.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LoomError, type ErrorCode } from '../../src/core/errors.js';
import type { Launcher } from '../../src/pipeline/launcher.js';

const CHILD = fileURLToPath(new URL('./step-child.ts', import.meta.url));

/** Where a component is defined, so a process that has only its name can load it. */
export interface ComponentLocation {
  module: string;
  exportName: string;
}

export interface ChildMessage {
  component: ComponentLocation;
  artifactsRoot: string;
  context: unknown;
}

export type ChildAnswer = { result: unknown; pid: number } | { error: { code: ErrorCode; message: string; fix?: string }; pid: number };

export function processLauncher(options: { artifactsRoot: string; components: Record<string, ComponentLocation>; onChild?: (pid: number) => void }): Launcher {
  return {
    async launch(request) {
      const location = options.components[request.component.name];
      if (!location) throw new LoomError('NOT_FOUND', `no module known for component "${request.component.name}"`);
      const message: ChildMessage = { component: location, artifactsRoot: options.artifactsRoot, context: request.context };
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.stdin.end(JSON.stringify(message));
      const code = await new Promise<number | null>((resolve, reject) => {
        child.on('error', reject);
        child.on('close', resolve);
      });
      for (const line of stderr.split('\n').filter(Boolean)) request.log(line);
      if (code !== 0 || !stdout) throw new LoomError('INTERNAL', `the step process exited with ${code}: ${stderr.slice(-2000)}`);
      const answer = JSON.parse(stdout) as ChildAnswer;
      options.onChild?.(answer.pid);
      if ('error' in answer) throw new LoomError(answer.error.code, answer.error.message, answer.error.fix ? { fix: answer.error.fix } : {});
      return answer.result as Awaited<ReturnType<Launcher['launch']>>;
    },
  };
}
