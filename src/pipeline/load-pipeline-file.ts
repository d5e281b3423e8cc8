/**
 * Loads a pipeline file: a TypeScript or JavaScript module whose default export is a
 * pipeline (from `definePipeline`) or a function returning one.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import { asLoomError, isLoomError, LoomError } from '../core/errors.js';
import type { Pipeline } from './dsl.js';

/** `options` go to a default export that is a factory (`export default (options) => definePipeline(...)`). */
export async function loadPipelineFile(path: string, options?: unknown): Promise<Pipeline> {
  const absolute = resolve(path);
  if (!existsSync(absolute)) {
    throw new LoomError('NOT_FOUND', `pipeline file ${path} does not exist`, { field: 'pipeline file', fix: 'give the path of a .ts or .js file that exports a pipeline' });
  }
  let module: { default?: unknown };
  try {
    // tsx loads the file as ESM with TypeScript, wherever it lives and whatever its package says.
    module = (await tsImport(pathToFileURL(absolute).href, import.meta.url)) as { default?: unknown };
  } catch (error) {
    if (isLoomError(error)) throw asLoomError(error);
    const message = error instanceof Error ? error.message : String(error);
    throw new LoomError('INVALID_ARGUMENT', `pipeline file ${path} could not be loaded: ${message}`, { fix: 'fix the error in the file' });
  }
  const exported = await pipelineFrom(module.default, options);
  if (!isPipeline(exported)) {
    throw new LoomError('INVALID_ARGUMENT', `pipeline file ${path} does not export a pipeline`, {
      fix: "make its default export `definePipeline('name', (p) => { ... })` (from loom's pipeline DSL)",
    });
  }
  return exported;
}

/** The default export, a factory's result, or (tsx wraps a CommonJS view once more) the inner default. */
async function pipelineFrom(value: unknown, options: unknown): Promise<unknown> {
  if (typeof value === 'function') return pipelineFrom(await (value as (options: unknown) => unknown)(options), options);
  if (!isPipeline(value) && typeof value === 'object' && value !== null && 'default' in value) return pipelineFrom((value as { default: unknown }).default, options);
  return value;
}

function isPipeline(value: unknown): value is Pipeline {
  return typeof value === 'object' && value !== null && typeof (value as Pipeline).name === 'string' && Array.isArray((value as Pipeline).steps);
}
