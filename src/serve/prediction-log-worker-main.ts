/**
 * The prediction log's worker thread: builds the sink from its spec, converts spools a
 * dead writer left (Parquet), then takes batches of records from the serving thread,
 * turns them into rows and writes them, one message at a time, answering each.
 * Started by prediction-log-backends.ts through prediction-log-worker.mjs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ParquetSpoolWriter } from './prediction-log-parquet.js';
import { batchBuffers, openBatch, packedLogRows } from './prediction-log-pack.js';
import type { PredictionSinkSpec } from './prediction-log.js';
import { workerError, type FromLogWorker, type ToLogWorker } from './prediction-log-backends.js';
import { PostgresPredictionSink } from './prediction-sinks.js';

const { spec, token, recover } = workerData as { spec: PredictionSinkSpec; token: string; recover: string[] };
const port = parentPort!;
const post = (message: FromLogWorker) => port.postMessage(message);
// A LoomError's code and fix go with its message (a torn spool is not a retryable INTERNAL failure).
const reportError = (error: unknown) => post({ type: 'error', error: workerError(error) });

if (spec.kind !== 'parquet' && spec.kind !== 'postgres') throw new Error(`unknown prediction log sink "${(spec as { kind: unknown }).kind}"`);
const sink =
  spec.kind === 'parquet'
    ? new ParquetSpoolWriter(spec.dir, { rotateRows: spec.rotateRows, rotateMs: spec.rotateMs, idleMs: spec.idleMs, token, onFile: (path) => post({ type: 'file', path }), onError: reportError })
    : new PostgresPredictionSink(spec);

let chain: Promise<unknown> = sink instanceof ParquetSpoolWriter ? sink.recover(recover).catch(reportError) : Promise.resolve();

port.on('message', (message: ToLogWorker) => {
  chain = chain.then(async () => {
    try {
      if (message.type === 'write') {
        let written: number;
        const packed = openBatch(message.batch);
        // The values are copied out of the batch's buffers: they go back to the serving thread's packer, to be filled again.
        const buffers = batchBuffers(message.batch);
        if (sink instanceof ParquetSpoolWriter) {
          // Straight from the packed batch to the spool, as a columnar frame where it can be (no row objects, no JSON per row).
          written = await sink.writePacked(packed);
        } else {
          const rows = packedLogRows(packed);
          await sink.write(rows);
          written = rows.length;
        }
        port.postMessage({ type: 'done', id: message.id, written, buffers } satisfies FromLogWorker, buffers);
      } else if (message.type === 'rotate') {
        post({ type: 'done', id: message.id, path: sink instanceof ParquetSpoolWriter ? await sink.rotate() : undefined });
      } else {
        await sink.close();
        post({ type: 'done', id: message.id });
      }
    } catch (error) {
      post({ type: 'done', id: message.id, error: workerError(error) });
    }
  });
});
