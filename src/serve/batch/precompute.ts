/**
 * `loom predict --precompute`: predictions computed ahead for a finite key space, every
 * combination of the key columns present in the input (e.g. origin × destination × hour
 * × weekday), written to a SQLite table in a new artifact that the model server answers
 * `GET /v1/predictions/{model}/{key}` from.
 *
 * Model inputs that are not key columns must be determined by the key in the data
 * (`distance` by origin and destination); if one varies within a key the job refuses,
 * naming it, since a prediction for that key would be a guess.
 *
 * The work is the `PrecomputePredictions` component, run and recorded by the step runner
 * (batch-step.ts); its output is an artifact-store artifact the runner commits.
 *
 * Usage: `await precomputePredictions(services, { model: 'flights', input: 'flights.parquet', keys: ['origin', 'destination', 'hour', 'weekday'] })`
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DuckDBInstance } from '@duckdb/node-api';
import { z } from 'zod';
import { LoomError } from '../../core/errors.js';
import type { Progress } from '../../core/progress.js';
import { queryRows, sqlIdent } from '../../data/duckdb.js';
import { Examples, ServingModel } from '../../pipeline/artifact-types.js';
import { defineComponent } from '../../pipeline/component.js';
import type { TensorSpec } from '../../registry/types.js';
import { PrecomputedPredictions } from './artifact-types.js';
import { runBatchStep, type BatchServices } from './batch-step.js';
import { batchInputArtifact, batchSource } from './input-source.js';
import { batchModelBytes, openBatchModel } from './model-file.js';
import { checkColumns } from './predict-job.js';
import { precomputedKey } from './precomputed-key.js';
import { PRECOMPUTED_DB_FILE, PRECOMPUTED_MANIFEST_FILE, type PrecomputedManifest } from './precomputed-table.js';
import { columnTypes, inputColumns, scoreStream, type OutputColumn } from './stream-score.js';

export interface PrecomputeOptions {
  model: string;
  input: string;
  split?: string;
  /** Key columns in key order; default every model input, in signature order. */
  keys?: string[];
  batchSize?: number;
  progress?: Progress;
}

export interface PrecomputeResult {
  modelName: string;
  modelVersion: number;
  keyColumns: string[];
  keyCount: number;
  skippedRows: number;
  uri: string;
  executionId: number;
  artifactId: number;
}

/** The job as recorded: the model as asked for and as resolved, the input and the key columns. */
export const precomputeParameters = z.object({
  model: z.string().min(1),
  modelName: z.string().min(1),
  modelVersion: z.number().int().min(1),
  input: z.string().min(1),
  split: z.string().min(1).nullable().default(null),
  keys: z.array(z.string().min(1)).min(1),
  batchSize: z.number().int().min(1).nullable().default(null),
});

export const precomputeComponent = defineComponent({
  name: 'PrecomputePredictions',
  version: '1',
  description: 'Predictions for every key combination in a data set, in a SQLite table served by key',
  inputs: {
    model: { type: ServingModel, optional: true },
    // An Examples artifact (a dataset version), or an ExternalDataset for a file read where it lies.
    examples: { type: Examples },
  },
  outputs: { predictions: PrecomputedPredictions },
  parameters: precomputeParameters,
  async execute({ inputs, outputs, parameters }, services) {
    const { keys } = parameters;
    const model = await openBatchModel(`${parameters.modelName}@${parameters.modelVersion}`, services);
    const input = batchSource(parameters.input, inputs.examples, parameters.split ?? undefined);
    const stage = outputs.predictions;
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    const db = new Database(join(stage, PRECOMPUTED_DB_FILE));
    let keyCount = 0;
    let skippedRows: number;
    try {
      await checkColumns(connection, input.source, input.description, model.signature, keys);
      const keyList = keys.map(sqlIdent).join(', ');
      const keyed = keys.map((key) => `${sqlIdent(key)} IS NOT NULL`).join(' AND ');
      const others = model.signature.inputs.map((spec) => spec.name).filter((name) => !keys.includes(name));
      skippedRows = Number((await queryRows(connection, `SELECT count(*)::BIGINT AS n FROM ${input.source} WHERE NOT (${keyed})`))[0]?.n ?? 0);
      if (others.length > 0) await requireDetermined(connection, input.source, keys, others, keyed);
      const grouped = `(SELECT ${keyList}${others.map((name) => `, any_value(${sqlIdent(name)}) AS ${sqlIdent(name)}`).join('')}
        FROM ${input.source} WHERE ${keyed} GROUP BY ${keyList})`;
      const total = Number((await queryRows(connection, `SELECT count(*)::BIGINT AS n FROM ${grouped}`))[0]?.n ?? 0);
      const task = services.progress.start(`precomputing ${model.name} v${model.version.version}`, total, 'keys');

      db.pragma('journal_mode = OFF');
      db.pragma('synchronous = OFF');
      db.exec('CREATE TABLE predictions (key TEXT PRIMARY KEY, outputs TEXT NOT NULL) WITHOUT ROWID');
      const insert = db.prepare('INSERT INTO predictions (key, outputs) VALUES (?, ?)');
      const outputSpecs = model.signature.outputs;
      const writeBatch = db.transaction((rows: [string, string][]) => {
        for (const row of rows) insert.run(row[0], row[1]);
      });
      const columns = [...inputColumns(model.signature, await columnTypes(connection, grouped)), ...keys.map((name) => ({ name, expression: sqlIdent(name) }))];
      const select = { columns, from: grouped, description: `the key combinations of ${input.description}`, rows: total };
      await scoreStream(connection, select, {
        model: await batchModelBytes(model),
        signature: model.signature,
        keepCount: keys.length,
        batchSize: parameters.batchSize ?? undefined,
        onBatch(batch) {
          const rows: [string, string][] = [];
          for (let row = 0; row < batch.rowCount; row++) {
            const key = precomputedKey(batch.keep.map((column) => column[row]), keys)!;
            const record = outputSpecs.map((spec) => `${JSON.stringify(spec.name)}:${JSON.stringify(jsonValue(batch.outputs[spec.name]!, row, batch.rowCount, spec.type))}`);
            rows.push([key, `{${record.join(',')}}`]);
          }
          writeBatch(rows);
          keyCount += batch.rowCount;
          task.advance(batch.rowCount);
        },
      });
      task.done();
    } catch (error) {
      if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        throw new LoomError('INVALID_ARGUMENT', 'two key combinations have the same key text', { field: '--keys', fix: 'use key columns whose values print distinctly' });
      }
      throw error;
    } finally {
      db.close();
      connection.closeSync();
      instance.closeSync();
    }
    const manifest: PrecomputedManifest = {
      modelName: model.name,
      modelVersion: model.version.version,
      keyColumns: keys,
      outputs: model.signature.outputs.map((spec) => spec.name),
      keyCount,
      skippedRows,
      createdAt: Date.now(),
    };
    await writeFile(join(stage, PRECOMPUTED_MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    return {
      properties: { predictions: { modelName: model.name, modelVersion: model.version.version, keyColumns: keys, keyCount } },
      executionProperties: { keyCount, skippedRows },
    };
  },
});

export async function precomputePredictions(services: BatchServices, options: PrecomputeOptions): Promise<PrecomputeResult> {
  const model = await openBatchModel(options.model, services);
  const examples = await batchInputArtifact(options.input, services, { split: options.split });
  const keys = options.keys && options.keys.length > 0 ? options.keys : model.signature.inputs.map((spec) => spec.name);
  if (new Set(keys).size !== keys.length) throw new LoomError('INVALID_ARGUMENT', `--keys names a column twice: ${keys.join(', ')}`, { field: '--keys' });
  const parameters: z.input<typeof precomputeParameters> = {
    model: options.model,
    modelName: model.name,
    modelVersion: model.version.version,
    input: options.input,
    split: options.split ?? null,
    keys,
    batchSize: options.batchSize ?? null,
  };
  const outcome = await runBatchStep(services, { component: precomputeComponent, stepName: 'precompute', model, examples, parameters, progress: options.progress });
  const predictions = outcome.outputs.predictions!;
  const manifest = JSON.parse(await readFile(join(await services.artifacts.localPath(predictions.uri), PRECOMPUTED_MANIFEST_FILE), 'utf8')) as PrecomputedManifest;
  return {
    modelName: model.name,
    modelVersion: model.version.version,
    keyColumns: keys,
    keyCount: manifest.keyCount,
    skippedRows: manifest.skippedRows,
    uri: predictions.uri,
    executionId: outcome.executionId,
    artifactId: predictions.id,
  };
}

/** Refuses when a non-key model input takes more than one value within a key. */
async function requireDetermined(
  connection: Parameters<typeof queryRows>[0],
  source: string,
  keys: string[],
  others: string[],
  keyed: string,
): Promise<void> {
  const keyList = keys.map(sqlIdent).join(', ');
  const varying = others.map((name) => `count(DISTINCT ${sqlIdent(name)}) > 1 AS ${sqlIdent(name)}`).join(', ');
  const rows = await queryRows(
    connection,
    `SELECT * FROM (SELECT ${keyList}, ${varying} FROM ${source} WHERE ${keyed} GROUP BY ${keyList})
     WHERE ${others.map((name) => sqlIdent(name)).join(' OR ')} LIMIT 1`,
  );
  const example = rows[0];
  if (!example) return;
  const column = others.find((name) => example[name] === true)!;
  throw new LoomError('INVALID_ARGUMENT', `the model input ${column} takes several values for the key ${keys.map((key) => `${key}=${String(example[key])}`).join(', ')}`, {
    field: '--keys',
    fix: `add ${column} to --keys, so each key fixes every model input`,
  });
}

/** One row's value of an output: a number (or string/bool) for a one-per-row output, an array for wider ones. */
function jsonValue(data: OutputColumn, row: number, rowCount: number, type: TensorSpec['type']): unknown {
  const perRow = data.length / rowCount;
  // As the server answers (src/serve/predict.ts): int64 as numbers, bool as true/false.
  const at = (index: number): unknown => {
    const value = data[index];
    if (type === 'bool') return value !== 0;
    return typeof value === 'bigint' ? Number(value) : value;
  };
  if (perRow === 1) return at(row);
  return Array.from({ length: perRow }, (_, offset) => at(row * perRow + offset));
}
