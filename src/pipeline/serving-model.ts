/**
 * The one signature of a served model, owned by its ServingModel artifact
 * (`signature.json`, written by compose). Serving, batch scoring and push read it here;
 * the registry's copy on a version is what push registered from it, used only for a
 * version registered by URI alone (through the MLflow API) whose files carry none.
 *
 * Usage: `const signature = await servingSignature(dir, version.signature, 'model "flights" version 3');`
 */
import { readFile } from 'node:fs/promises';
import { LoomError } from '../core/errors.js';
import type { ModelSignature } from '../registry/types.js';
import { ServingModel } from './artifact-types.js';

/** The artifact's signature, or the registered one when its files have none; FAILED_PRECONDITION when neither exists. */
export async function servingSignature(dir: string, registered: ModelSignature | null | undefined, what: string): Promise<ModelSignature> {
  const file = ServingModel.files.signature(dir);
  let text: string | undefined;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (text !== undefined) {
    try {
      return JSON.parse(text) as ModelSignature;
    } catch (error) {
      throw new LoomError('FAILED_PRECONDITION', `${file} is not JSON: ${(error as Error).message}`, { fix: 'push the model again from a pipeline run' });
    }
  }
  if (registered) return registered;
  throw new LoomError('FAILED_PRECONDITION', `${what} has no signature.json and no signature in the registry`, {
    fix: 'register the version with a signature, or push it from a pipeline (compose writes signature.json)',
  });
}
