// A pipeline re-run's own process (cli/rerun-processes.ts forks it for `loom server`): loads its
// module, compiled or through tsx with the repository's tsconfig (see core/worker-module.mjs).
import { importWorkerModule } from '../core/worker-module.mjs';

await importWorkerModule(import.meta.url, 'rerun-process-main', { repoPaths: true });
