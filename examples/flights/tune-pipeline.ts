/**
 * The flights pipeline with a tuning study in place of the train step: TPE over the
 * gradient-boosted trees' learning rate, leaves and leaf size, trials in parallel worker
 * processes, poor trials stopped early by the median rule. The best trial's model is
 * composed, evaluated and pushed like any trained model.
 * `loom tune examples/flights/tune-pipeline.ts --trials 20 --parallel 2`
 */
import type { Pipeline } from 'loom-mlops';
import { flightsPipeline } from './pipeline.js';

export default function (): Pipeline {
  return flightsPipeline({
    tune: {
      trainer: 'gbdt',
      space: {
        learningRate: { type: 'loguniform', low: 0.03, high: 0.3 },
        numLeaves: { type: 'int', low: 7, high: 63 },
        minDataInLeaf: { type: 'choice', values: [20, 100, 500] },
      },
      fixed: { numTrees: 60, earlyStoppingRounds: 0 },
      trials: 10,
      parallelism: 2,
    },
  });
}
