/**
 * `loom predict`: scores every row of an input with a registered model and writes the
 * outputs (beside any pass-through columns) to a Parquet file or a PostgreSQL table,
 * streaming in batches so any size of input fits. The scoring is the `BatchPredict`
 * component, run and recorded by the step runner (batch-step.ts); `batchPredict` checks the
 * request, resolves the model and the input, and runs it.
 *
 * Usage:
 *   const result = await batchPredict({ registry, metadata, artifacts, runner }, {
 *     model: 'flights@champion', input: 'flights.parquet', output: 'scored.parquet', keep: ['id'],
 *   });
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { z } from 'zod';
import { LoomError } from '../../core/errors.js';
import type { Progress } from '../../core/progress.js';
import { redactUrl } from '../../core/redact.js';
import { queryRows, sqlIdent } from '../../data/duckdb.js';
import { Examples, ServingModel } from '../../pipeline/artifact-types.js';
import { defineComponent } from '../../pipeline/component.js';
import type { ModelSignature } from '../../registry/types.js';
import { Predictions } from './artifact-types.js';
import { runBatchStep, type BatchServices } from './batch-step.js';
import { batchInputArtifact, batchSource } from './input-source.js';
import { batchModelBytes, openBatchModel } from './model-file.js';
import { fileExists, openParquetSink, openPostgresSink, parsePostgresOutput, type PredictionSink, type SinkColumn } from './sinks.js';
import { columnTypes, inputColumns, scoreStream, type OutputColumn } from './stream-score.js';

export type { BatchServices } from './batch-step.js';

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

/** The job as recorded: the model as asked for and as resolved, and what was read and written. */
export const batchPredictParameters = z.object({
  /** As the user named it (`flights@champion`). */
  model: z.string().min(1),
  modelName: z.string().min(1),
  modelVersion: z.number().int().min(1),
  /** A path or `artifact:<id>`, as given; the rows are the `examples` input. */
  input: z.string().min(1),
  split: z.string().min(1).nullable().default(null),
  /** A .parquet path or a postgres:// URL (recorded without its password). */
  output: z.string().min(1),
  keep: z.array(z.string().min(1)).default([]),
  batchSize: z.number().int().min(1).nullable().default(null),
  /** Scoring worker threads (null: one per core). */
  workers: z.number().int().min(1).nullable().default(null),
  overwrite: z.boolean().default(false),
});

export const batchPredictComponent = defineComponent({
  name: 'BatchPredict',
  version: '1',
  description: 'Scores every row of a data set with a registered model version into a Parquet file or a PostgreSQL table',
  inputs: {
    model: { type: ServingModel, optional: true },
    // An Examples artifact (a dataset version), or an ExternalDataset for a file read where it lies.
    examples: { type: Examples },
  },
  outputs: { predictions: Predictions },
  parameters: batchPredictParameters,
  async execute({ inputs, parameters }, services) {
    const { keep } = parameters;
    const model = await openBatchModel(`${parameters.modelName}@${parameters.modelVersion}`, services);
    const input = batchSource(parameters.input, inputs.examples, parameters.split ?? undefined);
    const target = describeOutput(parameters.output);
    const outputNames = model.signature.outputs.map((output) => output.name);
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    let sink: PredictionSink | undefined;
    try {
      await checkColumns(connection, input.source, input.description, model.signature, keep);
      const total = Number((await queryRows(connection, `SELECT count(*)::BIGINT AS n FROM ${input.source}`))[0]?.n ?? 0);
      const task = services.progress.start(`scoring with ${model.name} v${model.version.version}`, total, 'rows');
      const hash = createHash('sha256');
      const columns = [...inputColumns(model.signature, await columnTypes(connection, input.source)), ...keep.map((name) => ({ name, expression: sqlIdent(name) }))];
      const select = { columns, from: input.source, description: input.description, rows: total };
      const rowCount = await scoreStream(connection, select, {
        model: await batchModelBytes(model),
        signature: model.signature,
        keepCount: keep.length,
        batchSize: parameters.batchSize ?? undefined,
        workers: parameters.workers ?? undefined,
        async onStart(keepTypes) {
          const columns: SinkColumn[] = [
            ...keep.map((name, index) => ({ name, kind: 'keep' as const, type: keepTypes[index]! })),
            ...model.signature.outputs.map((spec) => ({ name: spec.name, kind: 'output' as const, type: spec.type })),
          ];
          sink = target.kind === 'parquet' ? await openParquetSink(instance, target.path, columns) : await openPostgresSink(target.postgres, columns, parameters);
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
      return {
        properties: {
          predictions: { modelName: model.name, modelVersion: model.version.version, rowCount, destination, columns: [...keep, ...outputNames] },
        },
        // The rows live where the user asked, outside the artifact store.
        external: { predictions: { uri: target.uri, fingerprint: hash.digest('hex') } },
        executionProperties: { rowCount },
      };
    } finally {
      await sink?.abort();
      connection.closeSync();
      instance.closeSync();
    }
  },
});

export async function batchPredict(services: BatchServices, options: BatchPredictOptions): Promise<BatchPredictResult> {
  const startedAt = performance.now();
  const keep = options.keep ?? [];
  const target = describeOutput(options.output);
  if (target.kind === 'parquet' && !options.overwrite && (await fileExists(target.path))) {
    throw new LoomError('ALREADY_EXISTS', `${target.path} already exists`, { field: '--output', fix: 'choose another file, or add --overwrite to replace it' });
  }
  const model = await openBatchModel(options.model, services);
  const examples = await batchInputArtifact(options.input, services, { split: options.split });
  const clash = keep.find((name) => model.signature.outputs.some((output) => output.name === name));
  if (clash) {
    throw new LoomError('INVALID_ARGUMENT', `--keep ${clash} has the name of a model output`, { field: '--keep', fix: 'keep other columns, or rename it in the input' });
  }
  const parameters: z.input<typeof batchPredictParameters> = {
    model: options.model,
    modelName: model.name,
    modelVersion: model.version.version,
    input: options.input,
    split: options.split ?? null,
    // The executor writes here, so a PostgreSQL URL keeps its password; the runner records it without.
    output: target.kind === 'parquet' ? target.path : options.output,
    keep,
    batchSize: options.batchSize ?? null,
    workers: options.workers ?? null,
    overwrite: options.overwrite ?? false,
  };
  const outcome = await runBatchStep(services, { component: batchPredictComponent, stepName: 'predict', model, examples, parameters, progress: options.progress });
  const predictions = outcome.outputs.predictions!;
  return {
    modelName: model.name,
    modelVersion: model.version.version,
    rowCount: predictions.properties.rowCount as number,
    destination: predictions.properties.destination as string,
    executionId: outcome.executionId,
    artifactId: predictions.id,
    seconds: (performance.now() - startedAt) / 1000,
  };
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
