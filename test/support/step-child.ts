/**
 * The child side of `processLauncher`: reads a step's context as JSON from stdin, binds
 * services in this process and runs the component's executor; the result (or the error)
 * goes to stdout as JSON, log lines to stderr.
 */
import { pathToFileURL } from 'node:url';
import { asLoomError, LoomError } from '../../src/core/errors.js';
import { silentProgress } from '../../src/core/progress.js';
import type { ComponentDef } from '../../src/pipeline/component.js';
import type { RegistryStore } from '../../src/registry/store.js';
import { LocalArtifactStore } from '../../src/store/local-artifact-store.js';
import type { ChildAnswer, ChildMessage } from './process-launcher.js';

let input = '';
for await (const chunk of process.stdin) input += String(chunk);
const message = JSON.parse(input) as ChildMessage;
let answer: ChildAnswer;
try {
  const module = (await import(pathToFileURL(message.component.module).href)) as Record<string, ComponentDef>;
  const component = module[message.component.exportName];
  if (!component) throw new LoomError('NOT_FOUND', `${message.component.module} exports no ${message.component.exportName}`);
  const noRegistry = new Proxy({} as RegistryStore, {
    get: () => {
      throw new LoomError('FAILED_PRECONDITION', 'this step process has no registry');
    },
  });
  const services = { registry: noRegistry, artifacts: new LocalArtifactStore(message.artifactsRoot), progress: silentProgress, log: (line: string) => process.stderr.write(`${line}\n`) };
  answer = { result: await component.execute(message.context as never, services), pid: process.pid };
} catch (error) {
  const loom = asLoomError(error);
  answer = { error: { code: loom.code, message: loom.message, ...(loom.fix ? { fix: loom.fix } : {}) }, pid: process.pid };
}
process.stdout.write(JSON.stringify(answer));
