/**
 * The flights pipeline with gradient-boosted trees instead of logistic regression, saving a
 * checkpoint every 10 rounds: `loom run examples/flights/gbdt-pipeline.ts`. A run killed
 * part-way continues from its last checkpoint when run again (or with `loom train --resume <run id>`).
 */
import type { Pipeline } from 'loom-mlops';
import { flightsPipeline } from './pipeline.js';

export default function (): Pipeline {
  return flightsPipeline({ trainer: { algorithm: 'gbdt', numTrees: 100, numLeaves: 31, learningRate: 0.1, checkpointEvery: 10, seed: 7 } });
}
