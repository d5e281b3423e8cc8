// The prediction log's worker thread (src/serve/prediction-log-backends.ts). Loom's sources
// are TypeScript run through tsx; a worker thread does not inherit a loader registered at
// run time (bin/loom.js), so it registers tsx itself and then loads the worker's module.
import { register } from 'tsx/esm/api';

register();
await import('./prediction-log-worker-main.ts');
