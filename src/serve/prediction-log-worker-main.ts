/**
 * The prediction log's worker thread: builds the sink from its spec, converts spools a
 * dead writer left (Parquet), then takes batches of records from the serving thread,
 * turns them into rows and writes them, one message at a time, answering each.
 * Started by prediction-log-backends.ts through prediction-log-worker.mjs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ParquetSpoolWriter } from './prediction-log-parquet.js';
import { openBatch, packedLogRows } from './prediction-log-pack.js';
import { DEFAULT_CONVERTER_NICE } from './prediction-log-converter.js';
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
    ? new ParquetSpoolWriter(spec.dir, {
        rotateRows: spec.rotateRows,
        rotateMs: spec.rotateMs,
        idleMs: spec.idleMs,
        // Conversions in a low-priority process: under full load they wait for idle CPU rather than take the serving core.
        processNice: spec.processNice ?? DEFAULT_CONVERTER_NICE,
        token,
        onFile: (path) => post({ type: 'file', path }),
        onError: reportError,
      })
    : new PostgresPredictionSink(spec);

// Recovery claims its spools ahead of the first append and converts them beside the appends, which do not wait for it.
if (sink instanceof ParquetSpoolWriter) sink.recover(recover).catch(reportError);
let chain: Promise<unknown> = Promise.resolve();

port.on('message', (message: ToLogWorker) => {
  chain = chain.then(async () => {
    try {
      if (message.type === 'write') {
        let written: number;
        if (sink instanceof ParquetSpoolWriter) {
          // The batch's typed arrays to the spool as they are: the conversion reads them (no row objects, no JSON here).
          written = await sink.writeBatch(message.batch);
        } else {
          const rows = packedLogRows(openBatch(message.batch));
          await sink.write(rows);
          written = rows.length;
        }
        post({ type: 'done', id: message.id, written });
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
