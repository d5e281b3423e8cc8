/**
 * `loom monitor labels load <model> [file] [--sql <query>] [--label <column>] [--request-id <column>]
 *  [--entity <columns> --time <column>] [--json]`: labels that arrived in bulk, into the label store.
 *
 * Usage: `registerMonitorLabelsCommand(monitorGroup)` (the `loom monitor` group registers it).
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { LoomError } from '../../core/errors.js';
import { loadLabels } from '../../monitor/label-loader.js';
import { predictionLogLocation } from '../../platform/prediction-log-location.js';
import { parseOptions } from '../options.js';
import { printJson } from '../output.js';
import { withProject } from '../project.js';

const loadOptions = z.object({
  sql: z.string().min(1).optional(),
  label: z.string().min(1).default('label'),
  requestId: z.string().min(1).default('request_id'),
  entity: z
    .string()
    .transform((s) => s.split(',').map((k) => k.trim()).filter(Boolean))
    .pipe(z.array(z.string().min(1)).min(1))
    .optional(),
  time: z.string().min(1).optional(),
  json: z.boolean().optional(),
});

export function registerMonitorLabelsCommand(monitor: Command): void {
  const labels = monitor.command('labels').description('labels that arrive after the prediction');
  labels
    .command('load')
    .description('load labels from a CSV/Parquet/NDJSON file or a DuckDB query, by request id or by entity and time (point-in-time join)')
    .argument('<model>', 'the model the labels are for')
    .argument('[file]', 'a CSV, Parquet or NDJSON file of labels')
    .option('--sql <query>', 'a DuckDB query selecting the labels, instead of a file')
    .option('--label <column>', 'the column holding the label', 'label')
    .option('--request-id <column>', 'the column holding the request id', 'request_id')
    .option('--entity <columns>', 'comma-separated entity columns (named as logged features), to join by entity and time instead')
    .option('--time <column>', 'with --entity: the time the outcome belongs to')
    .option('--json', 'print JSON')
    .action(async (model: string, file: string | undefined, raw: unknown) => {
      const options = parseOptions(loadOptions, raw);
      if ((file === undefined) === (options.sql === undefined)) throw new LoomError('INVALID_ARGUMENT', 'give a file or --sql, not both', { field: 'source', fix: 'loom monitor labels load flights labels.csv' });
      if ((options.entity === undefined) !== (options.time === undefined)) throw new LoomError('INVALID_ARGUMENT', '--entity and --time go together', { field: options.entity ? 'time' : 'entity', fix: 'e.g. --entity flight_no --time arrived_at' });
      await withProject(async (project) => {
        const result = await loadLabels(project.labels, predictionLogLocation(project.config), {
          model,
          source: file !== undefined ? { file } : { sql: options.sql! },
          labelColumn: options.label,
          requestIdColumn: options.requestId,
          ...(options.entity && options.time && { entity: { keys: options.entity, timeColumn: options.time } }),
        });
        if (options.json) printJson(result);
        else process.stdout.write(`${result.written} labels stored from ${result.rows} rows${result.unmatched > 0 ? `; ${result.unmatched} matched no logged prediction` : ''}\n`);
      });
    });
}
