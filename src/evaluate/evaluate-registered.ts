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
import { mkdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { LoomError } from '../core/errors.js';
import { countRows, readSource, sqlString, withDuckDB } from '../data/duckdb.js';
import { findDatasetVersion } from '../data/versions.js';
import type { LoomDatabase } from '../pipeline/stores.js';
import type { Artifact } from '../metadata/types.js';
import { Examples, Model, ModelEvaluation, TransformGraph, typeRecord } from '../pipeline/artifact-types.js';
import { readCodeVersion } from '../pipeline/code-version.js';
import { standaloneScope } from '../pipeline/run-scope.js';
import { createStepRunner, type StepRunner } from '../pipeline/step-runner.js';
import type { ModelVersion } from '../registry/types.js';
import { parseModelRef, resolveModelVersion } from '../registry/model-ref.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import { checkConfigAgainstData, type EvaluationConfig } from './config.js';
import { registeredEvaluationComponent } from './registered-component.js';
import type { ArtifactRef, EvaluationReport } from './report.js';
import type { EvaluationProgress } from './run-evaluation.js';
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
  /** The platform's runner; one over `db` and `artifacts` when left out. */
  runner?: StepRunner;
}

export async function evaluateRegisteredModel(services: Services, request: RegisteredEvaluationRequest): Promise<RegisteredEvaluation> {
  const { db } = services;
  const ref = parseModelRef(request.model);
  const model = await resolveModelVersion(ref, db.registry);
  const baseline = await resolveBaseline(services, model, request.baseline);
  const labelColumn = request.config.labelColumn ?? stringOf(model.properties?.labelColumn) ?? (await labelFromArtifact(db, model));
  if (!labelColumn) {
    throw new LoomError('INVALID_ARGUMENT', `no label column: version ${model.version} of "${model.modelName}" records none`, { field: 'labelColumn', fix: 'pass --label <column>' });
  }
  const data = await resolveData(services, model, request, labelColumn);
  const examples = data.artifact ?? (await registerFileData(services, data.path));
  const split = data.artifact ? data.split : 'eval';
  const runner = services.runner ?? createStepRunner({ metadata: db.metadata, registry: db.registry, tracking: db.tracking, artifacts: services.artifacts });
  const inputsOf = async (version: ModelVersion | undefined) => (version?.artifactId != null ? (await db.metadata.getArtifacts([version.artifactId]))[0] : undefined);
  const outcome = await runner.run({
    component: registeredEvaluationComponent,
    stepName: 'evaluate',
    inputs: { examples, model: await inputsOf(model), baseline: await inputsOf(baseline) },
    parameters: {
      ...request.config,
      labelColumn,
      split,
      where: data.artifact ? `the ${split} split of dataset ${shortHash(examples)}` : basename(data.path!),
      model: { source: model.source, ref: await versionRef(db, model) },
      baseline: baseline ? { source: baseline.source, ref: await versionRef(db, baseline) } : null,
    },
    run: standaloneScope('evaluate', readCodeVersion(process.cwd())),
    // `loom evaluate` always evaluates (and records) again.
    cache: false,
    progress: request.progress && { start: (what, total) => request.progress!.start(what, total) },
    log: request.progress && ((line) => request.progress!.log(line.replace(/^ {2}· /, ''))),
  });
  if (outcome.state !== 'COMPLETE') throw outcome.error!;
  const evaluation = outcome.outputs.evaluation!;
  const report = JSON.parse(await readFile(ModelEvaluation.files.evaluation(await services.artifacts.localPath(evaluation.uri)), 'utf8')) as EvaluationReport;
  return { report, executionId: outcome.executionId, evaluation, blessing: outcome.outputs.blessing!, model, baseline };
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
  const columns = await describeColumns(Examples.files.split(dir, split)).catch(() => {
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
    const target = Examples.files.split(stage, 'eval');
    await withDuckDB((db) => db.run(`COPY (SELECT * FROM ${readSource(path!)}) TO ${sqlString(target)} (FORMAT PARQUET)`));
    const columns = await describeColumns(target);
    const rows = await countRows(target);
    const committed = await services.artifacts.commit(stage);
    await services.db.metadata.putArtifactType(typeRecord(Examples));
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

/** How the report names a registered version, with its upstream artifacts from the metadata store (the card's lineage section). */
async function versionRef(db: LoomDatabase, version: ModelVersion): Promise<ArtifactRef> {
  const upstream = version.artifactId === null ? [] : (await db.metadata.lineage(version.artifactId, { direction: 'upstream', maxHops: 30 })).artifacts;
  return {
    uri: version.source,
    artifactId: version.artifactId ?? undefined,
    name: version.modelName,
    version: version.version,
    lineage: [
      ...(version.runId ? [{ type: 'pipeline run', uri: version.runId, note: 'the run that registered it' }] : []),
      ...upstream.filter((a) => LINEAGE_TYPES.includes(a.typeName)).sort((a, b) => a.id - b.id).map((a) => ({ type: a.typeName, uri: a.uri, id: a.id })),
    ],
  };
}

/** The upstream artifacts a model card lists: the data, the transform and the trained model. */
const LINEAGE_TYPES = [Examples.name, TransformGraph.name, Model.name];

function missingFile(path: string): never {
  throw new LoomError('NOT_FOUND', `cannot read data file ${path}`, { field: 'data', fix: 'give an existing Parquet or CSV file, or a dataset version' });
}

function shortHash(artifact: Artifact): string {
  return (stringOf(artifact.properties.contentHash) ?? artifact.fingerprint).slice(0, 12);
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' && value ? value : undefined;
}
