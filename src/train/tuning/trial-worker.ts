/**
 * A trial worker process: runs objectives one trial at a time as the study sends them,
 * forwarding intermediate reports and waiting for the pruning decision. Started by
 * `study.ts` with `fork(this file)` under the tsx loader.
 */
import { pathToFileURL } from 'node:url';
import { TrialPrunedError, type FromWorker, type ObjectiveFunction, type ToWorker } from './trial-protocol.js';

const pending = new Map<string, (prune: boolean) => void>();

function send(message: FromWorker): void {
  process.send?.(message);
}

async function run(message: Extract<ToWorker, { type: 'run' }>): Promise<void> {
  try {
    const loaded = (await import(pathToFileURL(message.module).href)) as Record<string, unknown>;
    const objective = loaded[message.exportName];
    if (typeof objective !== 'function') throw new Error(`${message.module} does not export a function "${message.exportName}"`);
    const outcome = await (objective as ObjectiveFunction)(message.params, {
      number: message.trial,
      context: message.context,
      report: (step, value) =>
        new Promise<void>((resolve, reject) => {
          pending.set(`${message.trial}:${step}`, (prune) => (prune ? reject(new TrialPrunedError(step)) : resolve()));
          send({ type: 'report', trial: message.trial, step, value });
        }),
    });
    const { value, result } = typeof outcome === 'number' ? { value: outcome, result: undefined } : outcome;
    send({ type: 'done', trial: message.trial, value, result });
  } catch (error) {
    if (error instanceof TrialPrunedError) send({ type: 'pruned', trial: message.trial, step: error.step });
    else send({ type: 'failed', trial: message.trial, message: error instanceof Error ? error.message : String(error) });
  }
}

process.on('message', (message: ToWorker) => {
  if (message.type === 'run') void run(message);
  else pending.get(`${message.trial}:${message.step}`)?.(message.prune);
});
send({ type: 'ready' });
