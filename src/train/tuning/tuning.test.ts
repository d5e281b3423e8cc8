import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { isLoomError } from '../../core/errors.js';
import { makeTempDir } from '../../../test/support/flights.js';
import { writeTransformedExamples } from '../../../test/support/transformed-examples.js';
import { createPruner } from './pruners.js';
import { createSampler } from './samplers.js';
import { parseSearchSpace } from './search-space.js';
import { runStudy } from './study.js';

const OBJECTIVE = { module: join(import.meta.dirname, 'trainer-objective.ts'), exportName: 'trainerObjective' };

const SPACE = {
  learningRate: { type: 'loguniform', low: 0.02, high: 0.5 },
  numLeaves: { type: 'int', low: 3, high: 31 },
  minDataInLeaf: { type: 'choice', values: [5, 20, 80] },
};

test('a study tunes gradient-boosted trees on real flights in parallel worker processes and keeps the best model', async (t) => {
  const dir = await makeTempDir((fn) => t.after(fn));
  const { dataDir } = await writeTransformedExamples(dir, 60);
  const outputDir = join(dir, 'trials');
  const ended: number[] = [];
  const study = await runStudy({
    space: SPACE,
    direction: 'minimize',
    sampler: 'tpe',
    pruner: 'median',
    prunerOptions: { startupTrials: 2, warmupSteps: 3 },
    trials: 12,
    parallelism: 2,
    objective: { ...OBJECTIVE, context: { dataDir, outputDir, trainer: 'gbdt', fixed: { numTrees: 25, earlyStoppingRounds: 0 } } },
    onTrial: (trial) => ended.push(trial.number),
  });
  assert.equal(study.trials.length, 12);
  assert.equal(ended.length, 12, 'every trial was reported as it ended');
  assert.equal(study.stoppedBecause, 'trials');
  for (const trial of study.trials) {
    assert.notEqual(trial.state, 'FAILED', trial.error);
    assert.ok(Number(trial.params.learningRate) >= 0.02 && Number(trial.params.learningRate) <= 0.5);
    assert.ok(Number.isInteger(trial.params.numLeaves) && Number(trial.params.numLeaves) >= 3 && Number(trial.params.numLeaves) <= 31);
    assert.ok([5, 20, 80].includes(Number(trial.params.minDataInLeaf)));
    // A pruned trial stops at the step it was judged at (possibly the last); a complete one reports every round.
    assert.deepEqual(trial.intermediate.map(([step]) => step), Array.from({ length: trial.intermediate.length }, (_, i) => i + 1));
    if (trial.state === 'COMPLETE') assert.equal(trial.intermediate.length, 25);
    else assert.ok(trial.intermediate.length <= 25);
  }
  const complete = study.trials.filter((trial) => trial.state === 'COMPLETE');
  assert.equal(study.best?.value, Math.min(...complete.map((trial) => trial.value as number)));
  const modelPath = (study.best?.result as { modelPath: string }).modelPath;
  const session = await ort.InferenceSession.create(modelPath);
  assert.deepEqual(session.outputNames, ['probability']);
  await session.release();
});

test('a study ends at its time budget, and a failing trial is recorded without stopping the study', async (t) => {
  const dir = await makeTempDir((fn) => t.after(fn));
  const { dataDir } = await writeTransformedExamples(dir, 200);
  const study = await runStudy({
    // numLeaves 1 is outside the trainer's range: those trials fail with the trainer's message.
    space: { numLeaves: { type: 'choice', values: [1, 7] } },
    direction: 'minimize',
    sampler: 'random',
    pruner: 'none',
    // A budget no machine finishes in 10 s, so time ends the study (10 s leaves room for some
    // numLeaves 7 trials to finish on a loaded machine: worker processes start slowly there).
    trials: 100_000,
    timeoutSeconds: 10,
    objective: { ...OBJECTIVE, context: { dataDir, outputDir: join(dir, 'trials'), trainer: 'gbdt', fixed: { numTrees: 5 } } },
  });
  assert.equal(study.stoppedBecause, 'time');
  assert.ok(study.trials.length < 100_000);
  const failed = study.trials.filter((trial) => trial.state === 'FAILED');
  assert.ok(failed.length > 0 && failed.every((trial) => trial.params.numLeaves === 1 && /numLeaves/.test(trial.error ?? '')));
  assert.ok(study.best && study.best.params.numLeaves === 7);
});

test('TPE concentrates on the good region of a real loss surface more than random search does', () => {
  // The loss is a known bowl with its minimum at learningRate 0.1 (log scale); after 40 trials
  // TPE's later proposals should sit nearer the minimum than random search's.
  const space = parseSearchSpace({ learningRate: { type: 'loguniform', low: 0.001, high: 1 } });
  const loss = (lr: number) => (Math.log10(lr) + 1) ** 2;
  const distance = (name: 'tpe' | 'random') => {
    const sampler = createSampler(name, 7);
    const history: { params: { learningRate: number }; loss: number }[] = [];
    for (let k = 0; k < 40; k++) {
      const params = sampler.propose(space, history) as { learningRate: number };
      history.push({ params, loss: loss(params.learningRate) });
    }
    const late = history.slice(20);
    return late.reduce((sum, trial) => sum + trial.loss, 0) / late.length;
  };
  assert.ok(distance('tpe') < distance('random') / 2, `tpe ${distance('tpe')} vs random ${distance('random')}`);
});

test('ASHA keeps only the top third at each rung; the median rule stops trials worse than the median', () => {
  const asha = createPruner('asha', { minSteps: 1, eta: 3 });
  // Rung 1 sees losses 0.5, 0.9, 0.1, 0.7: with 3 seen, only the best one continues.
  assert.equal(asha.report(0, 1, 0.5), false);
  assert.equal(asha.report(1, 1, 0.9), true);
  assert.equal(asha.report(2, 1, 0.1), false);
  assert.equal(asha.report(3, 1, 0.7), true);
  assert.equal(asha.report(2, 2, 0.05), false, 'step 2 is not a rung');
  const median = createPruner('median', { startupTrials: 2, warmupSteps: 1 });
  median.report(0, 1, 0.3);
  median.finish(0);
  median.report(1, 1, 0.5);
  median.finish(1);
  assert.equal(median.report(2, 1, 0.6), true);
  assert.equal(median.report(3, 1, 0.2), false);
});

test('a bad search space or study option is refused naming the field', async () => {
  assert.throws(() => parseSearchSpace({ lr: { type: 'uniform', low: 1, high: 0 } }), (e) => isLoomError(e) && e.field === 'lr.high');
  assert.throws(() => parseSearchSpace({ lr: { type: 'normal', low: 0, high: 1 } }), (e) => isLoomError(e) && e.field === 'lr.type');
  await assert.rejects(runStudy({ space: SPACE, direction: 'up' as never, trials: 1, objective: OBJECTIVE }), (e) => isLoomError(e) && e.field === 'direction');
});
