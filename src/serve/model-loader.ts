/**
 * Loads a registered model for serving: resolves a reference (`flights`, `flights@champion`,
 * `flights@3`) through the registry to one version, finds its files through the artifact
 * store, and opens an ONNX Runtime session on the composed graph.
 *
 * Usage: `const model = await loadModel('flights@champion', { registry, artifacts }); ... await model.close();`
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { LoomError } from '../core/errors.js';
import type { RegistryStore } from '../registry/store.js';
import type { ModelSignature, ModelVersion } from '../registry/types.js';
import type { ArtifactStore } from '../store/artifact-store.js';

/** The alias a bare model name means. */
export const DEFAULT_ALIAS = 'champion';

/** A parsed model reference: exactly one of `alias` and `version` is set. */
export interface ModelRef {
  name: string;
  alias?: string;
  version?: number;
}

/** A model ready to answer requests. */
export interface LoadedModel {
  /** The reference it was loaded by, as written (`flights@champion`). */
  ref: string;
  name: string;
  version: ModelVersion;
  signature: ModelSignature;
  session: ort.InferenceSession;
  close(): Promise<void>;
}

export interface ModelLoaderServices {
  registry: RegistryStore;
  artifacts: ArtifactStore;
}

const LIST_FIX = 'run `loom models ls` to see registered models, their versions and aliases';

/** Parses `name`, `name@alias` or `name@<version number>`; INVALID_ARGUMENT on anything else. */
export function parseModelRef(ref: string): ModelRef {
  const at = ref.lastIndexOf('@');
  const name = at < 0 ? ref : ref.slice(0, at);
  const qualifier = at < 0 ? DEFAULT_ALIAS : ref.slice(at + 1);
  if (!name || !qualifier || /\s/.test(ref)) {
    throw new LoomError('INVALID_ARGUMENT', `"${ref}" is not a model reference`, {
      field: 'model',
      fix: 'write name, name@alias or name@version, e.g. flights@champion or flights@3',
    });
  }
  return /^\d+$/.test(qualifier) ? { name, version: Number(qualifier) } : { name, alias: qualifier };
}

/** Finds the version a reference points at; NOT_FOUND naming what is missing and how to look. */
export async function resolveModelVersion(ref: ModelRef, registry: RegistryStore): Promise<ModelVersion> {
  const model = await registry.getRegisteredModel(ref.name);
  if (!model) {
    throw new LoomError('NOT_FOUND', `no registered model named "${ref.name}"`, { field: 'model', fix: LIST_FIX });
  }
  if (ref.version !== undefined) {
    const version = await registry.getModelVersion(ref.name, ref.version);
    if (!version) {
      throw new LoomError('NOT_FOUND', `model "${ref.name}" has no version ${ref.version} (latest is ${model.latestVersion ?? 'none'})`, {
        field: 'model',
        fix: LIST_FIX,
      });
    }
    return version;
  }
  const alias = ref.alias ?? DEFAULT_ALIAS;
  const version = await registry.getVersionByAlias(ref.name, alias);
  if (!version) {
    const known = Object.keys(model.aliases);
    throw new LoomError(
      'NOT_FOUND',
      `model "${ref.name}" has no alias "${alias}" (aliases: ${known.length ? known.join(', ') : 'none'})`,
      { field: 'model', fix: `${LIST_FIX}; a pipeline sets "champion" when it pushes a blessed model` },
    );
  }
  return version;
}

/** Resolves, fetches and opens a model. The session uses one intra-op thread: a server runs many requests side by side. */
export async function loadModel(ref: string, services: ModelLoaderServices): Promise<LoadedModel> {
  const parsed = parseModelRef(ref);
  const version = await resolveModelVersion(parsed, services.registry);
  if (version.status !== 'READY') {
    throw new LoomError('FAILED_PRECONDITION', `model "${parsed.name}" version ${version.version} is ${version.status}, not READY`, {
      field: 'model',
      fix: LIST_FIX,
    });
  }
  const dir = await services.artifacts.localPath(version.source);
  const signature = (await readSignature(dir)) ?? version.signature;
  if (!signature) {
    throw new LoomError('FAILED_PRECONDITION', `model "${parsed.name}" version ${version.version} has no signature.json and no signature in the registry`);
  }
  const session = await ort.InferenceSession.create(join(dir, 'model.onnx'), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
  return {
    ref,
    name: parsed.name,
    version,
    signature,
    session,
    close: () => session.release(),
  };
}

async function readSignature(dir: string): Promise<ModelSignature | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, 'signature.json'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return JSON.parse(text) as ModelSignature;
}
