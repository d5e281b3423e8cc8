/**
 * Online quality of a served binary classifier, from its stores: the version's offline
 * evaluation found through lineage (the `evaluate` execution that took the registered
 * artifact as its `model`), the estimator fitted on that evaluation's split (the model
 * scores it again: the scores are not stored), the prediction log cut into the monitor's
 * windows, and the labels that have arrived.
 *
 * A label is joined by request id. A request that carried several rows has one id for all
 * of them, so its label cannot say which row it belongs to: such requests are counted
 * (`multiRowRequests`) and left out of the measured figures, never guessed.
 *
 * Usage: `const report = await onlineQuality(platform, location, { ref: 'flights@champion', window: { kind: 'daily' } })`
 */
import { readFile } from 'node:fs/promises';
import { LoomError } from '../core/errors.js';
import { sqlString } from '../data/duckdb.js';
import { withSharedDuckDB } from '../data/duckdb-shared.js';
import { slicingSpecName } from '../evaluate/config.js';
import type { EvaluationReport } from '../evaluate/report.js';
import { scoreEvaluationData } from '../evaluate/scoring.js';
import type { MetadataStore } from '../metadata/store.js';
import { Examples, ModelEvaluation, ServingModel } from '../pipeline/artifact-types.js';
import { parseModelRef, resolveModelVersion } from '../registry/model-ref.js';
import type { RegistryStore } from '../registry/store.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import { fitCbpe } from './cbpe.js';
import type { FitStore } from './fit-store.js';
import { CBPE_FIT } from './fit-store-formats.js';
import type { LabelStore } from './label-store.js';
import { openLogProfiles } from './log-profiles.js';
import { openPredictionLog, type PredictionLogLocation, type PredictionLogRole } from './prediction-log-reader.js';
import type { QualityHistoryRow } from './history-store.js';
import { QUALITY_METRICS, scoredWindowQuality, type WindowQuality } from './quality.js';
import { versionFits } from './version-fits.js';
import { readQualityRows } from './quality-rows.js';
import { loggedValue, structFieldsOf } from './logged-fields.js';
import { windowKindName, type WindowSpec } from './windows.js';

export interface QualityStores {
  registry: RegistryStore;
  metadata: MetadataStore;
  artifacts: ArtifactStore;
  labels: LabelStore;
  /** Where the version's estimator is kept for later processes; without it, for this process only. */
  monitorFits?: FitStore;
}

export interface QualityRequest {
  /** `name`, `name@alias` or `name@version`. */
  ref: string;
  window: WindowSpec;
  /** Epoch ms, [from, to). */
  from?: number;
  to?: number;
  /** The roles whose rows are read; default primary and canary (a shadow's answers reach no one). */
  roles?: readonly PredictionLogRole[];
}

export interface QualityReport {
  model: string;
  version: number;
  evaluation: { artifactId: number; split: string; rows: number; threshold: number };
  /** Whether the estimator calibrates the scores (isotonic, fitted on the evaluation split). */
  calibrated: boolean;
  windows: (WindowQuality & { start: number; end: number })[];
  /** Requests of several rows: their labels are not joined. */
  multiRowRequests: number;
}

export async function onlineQuality(stores: QualityStores, log: PredictionLogLocation, request: QualityRequest): Promise<QualityReport> {
  const version = await resolveModelVersion(parseModelRef(request.ref), stores.registry);
  const found = await findEvaluation(stores.metadata, version.artifactId, `${version.modelName} version ${version.version}`);
  const report = JSON.parse(await readFile(ModelEvaluation.files.evaluation(await stores.artifacts.localPath(found.evaluation.uri)), 'utf8')) as EvaluationReport;
  if (report.task !== 'binary') {
    throw new LoomError('FAILED_PRECONDITION', `${version.modelName} is a ${report.task} model; quality is estimated and measured online for binary classifiers`, {
      fix: 'watch drift with `loom monitor drift` instead',
    });
  }
  const { config } = report;
  const modelPath = ServingModel.files.model(await stores.artifacts.localPath(version.source));
  const evalPath = Examples.files.split(await stores.artifacts.localPath(found.examples.uri), report.split);
  // Scoring the evaluation split and calibrating on it is per version: the first window pays, later ones reuse it.
  const fits = versionFits.scope('quality', version.modelName, JSON.stringify([version.version, found.evaluation.id, modelPath, evalPath, config.decisionThreshold]), stores.monitorFits);
  const estimator = await fits.get('cbpe', async () => {
    const reference = await scoreEvaluationData(modelPath, evalPath, { task: 'binary', predictionOutput: config.predictionOutput, labelColumn: report.labelColumn, features: [] });
    return fitCbpe(reference.predictions.scores, reference.predictions.labels, { threshold: config.decisionThreshold });
  }, CBPE_FIT);

  const sliceFeatures = [...new Set(config.slices.flatMap((s) => s.columns.map((c) => c.feature)))];
  // The windows' scores counted and the labelled rows alone read whole; a columnar log's STRUCT fields read as they are (no JSON per row).
  // On the process's engine: a server runs this on every scrape and canary check.
  const { labelled, windows, multiRowRequests } = await withSharedDuckDB(async (db) => {
    const opened = await openPredictionLog(db, log, { model: version.modelName, version: version.version, roles: request.roles ?? ['primary', 'canary'], from: request.from, to: request.to });
    const profiles = await openLogProfiles(db, opened);
    try {
      const structs = await structFieldsOf(db, opened.relation, ['features', 'outputs']);
      const [featureFields, outputFields] = [structs.get('features'), structs.get('outputs')];
      // The profiles count a numeric output field as the score reads it (a DOUBLE); a score read from JSON text is scanned.
      const fieldType = outputFields?.get(config.predictionOutput);
      const numeric = fieldType !== undefined && PROFILED_SCORE_FIELDS.has(fieldType);
      return await readQualityRows(db, opened.relation, stores.labels, {
        model: version.modelName,
        window: request.window,
        score: loggedValue('outputs', outputFields, config.predictionOutput, 'FLOAT'),
        features: Object.fromEntries(sliceFeatures.map((f) => [f, sliceValue(featureFields, f)])),
        ...(profiles && numeric && { profiled: { profiles, output: config.predictionOutput, fieldType } }),
      });
    } finally {
      await profiles?.close();
      await opened.close();
    }
  });
  const quality = scoredWindowQuality(
    labelled,
    windows,
    {
      estimator,
      slices: config.slices.map((spec) => ({ name: slicingSpecName(spec), columns: spec.columns })),
      offline: { metrics: report.metrics, slices: report.slices },
      minSliceSize: config.minSliceSize,
    },
  );
  return {
    model: version.modelName,
    version: version.version,
    evaluation: { artifactId: found.evaluation.id, split: report.split, rows: estimator.referenceRows, threshold: config.decisionThreshold },
    calibrated: estimator.calibration !== undefined,
    windows: quality.map((w, k) => ({ ...w, start: windows[k]!.start, end: windows[k]!.end })),
    multiRowRequests,
  };
}

/** A report's figures as the monitoring history keeps them: each window's estimated and measured metrics. */
export function qualityHistoryRows(report: QualityReport, window: WindowSpec): Omit<QualityHistoryRow, 'recordedAt'>[] {
  const windowKind = windowKindName(window);
  return report.windows.flatMap((w) =>
    (['estimated', 'measured'] as const).flatMap((kind) =>
      kind === 'measured' && w.measured === null
        ? []
        : QUALITY_METRICS.map((metric) => {
            const value = (kind === 'estimated' ? w.estimated : w.measured!)[metric];
            return { model: report.model, version: report.version, windowKind, start: w.start, end: w.end, rows: w.rows, labelled: w.labelled, kind, metric, value: Number.isFinite(value) ? value : null };
          }),
    ),
  );
}

/** The newest complete evaluation that took this artifact as its model, with its examples. */
async function findEvaluation(metadata: MetadataStore, artifactId: number | null, what: string): Promise<{ evaluation: { id: number; uri: string }; examples: { id: number; uri: string } }> {
  const missing = () =>
    new LoomError('FAILED_PRECONDITION', `${what} has no evaluation in lineage, so there is nothing to calibrate the estimate on or compare with`, {
      fix: 'evaluate it (`loom evaluate`) or register it through a pipeline with an evaluate step',
    });
  if (artifactId === null) throw missing();
  const asModel = (await metadata.getEvents({ artifactIds: [artifactId] })).filter((e) => e.type === 'INPUT' && e.name === 'model');
  const executionIds = [...new Set(asModel.map((e) => e.executionId))].sort((a, b) => b - a);
  for (const id of executionIds) {
    const execution = await metadata.getExecution(id);
    if (!execution || execution.state !== 'COMPLETE') continue;
    const events = await metadata.getEvents({ executionIds: [id] });
    const evaluation = events.find((e) => e.type === 'OUTPUT' && e.name === 'evaluation');
    const examples = events.find((e) => e.type === 'INPUT' && e.name === 'examples');
    if (!evaluation || !examples) continue;
    const [evaluationArtifact, examplesArtifact] = await metadata.getArtifacts([evaluation.artifactId, examples.artifactId]).then((list) => [list.find((a) => a.id === evaluation.artifactId), list.find((a) => a.id === examples.artifactId)]);
    if (evaluationArtifact?.typeName === ModelEvaluation.name && examplesArtifact) return { evaluation: evaluationArtifact, examples: examplesArtifact };
  }
  throw missing();
}

/**
 * A logged feature's value for slicing: a columnar log's scalar STRUCT field as it is, else
 * its JSON text (`readQualityRows` reads either as a number or text).
 */
function sliceValue(fields: Map<string, string> | undefined, name: string): string {
  if (!fields) return `(features ->> ${sqlString(name)})`;
  const type = fields.get(name);
  if (type === undefined) return 'NULL';
  return SCALAR_FIELDS.has(type) ? `struct_extract(features, ${sqlString(name)})` : `(features ->> ${sqlString(name)})`;
}

/** Output field types whose profile counts equal the score `loggedValue` reads (a DOUBLE), log-profiles.ts. */
const PROFILED_SCORE_FIELDS = new Set(['DOUBLE', 'BIGINT', 'UBIGINT']);

const SCALAR_FIELDS = new Set(['VARCHAR', 'BIGINT', 'UBIGINT', 'INTEGER', 'DOUBLE', 'FLOAT', 'BOOLEAN']);

