// The prediction log's converter process (src/serve/prediction-log-converter.ts): loads its
// module, compiled or through tsx (see core/worker-module.mjs).
import { importWorkerModule } from '../core/worker-module.mjs';

await importWorkerModule(import.meta.url, 'prediction-log-converter-main');
