/**
 * Runs a transform graph over one split's Parquet file and streams the result to the
 * TransformedExamples layout: `features.f32` (row-major float32, little-endian, rows x
 * width) and `labels.f32` (float32 per row) in `splitDir`. One batch is in memory at a time.
 *
 * Labels become float32: booleans 0/1, numbers as they are, missing as NaN (trainers
 * decide whether they accept that).
 *
 * Usage: `const { rowCount } = await applyTransform({ graphPath, parquetPath, splitDir, labelColumn: 'delayed' });`
 */
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { LoomError } from '../core/errors.js';
import { runModelOverParquet } from '../data/batch-runner.js';
import { FEATURES_OUTPUT } from './graph.js';

export const FEATURES_FILE = 'features.f32';
export const LABELS_FILE = 'labels.f32';

export interface ApplyTransformOptions {
  graphPath: string;
  parquetPath: string;
  /** Directory of the split, created if missing. */
  splitDir: string;
  labelColumn: string;
  batchSize?: number;
  progress?: { advance(n: number): void };
}

export interface AppliedSplit {
  rowCount: number;
  width: number;
}

export async function applyTransform(options: ApplyTransformOptions): Promise<AppliedSplit> {
  await mkdir(options.splitDir, { recursive: true });
  const featuresFile = await open(join(options.splitDir, FEATURES_FILE), 'w');
  const labelsFile = await open(join(options.splitDir, LABELS_FILE), 'w').catch(async (error: unknown) => {
    await featuresFile.close();
    throw error;
  });
  let width = -1;
  let rowsSeen = 0;
  try {
    const { rowCount } = await runModelOverParquet(options.graphPath, options.parquetPath, {
      batchSize: options.batchSize,
      extraColumns: [options.labelColumn],
      progress: options.progress,
      onBatch: async ({ rowCount: rows, outputs, extra }) => {
        const features = outputs[FEATURES_OUTPUT];
        if (!features) throw new LoomError('INVALID_ARGUMENT', `${options.graphPath} has no output "${FEATURES_OUTPUT}"`);
        width = features.length / rows;
        const labels = toLabels(options.labelColumn, extra[options.labelColumn], rowsSeen);
        rowsSeen += rows;
        await writeAll(featuresFile, features);
        await writeAll(labelsFile, labels);
      },
    });
    return { rowCount, width: Math.max(width, 0) };
  } finally {
    await featuresFile.close();
    await labelsFile.close();
  }
}


function toLabels(column: string, values: ArrayLike<unknown> | undefined, firstRow: number): Float32Array {
  const count = values?.length ?? 0;
  const labels = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const value = values![i];
    if (typeof value === 'number') labels[i] = value;
    else if (typeof value === 'boolean') labels[i] = value ? 1 : 0;
    else if (typeof value === 'bigint') labels[i] = Number(value);
    else if (value === null || value === undefined) labels[i] = NaN;
    else {
      throw new LoomError('INVALID_ARGUMENT', `label column "${column}" must be numeric or boolean; row ${firstRow + i + 1} holds ${typeof value === 'string' ? JSON.stringify(value) : typeof value}`, {
        field: 'labelColumn',
        fix: 'derive a numeric or boolean label in SQL (e.g. delay > 15 AS delayed)',
      });
    }
  }
  return labels;
}

async function writeAll(file: FileHandle, data: Float32Array): Promise<void> {
  // Node runs on little-endian hosts, so the array's bytes are already the file's layout.
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await file.write(bytes, offset, bytes.length - offset);
    offset += bytesWritten;
  }
}
