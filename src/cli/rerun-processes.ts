/**
 * Re-runs for `loom server`, each in a process of its own (rerun-process-main.ts), as Kubeflow
 * and TFX run pipelines away from their API servers. Run in the server's process, loading a
 * pipeline file held up every request: a file outside an ES-module package is loaded through
 * `require`, which has tsx compile it and everything it imports (Loom's sources included) on
 * the event loop, 2-3 s during which load shedding refused the server's requests; and a step's
 * own work, or a crash, would be the server's too. Here the server authorizes and audits the
 * request as before, forks the process (telling it the project the server opened), answers with
 * the new run's id once the child has recorded the run, and keeps nothing of it but the child;
 * `drain()` waits for every child, which exits when its run ends.
 *
 * Usage: `const reruns = new RerunProcesses(project, log); const { runId } = await reruns.request(oldRunId, context);`
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChangeContext } from '../audit/record-change.js';
import { LoomError } from '../core/errors.js';
import { settleAbandonedWork, type Platform } from '../platform/platform.js';
import { PipelineReruns, type Reruns, type RerunSource } from '../platform/rerun.js';
import { rerunReplySchema, type RerunRequest } from './rerun-protocol.js';

const CHILD = fileURLToPath(new URL('./rerun-process.mjs', import.meta.url));

/** Re-runs one server process runs at once: each is a whole Node process with its own database connections. */
export const MAX_RERUN_PROCESSES = 4;

export interface RerunProcessOptions {
  /** At most this many re-runs at once (default `MAX_RERUN_PROCESSES`); another is refused with UNAVAILABLE until one ends. */
  maxRunning?: number;
  /** The child's working folder and environment: default this process's (its other settings, DuckDB's, the actor, come from them). */
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export class RerunProcesses implements Reruns {
  private readonly going = new Set<Promise<void>>();
  private authorizing = 0;
  private readonly sources: PipelineReruns;

  constructor(
    private readonly platform: Platform,
    /** Where a child reports what went wrong outside its run (a run's own failure is recorded with it). */
    private readonly log: (message: string) => void = () => {},
    private readonly options: RerunProcessOptions = {},
  ) {
    this.sources = new PipelineReruns(platform, log);
  }

  /** Authorizes and audits as `PipelineReruns.request` does, then starts the run in its own process; resolves once it is recorded. */
  async request(runId: string, context?: ChangeContext): Promise<{ runId: string }> {
    // Refused before it is authorized and audited: the audit log records re-runs that started.
    // Requests still being authorized hold their place, so two at once cannot both take the last one.
    const most = this.options.maxRunning ?? MAX_RERUN_PROCESSES;
    if (this.going.size + this.authorizing >= most) {
      throw new LoomError('UNAVAILABLE', `this server is already running ${most} pipeline re-runs (at most ${most} at once)`, {
        fix: 'run it again once one of them has ended (see the Pipelines page), or run it from a terminal with `loom runs rerun <run-id>`',
        retryable: true,
      });
    }
    this.authorizing += 1;
    let source: RerunSource;
    try {
      source = await this.sources.authorizedSource(runId, context);
    } finally {
      this.authorizing -= 1;
    }
    return this.start(source, context);
  }

  /** Resolves with the new run's id; rejects with the child's error (a pipeline file that does not load: INVALID_ARGUMENT) when it could not start it. */
  start(source: RerunSource, context?: ChangeContext): Promise<{ runId: string }> {
    const { home, database, artifacts } = this.platform.config;
    const project = { home, database: { url: database.url, ...(database.schema && { schema: database.schema }) }, artifacts: artifacts.url };
    const request: RerunRequest = { project, source, ...(context && { context: { principal: context.principal, address: context.address, ...(context.reason && { reason: context.reason }) } }) };
    // Its own process group: a Ctrl-C meant for the server does not stop the run halfway; the server waits for it (`drain`).
    const child = fork(CHILD, [], { cwd: this.options.cwd, env: this.options.env, execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], detached: true });
    let started = false;
    // A child that died after recording its run (killed, out of memory) left it RUNNING: it is settled at once, as the
    // next command to open the project would (marked FAILED, naming the process), so the dashboard does not show it running.
    const exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => resolve(started && (code !== 0 || signal !== null) ? this.settle(source, signal ?? `exit code ${code}`) : undefined));
      // A process that could not be started emits 'error' and may never emit 'exit': drain() must not wait for it.
      child.once('error', () => {
        if (child.pid === undefined) resolve();
      });
    });
    this.going.add(exited);
    void exited.finally(() => this.going.delete(exited));
    return new Promise((resolve, reject) => {
      child.on('message', (raw) => {
        const reply = rerunReplySchema.safeParse(raw);
        if (!reply.success) return this.log(`re-run of ${source.runId}: its process sent a message that is not a reply: ${reply.error.message}`);
        const message = reply.data;
        if (message.type === 'started') {
          started = true;
          resolve({ runId: message.runId });
        } else if (message.type === 'failed') {
          const { code, message: text, fix, field } = message.error;
          const error = new LoomError(code, text, { ...(fix && { fix }), ...(field && { field }) });
          if (started) this.log(`re-run of ${source.runId} failed: ${text}`);
          else reject(error);
        }
      });
      const notStarted = (error: Error) => reject(new LoomError('INTERNAL', `could not start a process for the re-run of ${source.runId}: ${error.message}`));
      child.once('error', notStarted);
      child.once('exit', (code, signal) => {
        if (started) return;
        reject(
          new LoomError('INTERNAL', `the re-run of ${source.runId} ended (${signal ?? `exit code ${code}`}) before it recorded its run`, {
            fix: "look at the server's log for the process's error, or run it in a terminal with `loom runs rerun <run-id>`",
          }),
        );
      });
      child.send(request, (error) => error && notStarted(error));
    });
  }

  private async settle(source: RerunSource, how: string): Promise<void> {
    this.log(`the process of a re-run of ${source.runId} ended (${how}) before its run did`);
    await settleAbandonedWork(this.platform).catch((error: unknown) => this.log(`settling the work it left failed: ${error instanceof Error ? error.message : String(error)}`));
  }

  /** Waits for every re-run this server started: it closes its stores only after them. */
  async drain(): Promise<void> {
    await Promise.all([...this.going]);
  }
}
