/**
 * Reading the transform step's output (TransformedExamples: `meta.json` with the width and
 * feature names, and per split `features.f32` row-major float32 [rows, width] plus
 * `labels.f32`) into memory for the in-process trainers.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { LoomError } from '../core/errors.js';
import { parseInput } from '../core/validation.js';
import { FEATURES_FILE, LABELS_FILE } from '../transform/apply.js';
import { TRANSFORMED_META_FILE } from '../transform/component.js';

const transformedMeta = z.object({ width: z.number().int().positive(), featureNames: z.array(z.string()) });
export type TransformedMeta = z.output<typeof transformedMeta>;

export interface LabelledMatrix {
  features: Float32Array;
  labels: Float32Array;
  width: number;
}

export async function readTransformedMeta(dir: string): Promise<TransformedMeta> {
  const text = await readFile(join(dir, TRANSFORMED_META_FILE), 'utf8').catch(() => {
    throw new LoomError('FAILED_PRECONDITION', `${dir} holds no ${TRANSFORMED_META_FILE}; it is not a TransformedExamples artifact`);
  });
  return parseInput(transformedMeta, JSON.parse(text), { what: `${join(dir, TRANSFORMED_META_FILE)}` });
}

export async function readTransformedSplit(dir: string, split: 'train' | 'eval'): Promise<LabelledMatrix> {
  const meta = await readTransformedMeta(dir);
  const features = await readFloat32(join(dir, split, FEATURES_FILE));
  const labels = await readFloat32(join(dir, split, LABELS_FILE));
  if (features.length !== labels.length * meta.width) {
    throw new LoomError('FAILED_PRECONDITION', `${split}/${FEATURES_FILE} does not hold ${labels.length} rows of width ${meta.width}`);
  }
  return { features, labels, width: meta.width };
}

/** Splits off every `every`-th row as a hold-out (for tuning and early stopping without touching the eval split). */
export function holdOut(data: LabelledMatrix, every: number): { fit: LabelledMatrix; holdout: LabelledMatrix } {
  const rows = data.labels.length;
  const held = Math.floor(rows / every);
  const pick = (keep: (i: number) => boolean, count: number): LabelledMatrix => {
    const features = new Float32Array(count * data.width);
    const labels = new Float32Array(count);
    let k = 0;
    for (let i = 0; i < rows; i++) {
      if (!keep(i)) continue;
      features.set(data.features.subarray(i * data.width, (i + 1) * data.width), k * data.width);
      labels[k++] = data.labels[i];
    }
    return { features, labels, width: data.width };
  };
  return { fit: pick((i) => (i + 1) % every !== 0, rows - held), holdout: pick((i) => (i + 1) % every === 0, held) };
}

/** A float32 file as one array; copied only when the read buffer is not 4-byte aligned. */
export async function readFloat32(path: string): Promise<Float32Array> {
  const bytes = await readFile(path);
  if (bytes.byteLength % 4 !== 0) throw new LoomError('FAILED_PRECONDITION', `${path} is not a float32 file (${bytes.byteLength} bytes)`);
  if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** A binary label that takes one value only cannot be learned from; say so before training. */
export function assertBinaryLabelsVary(data: LabelledMatrix, labelColumn: string): void {
  let positives = 0;
  for (const label of data.labels) positives += label === 1 ? 1 : 0;
  if (positives === 0 || positives === data.labels.length) {
    throw new LoomError('FAILED_PRECONDITION', `the label column "${labelColumn}" is ${positives === 0 ? 0 : 1} on every one of the ${data.labels.length} training rows`, {
      field: 'labelColumn',
      fix: 'check the label expression and the ingest filter: a model needs both outcomes in the training split',
    });
  }
}
