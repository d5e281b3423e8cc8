// The prediction log's worker thread (src/serve/prediction-log-backends.ts): loads the worker's
// module, compiled or through tsx (see core/worker-module.mjs).
import { importWorkerModule } from '../core/worker-module.mjs';

await importWorkerModule(import.meta.url, 'prediction-log-worker-main');
