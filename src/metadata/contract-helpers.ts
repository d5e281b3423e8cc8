/**
 * Helpers the store contract suites share (metadata and registry): fresh stores per test,
 * asserting error codes, and the fixtures the metadata suites build on.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { isLoomError, type ErrorCode } from '../core/errors.js';
import { ownerOfPid, type ProcessOwner } from '../core/process-owner.js';
import type { MetadataStore } from './store.js';
import type { NewExecution } from './types.js';

/** What a backend's test file hands the contract: a fresh store and how to dispose of it. */
export type MakeMetadataStore = () => Promise<{ metadata: MetadataStore; close(): Promise<void> }>;

/** Asserts that a promise fails with a LoomError of this code (never the wording). */
export async function rejectsWithCode(promise: Promise<unknown>, code: ErrorCode, field?: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isLoomError(error), `expected a LoomError, got ${String(error)}`);
    assert.equal(error.code, code, `expected ${code}, got ${error.code}: ${error.message}`);
    if (field !== undefined) assert.equal(error.field, field);
    return true;
  });
}

/** Runs `body` against a fresh store, closing it afterwards whatever happens. */
export function withStore(makeStore: MakeMetadataStore, body: (store: MetadataStore) => Promise<void>): () => Promise<void> {
  return async () => {
    const { metadata, close } = await makeStore();
    try {
      await body(metadata);
    } finally {
      await close();
    }
  };
}

export function newExecution(overrides: Partial<NewExecution> = {}): NewExecution {
  return { typeName: 'train', stepName: 'train', parameters: { lr: 0.1 }, codeVersion: { commit: 'abc123', dirty: false }, ...overrides };
}

/** Registers the types the suites use: Examples (rows INT, split STRING) and Model (auc DOUBLE, meta JSON, blessed BOOL). */
export async function putTestTypes(store: MetadataStore): Promise<void> {
  await store.putArtifactType({ name: 'Examples', description: 'rows on disk', properties: { rows: 'INT', split: 'STRING' } });
  await store.putArtifactType({ name: 'Model', description: 'an ONNX graph', properties: { auc: 'DOUBLE', meta: 'JSON', blessed: 'BOOL' } });
}

/** A process owner whose process has really exited: a child started, recorded, then killed. */
export async function deadProcessOwner(): Promise<ProcessOwner> {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
  await new Promise((resolve, reject) => child.once('spawn', resolve).once('error', reject));
  const owner = ownerOfPid(child.pid!);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  return owner;
}
