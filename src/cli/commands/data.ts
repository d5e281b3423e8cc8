/** `loom data ls` and `loom data show <version>`: dataset versions (Examples snapshots) and their spans. */
import type { Command } from 'commander';
import { z } from 'zod';
import { listDatasetVersions, showDatasetVersion, type DatasetVersion, type DatasetVersionDetail } from '../../queries/dataset-versions.js';
import { parseOptions } from '../options.js';
import { formatTable, formatTime, printJson, printTable } from '../output.js';
import { withProject } from '../project.js';
import { dataCommandGroup } from './data-group.js';

const JsonOption = z.object({ json: z.boolean().optional() });

export function registerDataCommands(program: Command): void {
  const data = dataCommandGroup(program);
  data
    .command('ls')
    .description('list dataset versions: hash, span, source, rows per split, bad rows (of the newest ingest), when, and the run that made it')
    .option('--json', 'print JSON')
    .action(async (raw: unknown) => {
      const options = parseOptions(JsonOption, raw);
      await withProject(async (db) => {
        const versions = await listDatasetVersions(db);
        if (options.json) printJson({ items: versions });
        else printVersions(versions);
      });
    });
  data
    .command('show')
    .description('show one dataset version: columns, row counts, files, the quarantined rows of every ingest of it, and lineage')
    .argument('<version>', 'a version hash from `loom data ls`, or its first characters')
    .option('--json', 'print JSON')
    .action(async (version: string, raw: unknown) => {
      const options = parseOptions(JsonOption, raw);
      await withProject(async (db) => {
        const detail = await showDatasetVersion(db, db.artifacts, version);
        if (options.json) printJson(detail);
        else printDetail(detail);
      });
    });
}

function rows(counts: Record<string, number>): string {
  return Object.entries(counts).map(([split, n]) => `${split} ${n}`).join(', ');
}

function printVersions(versions: DatasetVersion[]): void {
  if (versions.length === 0) {
    process.stdout.write('no dataset versions yet: run a pipeline with an ingest step (`loom demo`)\n');
    return;
  }
  printTable(
    ['VERSION', 'SPAN', 'SOURCE', 'ROWS', 'BAD', 'CREATED', 'RUN'],
    versions.map((v) => [v.version.slice(0, 12), v.span, v.source, rows(v.rowCounts), v.badRows, formatTime(v.createdAt), v.madeBy?.runId ?? '']),
  );
}

function printDetail(d: DatasetVersionDetail): void {
  const out = (line = '') => process.stdout.write(`${line}\n`);
  out(`version     ${d.version}`);
  out(`span        ${d.span ?? ''}${d.timeRange ? `  (${d.timeRange})` : ''}`);
  out(`source      ${d.source}${d.sourceKind ? ` [${d.sourceKind}]` : ''}`);
  for (const file of d.sourceFiles) out(`            ${file}`);
  out(`rows        ${rows(d.rowCounts)}`);
  out(`created     ${formatTime(d.createdAt)} by ${d.madeBy ? `${d.madeBy.pipeline ?? ''} run ${d.madeBy.runId ?? '?'} step ${d.madeBy.step}` : 'an unknown execution'}`);
  out(`path        ${d.path}`);
  out();
  out(formatTable(['COLUMN', 'TYPE'], d.columns.map((c) => [c.name, c.type])));
  out();
  out(formatTable(['FILE', 'BYTES'], d.files.map((f) => [f.path, f.bytes])));
  out();
  // Every ingest of these rows keeps its own bad rows, also one whose good rows matched an earlier ingest.
  if (d.quarantines.length === 0) out('quarantine  no bad rows');
  for (const q of d.quarantines) {
    const reasons = Object.entries(q.byReason).map(([reason, n]) => `${n} ${reason}`).join(', ');
    const by = q.madeBy ? `ingest of run ${q.madeBy.runId ?? '?'}` : `artifact ${q.artifactId}`;
    out(`quarantine  ${by} at ${formatTime(q.createdAt)}: ${q.badRows} bad rows of ${q.rowsRead} read (${(q.badRowFraction * 100).toFixed(3)}%): ${reasons}; first ${q.sampleRows} in ${q.path}`);
    out(formatTable(['FILE', 'LINE', 'REASON', 'MESSAGE'], q.sample.map((s) => [String(s.file).split('/').pop(), s.line, s.reason, s.message])));
    out();
  }
  out();
  if (d.usedBy.length === 0) out('used by     no step yet');
  else for (const use of d.usedBy) out(`used by     run ${use.runId ?? '?'} step ${use.step} (execution ${use.executionId})`);
}
