/**
 * Loads a pipeline file: a TypeScript or JavaScript module whose default export is a
 * pipeline (from `definePipeline`) or a function returning one.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LoomError } from '../core/errors.js';
import type { Pipeline } from './dsl.js';

export async function loadPipelineFile(path: string): Promise<Pipeline> {
  const absolute = resolve(path);
  if (!existsSync(absolute)) {
    throw new LoomError('NOT_FOUND', `pipeline file ${path} does not exist`, { field: 'pipeline file', fix: 'give the path of a .ts or .js file that exports a pipeline' });
  }
  let module: { default?: unknown };
  try {
    module = (await import(pathToFileURL(absolute).href)) as { default?: unknown };
  } catch (error) {
    if (error instanceof LoomError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new LoomError('INVALID_ARGUMENT', `pipeline file ${path} could not be loaded: ${message}`, { fix: 'fix the error in the file' });
  }
  const exported = typeof module.default === 'function' ? await (module.default as () => unknown)() : module.default;
  if (!isPipeline(exported)) {
    throw new LoomError('INVALID_ARGUMENT', `pipeline file ${path} does not export a pipeline`, {
      fix: "make its default export `definePipeline('name', (p) => { ... })` (from loom's pipeline DSL)",
    });
  }
  return exported;
}

function isPipeline(value: unknown): value is Pipeline {
  return typeof value === 'object' && value !== null && typeof (value as Pipeline).name === 'string' && Array.isArray((value as Pipeline).steps);
}
