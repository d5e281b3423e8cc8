/**
 * A pipeline re-run in a process of its own (forked by rerun-processes.ts for `loom server`):
 * takes one request over IPC, opens the project the server opened (its home, database and
 * artifact store as the server resolved them; the rest from the same working folder and
 * environment), runs the recorded run's pipeline file again as the principal the server
 * authorized, answers `started` with the new run's id as soon as it is recorded, and
 * `finished` when it ends; then exits, whatever its steps left open.
 */
import { isLoomError, failureRecord } from '../core/errors.js';
import { PipelineReruns } from '../platform/rerun.js';
import { openProject } from './project.js';
import { rerunRequestSchema, type RerunReply } from './rerun-protocol.js';

// A server that stopped waiting (it was killed) has closed the channel: the run goes on and is recorded all the same.
const send = (reply: RerunReply) => new Promise<void>((resolve) => (process.connected ? process.send!(reply, () => resolve()) : resolve()));

async function rerun(raw: unknown): Promise<void> {
  const request = rerunRequestSchema.safeParse(raw);
  if (!request.success) {
    await send({ type: 'failed', error: { code: 'INTERNAL', message: `the re-run's process was sent a request it cannot read: ${request.error.message}` } });
    return;
  }
  let project;
  try {
    const { home, database, artifacts } = request.data.project;
    project = await openProject({}, { home, database, artifacts });
    const reruns = new PipelineReruns(project, (message) => process.stderr.write(`${message}\n`));
    const { context } = request.data;
    const started = await reruns.start(request.data.source, context && { ...context, audit: project.audit });
    await send({ type: 'started', runId: started.runId });
    // A failed step is recorded with the run; a failure outside the steps was logged by PipelineReruns.
    const result = await started.finished.catch(() => undefined);
    await send({ type: 'finished', state: result?.state ?? 'FAILED' });
  } catch (error) {
    const field = isLoomError(error) ? error.field : undefined;
    await send({ type: 'failed', error: { ...failureRecord(error, { code: 'INTERNAL' }), ...(field && { field }) } });
  } finally {
    await project?.close();
  }
}

// The run has ended (or never started): the process ends too, whatever a step left open (a timer, a pool), so the
// server's drain() is not kept waiting for a process with nothing left to do.
process.once('message', (raw) => void rerun(raw).finally(() => process.exit()));
