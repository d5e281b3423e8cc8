/**
 * `loom predict`: scores every row of an input with a registered model and writes the
 * outputs (beside any pass-through columns) to a Parquet file or a PostgreSQL table,
 * streaming in batches so any size of input fits, and records the job in lineage.
 *
 * Usage:
 *   const result = await batchPredict({ registry, metadata, artifacts }, {
 *     model: 'flights@champion', input: 'flights.parquet', output: 'scored.parquet', keep: ['id'],
 *   });
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { LoomError } from '../../core/errors.js';
import { silentProgress, type Progress } from '../../core/progress.js';
import { queryRows, sqlIdent } from '../../data/duckdb.js';
import type { MetadataStore } from '../../metadata/store.js';
import type { RegistryStore } from '../../registry/store.js';
import type { ModelSignature } from '../../registry/types.js';
import type { ArtifactStore } from '../../store/artifact-store.js';
import { Predictions } from './artifact-types.js';
import { resolveBatchInput } from './input-source.js';
import { startBatchJob } from './lineage.js';
import { openBatchModel } from './model-file.js';
import { fileExists, openParquetSink, openPostgresSink, parsePostgresOutput, type PredictionSink, type SinkColumn } from './sinks.js';
import { columnTypes, inputSelects, scoreStream, type OutputColumn } from './stream-score.js';

export interface BatchServices {
  registry: RegistryStore;
  metadata: MetadataStore;
  artifacts: ArtifactStore;
}

export interface BatchPredictOptions {
  /** `name`, `name@alias` or `name@version`. */
  model: string;
  /** A Parquet/CSV/NDJSON path (or glob), or `artifact:<id>` of a dataset version. */
  input: string;
  /** With an `artifact:<id>` input, one split (default every split). */
  split?: string;
  /** `<file>.parquet`, or `postgres://USER@HOST:PORT/DB?table=[SCHEMA.]NAME`. */
  output: string;
  /** Input columns written beside the outputs, e.g. an id. */
  keep?: string[];
  batchSize?: number;
  /** Scoring worker threads; default one per core. */
  workers?: number;
  /** Replace an existing output file or table. */
  overwrite?: boolean;
  progress?: Progress;
}

export interface BatchPredictResult {
  modelName: string;
  modelVersion: number;
  rowCount: number;
  /** The file written, or `schema.table`. */
  destination: string;
  /** The lineage records: the BatchPredict execution and its Predictions artifact. */
  executionId: number;
  artifactId: number;
  seconds: number;
}

export async function batchPredict(services: BatchServices, options: BatchPredictOptions): Promise<BatchPredictResult> {
  const startedAt = performance.now();
  const keep = options.keep ?? [];
  const target = describeOutput(options.output);
  if (target.kind === 'parquet' && !options.overwrite && (await fileExists(target.path))) {
    throw new LoomError('ALREADY_EXISTS', `${target.path} already exists`, { field: '--output', fix: 'choose another file, or add --overwrite to replace it' });
  }
  const model = await openBatchModel(options.model, services);
  const input = await resolveBatchInput(options.input, services, { split: options.split });
  const outputNames = model.signature.outputs.map((output) => output.name);
  const clash = keep.find((name) => outputNames.includes(name));
  if (clash) {
    throw new LoomError('INVALID_ARGUMENT', `--keep ${clash} has the name of a model output`, { field: '--keep', fix: 'keep other columns, or rename it in the input' });
  }
  const job = await startBatchJob(services.metadata, {
    typeName: 'BatchPredict',
    parameters: { model: options.model, input: options.input, output: redactUrl(options.output), keep, batchSize: options.batchSize ?? null },
    modelArtifactId: model.version.artifactId,
    input,
  });
  try {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    let sink: PredictionSink | undefined;
    try {
      await checkColumns(connection, input.source, input.description, model.signature, keep);
      const total = Number((await queryRows(connection, `SELECT count(*)::BIGINT AS n FROM ${input.source}`))[0]?.n ?? 0);
      const task = (options.progress ?? silentProgress).start(`scoring with ${model.name} v${model.version.version}`, total, 'rows');
      const hash = createHash('sha256');
      const query = `SELECT ${[...inputSelects(model.signature, await columnTypes(connection, input.source)), ...keep.map(sqlIdent)].join(', ')} FROM ${input.source}`;
      const rowCount = await scoreStream(connection, query, {
        model: model.bytes,
        signature: model.signature,
        keepCount: keep.length,
        batchSize: options.batchSize,
        async onStart(keepTypes) {
          const columns: SinkColumn[] = [
            ...keep.map((name, index) => ({ name, kind: 'keep' as const, type: keepTypes[index]! })),
            ...model.signature.outputs.map((spec) => ({ name: spec.name, kind: 'output' as const, type: spec.type })),
          ];
          sink = target.kind === 'parquet' ? await openParquetSink(instance, target.path, columns) : await openPostgresSink(target.postgres, columns, options);
        },
        async onBatch(batch) {
          for (const name of outputNames) hashOutput(hash, batch.outputs[name]!);
          await sink!.write(batch);
          task.advance(batch.rowCount);
        },
      });
      task.done();
      const destination = await sink!.finish();
      sink = undefined;
      const artifact = await job.complete(
        {
          name: 'predictions',
          artifact: {
            typeName: Predictions.name,
            uri: target.uri,
            fingerprint: hash.digest('hex'),
            properties: {
              modelName: model.name,
              modelVersion: model.version.version,
              rowCount,
              destination,
              columns: [...keep, ...outputNames],
            },
          },
        },
        { rowCount },
      );
      return {
        modelName: model.name,
        modelVersion: model.version.version,
        rowCount,
        destination,
        executionId: job.executionId,
        artifactId: artifact.id,
        seconds: (performance.now() - startedAt) / 1000,
      };
    } finally {
      await sink?.abort();
      connection.closeSync();
      instance.closeSync();
    }
  } catch (error) {
    await job.fail(error);
    throw error;
  }
}

type OutputTarget =
  | { kind: 'parquet'; path: string; uri: string }
  | { kind: 'postgres'; postgres: ReturnType<typeof parsePostgresOutput>; uri: string };

function describeOutput(output: string): OutputTarget {
  if (/^postgres(ql)?:\/\//.test(output)) {
    const postgres = parsePostgresOutput(output);
    return { kind: 'postgres', postgres, uri: redactUrl(output) };
  }
  if (!output.toLowerCase().endsWith('.parquet')) {
    throw new LoomError('INVALID_ARGUMENT', `--output ${output} is neither a .parquet file nor a postgres:// URL`, {
      field: '--output',
      fix: 'write --output predictions.parquet, or --output postgres://USER@HOST:PORT/DATABASE?table=NAME',
    });
  }
  const path = resolve(output);
  return { kind: 'parquet', path, uri: `file://${path}` };
}

/** A URL fit for lineage: never a password. */
export function redactUrl(output: string): string {
  if (!/^postgres(ql)?:\/\//.test(output)) return output;
  const url = new URL(output);
  url.password = '';
  return url.toString();
}

/** Every model input and kept column must be in the input; the error lists what is there. */
export async function checkColumns(connection: DuckDBConnection, source: string, description: string, signature: ModelSignature, keep: string[]): Promise<string[]> {
  const available = (await queryRows(connection, `DESCRIBE SELECT * FROM ${source}`)).map((row) => String(row.column_name));
  const missing = [...signature.inputs.map((input) => input.name), ...keep].filter((name) => !available.includes(name));
  if (missing.length > 0) {
    throw new LoomError('INVALID_ARGUMENT', `${description} lacks the column(s) ${missing.join(', ')}`, {
      field: missing[0],
      fix: `the model takes ${signature.inputs.map((input) => input.name).join(', ')}; the input has ${available.join(', ')}`,
    });
  }
  return available;
}

function hashOutput(hash: ReturnType<typeof createHash>, data: OutputColumn): void {
  if (Array.isArray(data)) hash.update(data.join('\u0000'));
  else hash.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}
