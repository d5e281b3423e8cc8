// A histogram worker thread (src/train/gbdt/histogram-pool.ts). Loom's sources are TypeScript
// run through tsx; a worker thread does not inherit a loader registered at run time
// (bin/loom.js), so it registers tsx itself and then loads the worker's module.
import { register } from 'tsx/esm/api';

register();
await import('./histogram-worker-main.ts');
