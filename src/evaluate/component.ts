/**
 * The evaluate step (TFX Evaluator): scores the evaluation split once with the candidate
 * ServingModel (and the champion, when there is one), then hands the scores to the pure
 * analysis core for metrics, slices, fairness, bootstrap intervals, thresholds and the
 * blessing, and writes evaluation.json, the model card and blessing.json.
 *
 * Usage:
 *   p.step('evaluate', evaluateComponent, {
 *     inputs: { model, examples, baseline: p.alias('flights', 'champion', { unlessSameAs: model }) },
 *     parameters: { slices: [{ columns: [{ feature: 'hour' }] }], thresholds: [{ metric: 'auc', change: { absolute: 0 } }] },
 *   });
 */
import { z } from 'zod';
import { LoomError } from '../core/errors.js';
import type { JsonObject } from '../core/json.js';
import { Examples, ModelBlessing, ModelEvaluation, ServingModel } from '../pipeline/artifact-types.js';
import { defineComponent, type ExecutorResult, type ExecutorServices, type InputArtifact } from '../pipeline/component.js';
import { checkConfig, evaluationConfigFields, type EvaluationConfig } from './config.js';
import type { ModelAnalysis } from './evaluator.js';
import { buildReport, spanOf, writeEvaluation, type ArtifactRef, type EvaluationReport } from './report.js';
import { evaluateDataFile, type EvaluationProgress } from './run-evaluation.js';

export const evaluateParameters = evaluationConfigFields.extend({ split: z.string().min(1).default('eval') }).superRefine(checkConfig);
export type EvaluateParameters = z.output<typeof evaluateParameters>;
export type { EvaluationReport };

export const evaluateComponent = defineComponent({
  name: 'evaluate',
  version: '3',
  description: 'Scores the candidate (and the champion) on the evaluation split: metrics, slices, fairness, thresholds, blessing and model card',
  inputs: {
    model: { type: ServingModel },
    examples: { type: Examples },
    baseline: { type: ServingModel, optional: true },
  },
  outputs: { evaluation: ModelEvaluation, blessing: ModelBlessing },
  parameters: evaluateParameters,
  async execute({ inputs, outputs, parameters, run }, services) {
    const { split, ...config } = parameters;
    const labelColumn = config.labelColumn ?? stringProperty(inputs.model.properties, 'labelColumn');
    if (!labelColumn) {
      throw new LoomError('INVALID_ARGUMENT', 'no label column: the model has no labelColumn property and none was given', {
        field: 'labelColumn',
        fix: 'set the evaluate parameter labelColumn',
      });
    }
    return evaluateInto(outputs, services, {
      config: config as EvaluationConfig,
      labelColumn,
      examples: inputs.examples,
      split,
      where: `the ${split} split`,
      model: { path: inputs.model.path, ref: artifactRef(inputs.model) },
      baseline: inputs.baseline && { path: inputs.baseline.path, ref: artifactRef(inputs.baseline) },
      runId: run?.runId ?? '',
    });
  },
});

/** What one evaluation reads: the models by directory and how the report names them, and the data. */
export interface EvaluationTarget {
  config: EvaluationConfig;
  labelColumn: string;
  examples: InputArtifact;
  split: string;
  /** The data as messages name it: "the eval split", a file's name. */
  where: string;
  model: { path: string; ref: ArtifactRef };
  baseline?: { path: string; ref: ArtifactRef };
  runId: string;
}

/**
 * The evaluation both evaluate steps run (a pipeline's, and `loom evaluate`'s on registered
 * versions): score, analyse, write evaluation.json, the model card and blessing.json.
 */
export async function evaluateInto(
  outputs: { evaluation: string; blessing: string },
  services: ExecutorServices,
  target: EvaluationTarget,
): Promise<ExecutorResult<{ evaluation: typeof ModelEvaluation; blessing: typeof ModelBlessing }>> {
  const { config, examples, split } = target;
  const progress: EvaluationProgress = {
    log: services.log,
    start: (what, rows) => services.progress.start(what, rows, 'rows'),
  };
  const analysis: ModelAnalysis = await evaluateDataFile({
    config,
    labelColumn: target.labelColumn,
    dataPath: Examples.files.split(examples.path, split),
    where: target.where,
    modelPath: ServingModel.files.model(target.model.path),
    baselinePath: target.baseline ? ServingModel.files.model(target.baseline.path) : undefined,
    progress,
  });
  const report = buildReport(analysis, config, {
    model: target.model.ref,
    baseline: target.baseline?.ref,
    data: {
      uri: examples.uri,
      split,
      contentHash: stringProperty(examples.properties, 'contentHash') ?? examples.fingerprint,
      span: spanOf(examples.properties),
      source: stringProperty(examples.properties, 'source'),
    },
    labelColumn: target.labelColumn,
    runId: target.runId,
    evaluatedAt: new Date().toISOString(),
  });
  await writeEvaluation(outputs.evaluation, outputs.blessing, report);
  services.log(report.blessing.reason);
  return {
    properties: {
      evaluation: { metrics: report.metrics, baselineMetrics: report.baselineMetrics, rowCount: report.rowCount },
      blessing: { blessed: report.blessing.blessed, reason: report.blessing.reason },
    },
  };
}

function artifactRef(artifact: InputArtifact): ArtifactRef {
  return { uri: artifact.uri, artifactId: artifact.id };
}

function stringProperty(properties: JsonObject, name: string): string | undefined {
  const value = properties[name];
  return typeof value === 'string' && value ? value : undefined;
}
