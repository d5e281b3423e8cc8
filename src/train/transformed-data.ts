/**
 * Reading the transform step's output (TransformedExamples: `meta.json` with the width and
 * feature names, and per split `features.f32` row-major float32 [rows, width] plus
 * `labels.f32`) into memory for the in-process trainers.
 */
import { open, readFile, stat, type FileHandle } from 'node:fs/promises';
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

/**
 * Transformed features must be finite: a NaN is a missing value the transform did not impute,
 * and no gradient-based trainer can learn from it (trees route NaN and do not call this).
 */
export function assertFiniteFeatures(data: LabelledMatrix, what: string, firstRow = 0): void {
  for (let i = 0; i < data.features.length; i++) {
    if (!Number.isFinite(data.features[i])) {
      throw new LoomError('INVALID_ARGUMENT', `${what} row ${firstRow + Math.floor(i / data.width)}, column ${i % data.width} is ${data.features[i]}`, {
        field: 'features',
        fix: 'impute missing values in the transform (an imputer on the column), or train gradient-boosted trees, which route missing values',
      });
    }
  }
}

/** A binary label that takes one value only cannot be learned from; say so before training. */
export function assertBinaryLabelsVary(data: LabelledMatrix, labelColumn: string): void {
  let positives = 0;
  for (const label of data.labels) positives += label === 1 ? 1 : 0;
  refuseConstantLabel(positives, data.labels.length, labelColumn);
}

function refuseConstantLabel(positives: number, rows: number, labelColumn: string): void {
  if (positives === 0 || positives === rows) {
    throw new LoomError('FAILED_PRECONDITION', `the label column "${labelColumn}" is ${positives === 0 ? 0 : 1} on every one of the ${rows} training rows`, {
      field: 'labelColumn',
      fix: 'check the label expression and the ingest filter: a model needs both outcomes in the training split',
    });
  }
}

/** One slice of a split's rows, as read by `readTransformedChunks`. */
export interface TransformedChunk extends LabelledMatrix {
  /** Index of this chunk's first row in the split. */
  firstRow: number;
}

/** Rows in a split, from the size of its labels file (4 bytes a row), without reading the features. */
export async function countTransformedRows(dir: string, split: 'train' | 'eval'): Promise<number> {
  const info = await stat(join(dir, split, LABELS_FILE)).catch(() => {
    throw new LoomError('FAILED_PRECONDITION', `${join(dir, split)} holds no ${LABELS_FILE}; the transform wrote no ${split} split`);
  });
  if (info.size % 4 !== 0) {
    throw new LoomError('FAILED_PRECONDITION', `${join(dir, split, LABELS_FILE)} is not a float32 file (${info.size} bytes)`, { fix: 'run the transform step again; the file was cut short' });
  }
  return info.size / 4;
}

/**
 * A split's rows in order, `rowsPerChunk` at a time, read from disk chunk by chunk so that
 * training holds one chunk of features, not the whole matrix (a dataset larger than memory
 * trains). Each chunk owns fresh arrays: a caller may keep one while reading the next.
 */
export async function* readTransformedChunks(
  dir: string,
  split: 'train' | 'eval',
  rowsPerChunk = 65_536,
): AsyncGenerator<TransformedChunk, void, void> {
  const { width } = await readTransformedMeta(dir);
  const rows = await countTransformedRows(dir, split);
  const featuresPath = join(dir, split, FEATURES_FILE);
  const featureBytes = (await stat(featuresPath)).size;
  if (featureBytes !== rows * width * 4) {
    throw new LoomError('FAILED_PRECONDITION', `${split}/${FEATURES_FILE} does not hold ${rows} rows of width ${width}`);
  }
  const features = await open(featuresPath, 'r');
  const labels = await open(join(dir, split, LABELS_FILE), 'r').catch(async (error: unknown) => {
    await features.close();
    throw error;
  });
  try {
    for (let firstRow = 0; firstRow < rows; firstRow += rowsPerChunk) {
      const count = Math.min(rowsPerChunk, rows - firstRow);
      const chunk: TransformedChunk = { features: new Float32Array(count * width), labels: new Float32Array(count), width, firstRow };
      await readExactly(features, chunk.features, firstRow * width * 4);
      await readExactly(labels, chunk.labels, firstRow * 4);
      yield chunk;
    }
  } finally {
    await features.close();
    await labels.close();
  }
}

async function readExactly(file: FileHandle, into: Float32Array, position: number): Promise<void> {
  const bytes = new Uint8Array(into.buffer, into.byteOffset, into.byteLength);
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesRead } = await file.read(bytes, offset, bytes.length - offset, position + offset);
    if (bytesRead === 0) throw new LoomError('FAILED_PRECONDITION', `unexpected end of a transformed split file at byte ${position + offset}`);
    offset += bytesRead;
  }
}

/**
 * A split's labels in order, `rowsPerChunk` at a time, without reading its features (4 bytes
 * a row): for the class counts and label checks before a streamed training starts.
 */
export async function* readTransformedLabels(dir: string, split: 'train' | 'eval', rowsPerChunk = 1 << 20): AsyncGenerator<{ labels: Float32Array; firstRow: number }, void, void> {
  const rows = await countTransformedRows(dir, split);
  const labels = await open(join(dir, split, LABELS_FILE), 'r');
  try {
    for (let firstRow = 0; firstRow < rows; firstRow += rowsPerChunk) {
      const chunk = new Float32Array(Math.min(rowsPerChunk, rows - firstRow));
      await readExactly(labels, chunk, firstRow * 4);
      yield { labels: chunk, firstRow };
    }
  } finally {
    await labels.close();
  }
}

/**
 * The part of each chunk that `holdOut` keeps for fitting (`fit`) or holds out (`holdout`),
 * decided by each row's number in the whole split, so streamed and in-memory training hold
 * out the same rows.
 */
export async function* holdOutChunks(chunks: AsyncIterable<TransformedChunk>, every: number, part: 'fit' | 'holdout'): AsyncGenerator<TransformedChunk, void, void> {
  for await (const chunk of chunks) {
    const rows = chunk.labels.length;
    const keep = (i: number) => ((chunk.firstRow + i + 1) % every === 0) === (part === 'holdout');
    let count = 0;
    for (let i = 0; i < rows; i++) if (keep(i)) count++;
    const out: TransformedChunk = { features: new Float32Array(count * chunk.width), labels: new Float32Array(count), width: chunk.width, firstRow: chunk.firstRow };
    let k = 0;
    for (let i = 0; i < rows; i++) {
      if (!keep(i)) continue;
      out.features.set(chunk.features.subarray(i * chunk.width, (i + 1) * chunk.width), k * chunk.width);
      out.labels[k++] = chunk.labels[i];
    }
    yield out;
  }
}

/** `assertBinaryLabelsVary` over a split on disk, reading its labels only; returns the row count. */
export async function assertBinaryLabelsVaryOnDisk(dir: string, split: 'train' | 'eval', labelColumn: string): Promise<number> {
  let positives = 0;
  let rows = 0;
  for await (const { labels } of readTransformedLabels(dir, split)) {
    rows += labels.length;
    for (const label of labels) positives += label === 1 ? 1 : 0;
  }
  refuseConstantLabel(positives, rows, labelColumn);
  return rows;
}

/**
 * The same chunks, with the next one already being read while the caller works on the
 * current one (file reads run on libuv's thread pool, so reading overlaps training). Holds
 * two chunks at a time instead of one.
 */
export async function* prefetched<T>(chunks: AsyncIterable<T>): AsyncGenerator<T, void, void> {
  const iterator = chunks[Symbol.asyncIterator]();
  let pending = iterator.next();
  try {
    for (;;) {
      const next = await pending;
      if (next.done) return;
      pending = iterator.next();
      yield next.value;
    }
  } finally {
    // Closes the source's files when the caller stops early (an error or a break).
    await pending.then(() => iterator.return?.(), () => undefined);
  }
}
