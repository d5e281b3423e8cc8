/**
 * Synthetic transformed data for the streamed-training tests, and the child process that
 * trains on it (test/e2e/support/train-streamed-child.ts).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { FEATURES_FILE, LABELS_FILE } from '../../../src/transform/apply.js';
import { TRANSFORMED_META_FILE } from '../../../src/transform/component.js';

const CHILD = fileURLToPath(new URL('./train-streamed-child.ts', import.meta.url));

export const WIDTH = 32;
export const CHUNK_ROWS = 65_536;

/** One block of rows: random features in [-1, 1), label 1 when x0 + 0.5 x1 - x2 > 0. */
export function block(seed: number): { features: Float32Array; labels: Float32Array } {
  const features = new Float32Array(CHUNK_ROWS * WIDTH);
  const labels = new Float32Array(CHUNK_ROWS);
  let state = seed;
  for (let i = 0; i < features.length; i++) features[i] = ((state = (state * 48271) % 2147483647) / 2147483647) * 2 - 1;
  for (let i = 0; i < CHUNK_ROWS; i++) labels[i] = features[i * WIDTH] + 0.5 * features[i * WIDTH + 1] - features[i * WIDTH + 2] > 0 ? 1 : 0;
  return { features, labels };
}

async function writeSplit(dir: string, blocks: number, firstSeed: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  const features = await open(join(dir, FEATURES_FILE), 'w');
  const labels = await open(join(dir, LABELS_FILE), 'w');
  try {
    // Eight distinct blocks repeated: the file is large without spending the test's time on random numbers.
    const distinct = Array.from({ length: Math.min(blocks, 8) }, (_, k) => block(firstSeed + k));
    for (let b = 0; b < blocks; b++) {
      await features.write(distinct[b % distinct.length]!.features);
      await labels.write(distinct[b % distinct.length]!.labels);
    }
  } finally {
    await features.close();
    await labels.close();
  }
}

/** A TransformedExamples directory: `blocks` blocks of training rows and one of eval rows. */
export async function writeTransformed(dir: string, blocks: number): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, TRANSFORMED_META_FILE), JSON.stringify({ width: WIDTH, featureNames: Array.from({ length: WIDTH }, (_, j) => `x${j}`) }));
  await writeSplit(join(dir, 'train'), blocks, 1);
  await writeSplit(join(dir, 'eval'), 1, 100);
  return dir;
}

export interface ChildResult {
  beforeBytes: number;
  peakBytes: number;
  model: { lossPerEpoch: number[]; training: Record<string, unknown> };
}

function childArgs(data: string, modelDir: string, parameters: object, checkpointDir?: string): string[] {
  return ['--import', 'tsx', CHILD, data, modelDir, JSON.stringify(parameters), ...(checkpointDir ? [checkpointDir] : [])];
}

/** Trains in a child process; with `checkpointDir`, it checkpoints there and resumes from what it finds there. */
export async function runTrainChild(data: string, modelDir: string, parameters: object, checkpointDir?: string): Promise<ChildResult & { log: string }> {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, childArgs(data, modelDir, parameters, checkpointDir), { maxBuffer: 1 << 24 });
  return { ...(JSON.parse(stdout) as ChildResult), log: stderr };
}

/** The same child, started and left running (to be killed). */
export function spawnTrainChild(data: string, modelDir: string, parameters: object, checkpointDir: string): ChildProcess {
  return spawn(process.execPath, childArgs(data, modelDir, parameters, checkpointDir), { stdio: 'ignore' });
}
