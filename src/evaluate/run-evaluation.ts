/**
 * Evaluates a model file on a data file: checks the config against the file's columns
 * (nothing runs if a name is wrong), scores the candidate and the baseline once each,
 * and analyses. The evaluate component and `loom evaluate` both call this.
 *
 * Usage: `const analysis = await evaluateDataFile({ config, labelColumn, dataPath, where, modelPath, baselinePath });`
 */
import { LoomError } from '../core/errors.js';
import { countRows } from '../data/duckdb.js';
import type { ProgressTask } from '../core/progress.js';
import { checkConfigAgainstData, featureColumns, type EvaluationConfig } from './config.js';
import { analyzeModel, type ModelAnalysis } from './evaluator.js';
import { describeColumns, scoreEvaluationData, type ScoredData } from './scoring.js';

export interface EvaluationProgress {
  log(line: string): void;
  start(what: string, rows: number): ProgressTask;
}

export interface EvaluateFileRequest {
  config: EvaluationConfig;
  labelColumn: string;
  dataPath: string;
  /** How errors name the data ("the eval split", a file name). */
  where: string;
  modelPath: string;
  baselinePath?: string;
  progress?: EvaluationProgress;
}

export async function evaluateDataFile(request: EvaluateFileRequest): Promise<ModelAnalysis> {
  const { config, labelColumn, dataPath } = request;
  checkConfigAgainstData(config, labelColumn, await describeColumns(dataPath), request.where);
  const rowCount = await countRows(dataPath);
  const score = async (modelPath: string, what: string): Promise<ScoredData> => {
    request.progress?.log(`scoring ${what} on ${request.where} (${rowCount} rows, label "${labelColumn}")`);
    const task = request.progress?.start(`scoring ${what}`, rowCount);
    try {
      return await scoreEvaluationData(modelPath, dataPath, {
        task: config.task,
        predictionOutput: config.predictionOutput,
        labelColumn,
        weightColumn: config.weightColumn,
        features: featureColumns(config),
        progress: task,
      });
    } finally {
      task?.done();
    }
  };
  const candidate = await score(request.modelPath, 'the candidate');
  let baseline: ScoredData | undefined;
  if (request.baselinePath) {
    baseline = await score(request.baselinePath, 'the baseline').catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      throw new LoomError('FAILED_PRECONDITION', `the baseline model could not be run on ${request.where}: ${message}`, {
        fix: 'the baseline expects other features; evaluate without a baseline or on data it accepts',
      });
    });
  }
  return analyzeModel({ config, candidate: candidate.predictions, baseline: baseline?.predictions, features: candidate.features });
}
