// A histogram worker thread (src/train/gbdt/histogram-pool.ts): loads the worker's module,
// compiled or through tsx (see core/worker-module.mjs).
import { importWorkerModule } from '../../core/worker-module.mjs';

await importWorkerModule(import.meta.url, 'histogram-worker-main');
