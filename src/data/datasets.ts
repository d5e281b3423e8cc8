/**
 * Real data sets shipped inside npm packages (nothing is downloaded at run time).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LoomError } from '../core/errors.js';

function packageDir(name: string): string {
  // Walk up from this file to the node_modules that holds the package; package
  // `exports` maps hide data files from require.resolve.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new LoomError('NOT_FOUND', `the package "${name}" is not installed`, { fix: 'run `npm install` in the Loom checkout' });
    }
    dir = parent;
  }
}

/** `flights-3m.parquet` from vega-datasets: 3M US flights, Jan–Jun 2001 (date, delay, distance, origin, destination). */
export function flightsParquetPath(): string {
  return join(packageDir('vega-datasets'), 'data', 'flights-3m.parquet');
}
