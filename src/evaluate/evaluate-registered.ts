/**
 * Evaluation outside a pipeline, as `loom evaluate` runs it: a registered model version
 * (and a baseline version) on a dataset version or a data file, recorded in the metadata
 * store like a pipeline step. The execution has typed INPUT events (the models'
 * ServingModel artifacts, the Examples) and OUTPUT artifacts (ModelEvaluation with the
 * model card, ModelBlessing), published in one transaction, so `loom lineage` and the
 * dashboard see it. The config is checked against the data before anything is written.
 *
 * Usage: `const done = await evaluateRegisteredModel({ db, artifacts }, { model: 'flights@3', config });`
 */
import { mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { LoomError } from '../core/errors.js';
import type { JsonObject } from '../core/json.js';
import { countRows, readSource, sqlString, withDuckDB } from '../data/duckdb.js';
import { findDatasetVersion } from '../data/versions.js';
import type { LoomDatabase } from '../pipeline/stores.js';
import type { Artifact } from '../metadata/types.js';
import { Examples, ModelBlessing, ModelEvaluation } from '../pipeline/artifact-types.js';
import { runStandaloneStep } from '../pipeline/standalone-step.js';
import type { ModelVersion } from '../registry/types.js';
import { parseModelRef, resolveModelVersion } from '../registry/model-ref.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import { checkConfigAgainstData, type EvaluationConfig } from './config.js';
import { buildReport, spanOf, writeEvaluation, type ArtifactRef, type EvaluationReport } from './report.js';
import { evaluateDataFile, type EvaluationProgress } from './run-evaluation.js';
import { describeColumns } from './scoring.js';

export interface RegisteredEvaluationRequest {
  /** `name@alias` or `name@version`. */
  model: string;
  /** An alias or version of the same model; default `champion` unless that is the model itself; 'none' for no baseline. */
  baseline?: string;
  /** A dataset version (Examples content hash or its prefix, or `#<artifact id>`) or a Parquet/CSV file; default the data the model was trained with. */
  data?: string;
  /** The split of a dataset version; default `eval`. A file is evaluated whole. */
  split?: string;
  config: EvaluationConfig;
  progress?: EvaluationProgress;
}

export interface RegisteredEvaluation {
  report: EvaluationReport;
  executionId: number;
  evaluation: Artifact;
  blessing: Artifact;
  model: ModelVersion;
  baseline?: ModelVersion;
}

interface Services {
  db: LoomDatabase;
  artifacts: ArtifactStore;
}

export async function evaluateRegisteredModel(services: Services, request: RegisteredEvaluationRequest): Promise<RegisteredEvaluation> {
  const { db, artifacts } = services;
  const ref = parseModelRef(request.model);
  const model = await resolveModelVersion(ref, db.registry);
  const baseline = await resolveBaseline(services, model, request.baseline);
  const labelColumn = request.config.labelColumn ?? stringOf(model.properties?.labelColumn) ?? (await labelFromArtifact(db, model));
  if (!labelColumn) {
    throw new LoomError('INVALID_ARGUMENT', `no label column: version ${model.version} of "${model.modelName}" records none`, { field: 'labelColumn', fix: 'pass --label <column>' });
  }
  const data = await resolveData(services, model, request, labelColumn);
  const modelDir = await artifacts.localPath(model.source);
  const baselineDir = baseline ? await artifacts.localPath(baseline.source) : undefined;

  for (const type of [Examples, ModelEvaluation, ModelBlessing]) await db.metadata.putArtifactType(type);
  const examples = data.artifact ?? (await registerFileData(services, data.path));
  const split = data.artifact ? data.split : 'eval';
  const dataPath = join(await artifacts.localPath(examples.uri), split, 'data.parquet');
  const inputs = [
    ...(model.artifactId !== null ? [{ name: 'model', artifactId: model.artifactId }] : []),
    { name: 'examples', artifactId: examples.id },
    ...(baseline?.artifactId != null ? [{ name: 'baseline', artifactId: baseline.artifactId }] : []),
  ];
  const step = {
    typeName: 'evaluate',
    stepName: 'evaluate',
    parameters: { model: request.model, baseline: baseline ? `${baseline.modelName}@${baseline.version}` : null, data: request.data ?? null, split, ...(request.config as unknown as JsonObject) },
    inputs,
  };
  const done = await runStandaloneStep(services, step, ['evaluation', 'blessing'], async ({ executionId, staging }) => {
    const analysis = await evaluateDataFile({
      config: request.config,
      labelColumn,
      dataPath,
      where: data.artifact ? `the ${split} split of dataset ${shortHash(examples)}` : basename(data.path!),
      modelPath: join(modelDir, 'model.onnx'),
      baselinePath: baselineDir ? join(baselineDir, 'model.onnx') : undefined,
      progress: request.progress,
    });
    const report = buildReport(analysis, request.config, {
      model: versionRef(model),
      baseline: baseline ? versionRef(baseline) : undefined,
      data: { uri: examples.uri, split, contentHash: stringOf(examples.properties.contentHash) ?? examples.fingerprint, span: spanOf(examples.properties), source: stringOf(examples.properties.source) },
      labelColumn,
      runId: `evaluate-${executionId}`,
      evaluatedAt: new Date().toISOString(),
    });
    await writeEvaluation(staging.evaluation!, staging.blessing!, report);
    return {
      result: report,
      outputs: {
        evaluation: { typeName: ModelEvaluation.name, properties: { metrics: report.metrics, baselineMetrics: report.baselineMetrics, rowCount: report.rowCount } },
        blessing: { typeName: ModelBlessing.name, properties: { blessed: report.blessing.blessed, reason: report.blessing.reason } },
      },
    };
  });
  return { report: done.result, executionId: done.executionId, evaluation: done.outputs.evaluation!, blessing: done.outputs.blessing!, model, baseline };
}

async function resolveBaseline(services: Services, model: ModelVersion, option: string | undefined): Promise<ModelVersion | undefined> {
  if (option === 'none') return undefined;
  if (option === undefined) {
    // Like a pipeline's p.alias(..., { unlessSameAs }): the champion, unless it is this very version.
    const champion = await services.db.registry.getVersionByAlias(model.modelName, 'champion');
    return champion && champion.version !== model.version && champion.status === 'READY' ? champion : undefined;
  }
  const baseline = await resolveModelVersion(parseModelRef(`${model.modelName}@${option}`), services.db.registry);
  if (baseline.status !== 'READY') {
    throw new LoomError('FAILED_PRECONDITION', `baseline version ${baseline.version} of "${model.modelName}" is ${baseline.status}, not READY`, { field: 'baseline' });
  }
  return baseline;
}

/** The Examples artifact (and split) or the file to evaluate on; the config is checked against its columns here, before anything is written. */
async function resolveData(services: Services, model: ModelVersion, request: RegisteredEvaluationRequest, labelColumn: string): Promise<{ artifact?: Artifact; path?: string; split: string }> {
  const split = request.split ?? 'eval';
  const spec = request.data;
  if (spec && /[/\\.]/.test(spec) && !/^#?\d+$/.test(spec)) {
    checkConfigAgainstData(request.config, labelColumn, await describeColumns(spec).catch(() => missingFile(spec)), basename(spec));
    return { path: spec, split: 'eval' };
  }
  const artifact = spec ? await findExamples(services, spec) : await trainingExamples(services, model);
  const dir = await services.artifacts.localPath(artifact.uri);
  const columns = await describeColumns(join(dir, split, 'data.parquet')).catch(() => {
    throw new LoomError('INVALID_ARGUMENT', `dataset ${shortHash(artifact)} has no split "${split}" (splits: ${JSON.stringify(artifact.properties.splits ?? [])})`, { field: 'split' });
  });
  checkConfigAgainstData(request.config, labelColumn, columns, `the ${split} split`);
  return { artifact, split };
}

/** A dataset version by `#<artifact id>` or by its content hash (or a unique prefix), as `loom data ls` lists them. */
async function findExamples(services: Services, spec: string): Promise<Artifact> {
  const id = /^#?\d+$/.test(spec) ? Number(spec.replace('#', '')) : (await findDatasetVersion(services.db, spec)).id;
  const [artifact] = await services.db.metadata.getArtifacts([id]);
  if (artifact?.typeName === Examples.name) return artifact;
  throw new LoomError('NOT_FOUND', `no dataset version "${spec}"`, { field: 'data', fix: 'give a dataset version from `loom data ls`, `#<artifact id>`, or a Parquet/CSV file path' });
}

/** The Examples the model was trained on, found through lineage. */
async function trainingExamples(services: Services, model: ModelVersion): Promise<Artifact> {
  if (model.artifactId === null) {
    throw new LoomError('FAILED_PRECONDITION', `version ${model.version} of "${model.modelName}" has no artifact, so no training data to evaluate on`, { field: 'data', fix: 'pass --data <dataset version or file>' });
  }
  const graph = await services.db.metadata.lineage(model.artifactId, { direction: 'upstream', maxHops: 30 });
  const examples = graph.artifacts.filter((a) => a.typeName === Examples.name).sort((a, b) => b.id - a.id)[0];
  if (!examples) throw new LoomError('NOT_FOUND', `no dataset in the lineage of "${model.modelName}" version ${model.version}`, { field: 'data', fix: 'pass --data <dataset version or file>' });
  return examples;
}

/** Copies a file into the artifact store as a one-split Examples artifact, so the evaluation's data is versioned too. */
async function registerFileData(services: Services, path: string | undefined): Promise<Artifact> {
  const stage = await services.artifacts.stage();
  try {
    await mkdir(join(stage, 'eval'));
    const target = join(stage, 'eval', 'data.parquet');
    await withDuckDB((db) => db.run(`COPY (SELECT * FROM ${readSource(path!)}) TO ${sqlString(target)} (FORMAT PARQUET)`));
    const columns = await describeColumns(target);
    const rows = await countRows(target);
    const committed = await services.artifacts.commit(stage);
    const [artifact] = await services.db.metadata.putArtifacts([
      {
        typeName: Examples.name,
        uri: committed.uri,
        fingerprint: committed.fingerprint,
        properties: {
          splits: ['eval'],
          rowCounts: { eval: rows },
          columns: columns.map((c) => ({ name: c.name, type: c.type })),
          source: path!,
          sourceKind: /\.csv$/i.test(path!) ? 'csv' : /\.(nd)?jsonl?$/i.test(path!) ? 'ndjson' : 'parquet',
          files: [path!],
          span: 0,
          contentHash: committed.fingerprint,
        },
      },
    ]);
    return artifact!;
  } finally {
    await services.artifacts.discard(stage);
  }
}

async function labelFromArtifact(db: LoomDatabase, model: ModelVersion): Promise<string | undefined> {
  if (model.artifactId === null) return undefined;
  const [artifact] = await db.metadata.getArtifacts([model.artifactId]);
  return stringOf(artifact?.properties.labelColumn);
}

function versionRef(version: ModelVersion): ArtifactRef {
  return {
    uri: version.source,
    artifactId: version.artifactId ?? undefined,
    name: version.modelName,
    version: version.version,
    lineage: [
      ...(version.runId ? [{ type: 'pipeline run', uri: version.runId, note: 'the run that registered it' }] : []),
      ...Object.entries(version.lineage?.dataVersions ?? {}).map(([role, uri]) => ({ type: `data (${role})`, uri })),
      ...(version.lineage?.transformUri ? [{ type: 'TransformGraph', uri: version.lineage.transformUri }] : []),
      ...(version.lineage?.modelUri ? [{ type: 'Model', uri: version.lineage.modelUri }] : []),
    ],
  };
}

function missingFile(path: string): never {
  throw new LoomError('NOT_FOUND', `cannot read data file ${path}`, { field: 'data', fix: 'give an existing Parquet or CSV file, or a dataset version' });
}

function shortHash(artifact: Artifact): string {
  return (stringOf(artifact.properties.contentHash) ?? artifact.fingerprint).slice(0, 12);
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' && value ? value : undefined;
}
