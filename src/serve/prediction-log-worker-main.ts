/**
 * The prediction log's worker thread: builds the sink from its spec, converts spools a
 * dead writer left (Parquet), then takes batches of records from the serving thread,
 * turns them into rows and writes them, one message at a time, answering each.
 * Started by prediction-log-backends.ts through prediction-log-worker.mjs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ParquetSpoolWriter } from './prediction-log-parquet.js';
import { packedLogRows } from './prediction-log-pack.js';
import type { PredictionSinkSpec } from './prediction-log.js';
import type { FromLogWorker, ToLogWorker } from './prediction-log-backends.js';
import { PostgresPredictionSink } from './prediction-sinks.js';

const { spec, token, recover } = workerData as { spec: PredictionSinkSpec; token: string; recover: string[] };
const port = parentPort!;
const post = (message: FromLogWorker) => port.postMessage(message);
const reportError = (error: unknown) => post({ type: 'error', message: error instanceof Error ? error.message : String(error) });

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
        if (sink instanceof ParquetSpoolWriter) {
          // Straight from the packed batch to the spool, as a columnar frame where it can be (no row objects, no JSON per row).
          written = await sink.writePacked(message.packed);
        } else {
          const rows = packedLogRows(message.packed);
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
      post({ type: 'done', id: message.id, error: error instanceof Error ? error.message : String(error) });
    }
  });
});
