/**
 * `loom predict`: batch scoring with a registered model.
 *
 *   loom predict --model flights@champion --input flights.parquet --output scored.parquet [--keep id]
 *   loom predict --model flights --input artifact:12 --output 'postgres://me@db:5432/prod?table=scores'
 *   loom predict --model flights --input flights.parquet --precompute --keys origin,destination,date
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { LoomError } from '../../core/errors.js';
import { precomputePredictions } from '../../serve/batch/precompute.js';
import { batchPredict } from '../../serve/batch/predict-job.js';
import { parseOptions } from '../options.js';
import { printJson, printTable, progressFor } from '../output.js';
import { withProject } from '../project.js';

const columnList = z
  .string()
  .optional()
  .transform((text) => (text ? text.split(',').map((name) => name.trim()).filter(Boolean) : []));

const predictOptions = z
  .object({
    model: z.string().min(1),
    input: z.string().min(1),
    output: z.string().min(1).optional(),
    split: z.string().min(1).optional(),
    keep: columnList,
    batchSize: z.coerce.number().int().min(1).max(1_048_576).optional(),
    overwrite: z.boolean().optional(),
    precompute: z.boolean().optional(),
    keys: columnList,
    json: z.boolean().optional(),
  })
  .superRefine((options, context) => {
    if (!options.precompute && !options.output) context.addIssue({ code: 'custom', path: ['output'], message: 'required: a .parquet file or a postgres:// URL' });
    if (options.precompute && options.output) context.addIssue({ code: 'custom', path: ['output'], message: '--precompute writes to the artifact store; drop --output' });
    if (!options.precompute && options.keys.length > 0) context.addIssue({ code: 'custom', path: ['keys'], message: 'applies only with --precompute' });
  });

export function registerPredictCommand(program: Command): void {
  program
    .command('predict')
    .description('score a data set with a registered model in batches, or precompute predictions for a key space')
    .requiredOption('--model <ref>', 'model as name, name@alias or name@version')
    .requiredOption('--input <data>', 'a Parquet, CSV or NDJSON file (or glob), or artifact:<id> of a dataset version')
    .option('--output <file|url>', 'a .parquet file, or postgres://USER@HOST:PORT/DB?table=[SCHEMA.]NAME')
    .option('--split <name>', 'with artifact:<id>, score one split only')
    .option('--keep <columns>', 'input columns to write beside the predictions, comma-separated')
    .option('--batch-size <n>', 'rows per model run (default 16384)')
    .option('--overwrite', 'replace an existing output file or table')
    .option('--precompute', 'compute predictions for every key in the input, served by `loom serve` at /v1/predictions/{model}/{key}')
    .option('--keys <columns>', 'with --precompute: the key columns, in key order (default every model input)')
    .option('--json', 'print the result as JSON')
    // The flights model takes the raw row (date, distance, origin, destination); its graph derives the hour and weekday.
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  loom predict --model flights@champion --input flights.parquet --output scored.parquet --keep origin,destination',
        "  loom predict --model flights --input artifact:12 --split eval --output 'postgres://me@db:5432/prod?table=scores'",
        '  loom predict --model flights --input flights.parquet --precompute --keys origin,destination,date',
      ].join('\n'),
    )
    .action(async (raw: unknown) => {
      const options = parseOptions(predictOptions, raw);
      const progress = progressFor(options);
      await withProject(async (db) => {
        const services = { registry: db.registry, metadata: db.metadata, artifacts: db.artifacts, runner: db.runner };
        if (options.precompute) {
          const result = await precomputePredictions(services, { ...options, keys: options.keys, progress });
          if (options.json) return printJson(result);
          printTable(['model', 'version', 'keys', 'key columns', 'skipped rows', 'artifact'], [
            [result.modelName, result.modelVersion, result.keyCount, result.keyColumns.join('|'), result.skippedRows, result.artifactId],
          ]);
          process.stderr.write(`serve them with \`loom serve ${result.modelName}\`: GET /v1/predictions/${result.modelName}/<${result.keyColumns.join('|')}>\n`);
          return;
        }
        if (!options.output) throw new LoomError('INVALID_ARGUMENT', '--output is required', { field: '--output' });
        const result = await batchPredict(services, { ...options, output: options.output, progress });
        if (options.json) return printJson(result);
        printTable(['model', 'version', 'rows', 'rows/s', 'output', 'artifact'], [
          [result.modelName, result.modelVersion, result.rowCount, Math.round(result.rowCount / Math.max(result.seconds, 1e-3)), result.destination, result.artifactId],
        ]);
      });
    });
}
