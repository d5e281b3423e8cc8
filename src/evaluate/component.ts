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
import { join } from 'node:path';
import { z } from 'zod';
import { LoomError } from '../core/errors.js';
import type { JsonObject } from '../core/json.js';
import { Examples, ModelBlessing, ModelEvaluation, ServingModel } from '../pipeline/artifact-types.js';
import { defineComponent, type InputArtifact } from '../pipeline/component.js';
import { checkConfig, evaluationConfigFields, type EvaluationConfig } from './config.js';
import type { ModelAnalysis } from './evaluator.js';
import { buildReport, spanOf, writeEvaluation, type ArtifactRef, type EvaluationReport } from './report.js';
import { evaluateDataFile, type EvaluationProgress } from './run-evaluation.js';

export const evaluateParameters = evaluationConfigFields.extend({ split: z.string().min(1).default('eval') }).superRefine(checkConfig);
export type EvaluateParameters = z.output<typeof evaluateParameters>;
export type { EvaluationReport };

export const evaluateComponent = defineComponent({
  name: 'evaluate',
  version: '2',
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
    const progress: EvaluationProgress = {
      log: services.log,
      start: (what, rows) => services.progress.start(what, rows, 'rows'),
    };
    const analysis: ModelAnalysis = await evaluateDataFile({
      config: config as EvaluationConfig,
      labelColumn,
      dataPath: join(inputs.examples.path, split, 'data.parquet'),
      where: `the ${split} split`,
      modelPath: join(inputs.model.path, 'model.onnx'),
      baselinePath: inputs.baseline ? join(inputs.baseline.path, 'model.onnx') : undefined,
      progress,
    });
    const report = buildReport(analysis, config as EvaluationConfig, {
      model: artifactRef(inputs.model),
      baseline: inputs.baseline ? artifactRef(inputs.baseline) : undefined,
      data: {
        uri: inputs.examples.uri,
        split,
        contentHash: stringProperty(inputs.examples.properties, 'contentHash') ?? inputs.examples.fingerprint,
        span: spanOf(inputs.examples.properties),
        source: stringProperty(inputs.examples.properties, 'source'),
      },
      labelColumn,
      runId: run?.runId ?? '',
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
  },
});

function artifactRef(artifact: InputArtifact): ArtifactRef {
  return { uri: artifact.uri, artifactId: artifact.id };
}

function stringProperty(properties: JsonObject, name: string): string | undefined {
  const value = properties[name];
  return typeof value === 'string' && value ? value : undefined;
}
