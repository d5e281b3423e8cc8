/**
 * `loom data validate <version> [--against <version>] [--serving <version>] [--schema file]`:
 * statistics of a dataset version checked against the schema, for drift against an
 * earlier version and skew of serving data. Prints the report and exits 5
 * (FAILED_PRECONDITION) when there is an error-level anomaly, as the validate step halts
 * a pipeline. Each check is recorded as a run of the `data-validate` pipeline
 * (`loom runs`), with the statistics, schema and anomalies as artifacts.
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { z } from 'zod';
import { LoomError } from '../../core/errors.js';
import { formatAnomalyReport, formatComparisons } from '../../validate/anomalies.js';
import { readSchemaFile, writeSchemaFile } from '../../validate/schema.js';
import type { DatasetStatistics } from '../../validate/statistics.js';
import type { VersionValidation } from '../../validate/version-report.js';
import { validateDatasetVersion } from '../../validate/version-run.js';
import { parseOptions } from '../options.js';
import { formatTable, printJson, progressFor, statusLogger } from '../output.js';
import { withProject } from '../project.js';
import { dataCommandGroup } from './data-group.js';

const ValidateOptions = z.object({
  against: z.string().min(1).optional(),
  serving: z.string().min(1).optional(),
  schema: z.string().min(1).optional(),
  environment: z.string().min(1).optional(),
  writeSchema: z.string().min(1).optional(),
  json: z.boolean().optional(),
});

export function registerDataValidateCommand(program: Command): void {
  dataCommandGroup(program)
    .command('validate')
    .description('check a dataset version against the schema: anomalies, drift against another version, skew of serving data')
    .argument('<version>', 'a version hash from `loom data ls`, or its first characters')
    .option('--against <version>', 'the previous version (span N-1): measure drift, and infer the schema from it when --schema is not given')
    .option('--serving <version>', 'a version of serving data: measure its skew against <version> as training data')
    .option('--schema <file>', 'the schema file to validate against (default: inferred)')
    .option('--environment <name>', 'the schema environment of the data, e.g. TRAINING or SERVING')
    .option('--write-schema <file>', 'save the inferred schema there, to review, edit and pass with --schema')
    .option('--json', 'print JSON')
    .action(async (version: string, raw: unknown) => {
      const options = parseOptions(ValidateOptions, raw);
      if (options.schema !== undefined && options.writeSchema !== undefined) {
        throw new LoomError('INVALID_ARGUMENT', '--write-schema saves an inferred schema, but --schema gives one', { field: '--write-schema', fix: 'leave out one of them' });
      }
      const schemaPath = options.schema === undefined ? undefined : resolve(options.schema);
      // A broken schema file is named before the project is opened.
      if (schemaPath !== undefined) await readSchemaFile(schemaPath);
      const result = await withProject((project) =>
        validateDatasetVersion(
          { db: project, artifacts: project.artifacts, runner: project.runner },
          { version, against: options.against, serving: options.serving, schemaPath, environment: options.environment, progress: progressFor(options) },
        ),
      );
      if (options.writeSchema !== undefined) await writeSchemaFile(resolve(options.writeSchema), result.schemaUsed);
      const { schemaUsed: _schema, outputs, ...printable } = result;
      if (options.json) printJson({ ...printable, outputs: Object.fromEntries(Object.entries(outputs).map(([name, a]) => [name, { id: a.id, type: a.typeName, uri: a.uri }])) });
      else process.stdout.write(`${formatValidation(result)}\n`);
      statusLogger(options)(`recorded as run ${result.runId} (execution ${result.executionId}): \`loom runs show ${result.runId}\``);
      if (options.writeSchema !== undefined) statusLogger(options)(`schema written to ${resolve(options.writeSchema)}: review it and keep it with your code`);
      const errors = result.report.errorCount;
      if (errors > 0) {
        throw new LoomError('FAILED_PRECONDITION', `dataset version ${result.version.slice(0, 12)} has ${errors} error-level ${errors === 1 ? 'anomaly' : 'anomalies'}`, {
          fix: schemaPath ? `fix the data, or edit ${schemaPath} if the change is expected` : 'fix the data, or save a schema, edit it, and pass it with --schema',
        });
      }
    });
}

/** The report for people: what was checked, a line per feature, anomalies, drift and skew. */
export function formatValidation(result: VersionValidation): string {
  const lines = [`version ${result.version.slice(0, 12)}: ${result.statistics.rowCount} rows, schema ${result.schema}`];
  if (result.against) lines.push(`drift against version ${result.against.slice(0, 12)}`);
  if (result.serving) lines.push(`skew of serving version ${result.serving.slice(0, 12)}`);
  lines.push('', featureTable(result.statistics), '', formatAnomalyReport(result.report));
  if (result.report.drift?.length) lines.push('', 'drift:', formatComparisons(result.report.drift));
  if (result.report.skew?.length) lines.push('', 'skew:', formatComparisons(result.report.skew));
  return lines.join('\n');
}

function featureTable(stats: DatasetStatistics): string {
  const rows = stats.features.map((f) => {
    const n = f.numeric;
    const s = f.string;
    let summary = '';
    if (n) {
      const nonFinite = n.nan + n.posInf + n.negInf;
      summary = `mean ${round(n.mean)}  std ${round(n.std)}  min ${round(n.min)}  median ${round(n.median)}  max ${round(n.max)}${n.zeros ? `  zeros ${n.zeros}` : ''}${nonFinite ? `  NaN/inf ${nonFinite}` : ''}`;
    } else if (s) {
      summary = `${s.unique}${s.uniqueExact ? '' : '+'} unique  top ${s.topValues.slice(0, 3).map((v) => `${v.value} (${v.count})`).join(', ')}`;
    } else if (f.timestamp) {
      summary = `${f.timestamp.min ?? ''} .. ${f.timestamp.max ?? ''}`;
    }
    return [f.name, f.type, f.count, f.missing, summary];
  });
  return formatTable(['FEATURE', 'TYPE', 'COUNT', 'MISSING', 'SUMMARY'], rows);
}

function round(x: number): string {
  return Number.isInteger(x) ? String(x) : Number(x.toPrecision(6)).toString();
}
