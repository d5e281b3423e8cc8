/**
 * Loads a pipeline file: a TypeScript or JavaScript module whose default export is a
 * pipeline (from `definePipeline`) or a function returning one.
 */
import { existsSync, realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
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
    throw new LoomError('INVALID_ARGUMENT', `pipeline file ${path} could not be loaded: ${message}`, { fix: loadFailureFix(message, absolute) });
  }
  const exported = await pipelineFrom(module.default, options);
  if (!isPipeline(exported)) {
    throw new LoomError('INVALID_ARGUMENT', `pipeline file ${path} does not export a pipeline`, {
      fix: "make its default export `definePipeline('name', (p) => { ... })` (from loom's pipeline DSL)",
    });
  }
  return exported;
}

/**
 * What to do when the file does not load. When what is missing is Loom itself, the file is
 * fine: the package is not installed where the file lives, or it is a git clone (linked, or
 * installed from a folder) whose compiled JavaScript was never built (`exports` points at `dist/`).
 */
function loadFailureFix(message: string, file: string): string {
  const missing = /Cannot find (?:module|package) '([^']+)'/.exec(message)?.[1];
  if (!missing || !/(^|[\\/])loom-mlops([\\/]|$)/.test(missing)) return 'fix the error in the file';
  const unbuilt = /^(.*[\\/]loom-mlops)[\\/]dist[\\/]/.exec(missing)?.[1];
  if (unbuilt) {
    const root = existsSync(unbuilt) ? realpathSync(unbuilt) : unbuilt;
    return `Loom's compiled JavaScript (dist/) is missing in ${root}: run \`npm run build\` there (a git clone needs it once; an installed package ships it)`;
  }
  return `install Loom where the pipeline lives: \`npm install loom-mlops\` in ${dirname(file)}`;
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
