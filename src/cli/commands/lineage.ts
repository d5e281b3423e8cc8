/** `loom lineage <model>@<alias or version>`: where a model came from. */
import type { Command } from 'commander';
import { z } from 'zod';
import type { CanaryClearing } from '../../monitor/canary-clearing.js';
import { modelLineage, type ModelLineage } from '../../queries/lineage.js';
import type { ModelDecision } from '../../queries/model-decisions.js';
import { parseOptions } from '../options.js';
import { formatDuration, printJson, printTable } from '../output.js';
import { withProject } from '../project.js';

export function registerLineageCommand(program: Command): void {
  program
    .command('lineage')
    .description('trace a registered model back to its data snapshot, code version, parameters and steps')
    .argument('<model>', 'name@alias or name@version, e.g. flights@champion')
    .option('--hops <n>', 'how many steps back to follow', '30')
    .option('--json', 'print JSON')
    .action(async (ref: string, raw: unknown) => {
      const options = parseOptions(z.object({ json: z.boolean().optional(), hops: z.coerce.number().int().min(1).max(1000) }), raw);
      await withProject(async (db) => {
        const report = await modelLineage(db, ref, options.hops);
        if (options.json) printJson(report);
        else printLineage(report);
      });
    });
}

function printLineage(report: ModelLineage): void {
  const out = (line = '') => process.stdout.write(`${line}\n`);
  out(`${report.model.ref} is ${report.model.name} version ${report.model.version} (${report.model.uri})`);
  for (const data of report.dataSnapshots) out(`data snapshot: ${data.contentHash}  ${data.source} ${data.span}  rows ${JSON.stringify(data.rowCounts)}`);
  for (const code of report.codeVersions) out(`code: ${code.commit ?? '(not in git)'}${code.dirty ? ' (with uncommitted changes)' : ''}`);
  out('\nexecutions that produced it, newest first:');
  printTable(
    ['exec', 'step', 'time', 'inputs', 'outputs'],
    report.executions.map((e) => [e.id, e.step, formatDuration(e.durationMs), e.inputs.join(' '), e.outputs.join(' ')]),
  );
  out('\nparameters:');
  for (const e of report.executions) out(`  ${e.step}: ${JSON.stringify(e.parameters)}`);
  if (report.decisions.length === 0) return;
  out('\nmonitoring decisions (alerts, canary):');
  for (const d of report.decisions) out(`  ${decisionLine(d)}`);
}

/** One decision: what it was about, its outcome, and what became of the actions it started (a retraining, taking a canary out). */
function decisionLine(d: ModelDecision): string {
  // A failed step's message (its first line; the fix follows on the next).
  const state = d.state === 'COMPLETE' ? '' : ` [${d.state}${d.error ? `: ${d.error.split('\n')[0]}` : ''}]`;
  const actions = Array.isArray(d.outcome?.actions) ? ` -> ${(d.outcome.actions as { type: string; status: string }[]).map((a) => `${a.type} ${a.status}`).join(', ')}` : '';
  const retrains = d.retrains.map((r) => (r.status === 'started' ? ` -> retrain ${r.pipeline}: run ${r.runId} started` : ` -> retrain ${r.pipeline}${r.runId ? `: run ${r.runId}` : ''} failed: ${failureText({ message: r.reason, ...r })}`)).join('');
  // A step that failed after moving the alias has no output: the clearing that finished it records the verdict.
  const outcome = d.outcome?.outcome ?? (d.canaryClearing?.status === 'done' ? d.canaryClearing.outcome : undefined);
  return `exec ${d.executionId} ${d.step} (${d.relation})${state}: ${String(d.outcome?.reason ?? d.outcome?.metric ?? '')}${outcome ? ` -> ${String(outcome)}` : ''}${actions}${retrains}${clearingText(d.canaryClearing)}`;
}

function clearingText(clearing: CanaryClearing | null): string {
  if (!clearing) return '';
  if (clearing.status === 'failed') return ` -> canary not taken out of the deployment: ${failureText(clearing)}`;
  const before = clearing.failedBefore ? ` -> canary not taken out at first: ${failureText(clearing.failedBefore)}` : '';
  return `${before} -> canary taken out by a later check (deployment ${clearing.deploymentId})`;
}

/** A recorded failure as retrain failures print it: the message, `[CODE]`, `(fix: …)`. */
function failureText(failure: { message: string; code?: string; fix?: string }): string {
  return `${failure.message}${failure.code ? ` [${failure.code}]` : ''}${failure.fix ? ` (fix: ${failure.fix})` : ''}`;
}
