/** `loom lineage <model>@<alias or version>`: where a model came from. */
import type { Command } from 'commander';
import { z } from 'zod';
import { LoomError } from '../../core/errors.js';
import type { LoomDatabase } from '../../pipeline/stores.js';
import type { Artifact, Execution } from '../../metadata/types.js';
import { parseModelRef, resolveModelVersion } from '../../serve/model-loader.js';
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

export interface ModelLineage {
  model: { name: string; version: number; ref: string; artifactId: number; uri: string };
  dataSnapshots: { artifactId: number; contentHash: string; source: string; span: string; rowCounts: unknown }[];
  codeVersions: { commit: string | null; dirty: boolean }[];
  /** The executions that made the model, newest first (cached re-runs left out). */
  executions: { id: number; step: string; component: string; state: string; durationMs: number | null; parameters: unknown; inputs: string[]; outputs: string[] }[];
}

export async function modelLineage(db: LoomDatabase, ref: string, maxHops: number): Promise<ModelLineage> {
  const version = await resolveModelVersion(parseModelRef(ref), db.registry);
  if (version.artifactId === null) {
    throw new LoomError('FAILED_PRECONDITION', `version ${version.version} of "${version.modelName}" was registered without an artifact, so it has no lineage`, {
      fix: 'register models through a pipeline `push` step',
    });
  }
  const graph = await db.metadata.lineage(version.artifactId, { direction: 'upstream', maxHops });
  const artifacts = new Map(graph.artifacts.map((a) => [a.id, a]));
  const producing = graph.executions.filter((e) => e.state === 'COMPLETE').sort((a, b) => b.id - a.id);
  const describe = (execution: Execution, type: 'INPUT' | 'OUTPUT') =>
    graph.events.filter((e) => e.executionId === execution.id && e.type === type).map((e) => `${e.name}=${label(artifacts.get(e.artifactId))}`);
  const commits = new Map(producing.map((e) => [`${e.codeVersion.commit}:${e.codeVersion.dirty}`, e.codeVersion]));
  return {
    model: { name: version.modelName, version: version.version, ref, artifactId: version.artifactId, uri: version.source },
    dataSnapshots: graph.artifacts
      .filter((a) => a.typeName === 'Examples')
      .map((a) => ({ artifactId: a.id, contentHash: String(a.properties.contentHash ?? a.fingerprint), source: String(a.properties.source ?? ''), span: String(a.properties.span ?? ''), rowCounts: a.properties.rowCounts ?? null })),
    codeVersions: [...commits.values()],
    executions: producing.map((e) => ({
      id: e.id,
      step: e.stepName,
      component: e.typeName,
      state: e.state,
      durationMs: e.endedAt && e.startedAt ? e.endedAt - e.startedAt : null,
      parameters: e.parameters,
      inputs: describe(e, 'INPUT'),
      outputs: describe(e, 'OUTPUT'),
    })),
  };
}

function label(artifact: Artifact | undefined): string {
  return artifact ? `${artifact.typeName}#${artifact.id}` : '?';
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
}
