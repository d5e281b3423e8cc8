/**
 * `loom models ls | show <name> | versions <name>`: what the registry holds. The commands
 * that change it (aliases, rollback, approvals, archive, delete) are in `models-changes.ts`.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { LoomError } from '../../core/errors.js';
import { likeEndsInEscape, loneEscapeError } from '../../core/sql-dialect.js';
import type { RegistryStore } from '../../registry/store.js';
import type { ModelVersion, RegisteredModel } from '../../registry/types.js';
import { parseOptions } from '../options.js';
import { formatTime, printJson, printTable } from '../output.js';
import { withProject } from '../project.js';
import { registerModelChangeCommands } from './models-changes.js';

const jsonOnly = z.object({ json: z.boolean().optional() });
const PAGE = 1000;

/** NOT_FOUND with the fix, for every command that names a model. */
export async function requireModel(registry: RegistryStore, name: string): Promise<RegisteredModel> {
  const model = await registry.getRegisteredModel(name);
  if (!model) throw new LoomError('NOT_FOUND', `no registered model named "${name}"`, { fix: 'list models with `loom models ls`' });
  return model;
}

/** Every page of a listing, so `--json` output is complete however many there are. */
async function everything<T>(fetch: (pageToken?: string) => Promise<{ items: T[]; nextPageToken?: string }>): Promise<T[]> {
  const items: T[] = [];
  let token: string | undefined;
  do {
    const page = await fetch(token);
    items.push(...page.items);
    token = page.nextPageToken;
  } while (token);
  return items;
}

const aliasList = (aliases: Record<string, number>) => Object.entries(aliases).map(([a, v]) => `@${a}=${v}`).join(' ');
const metricList = (metrics: Record<string, number>) => Object.entries(metrics).map(([k, m]) => `${k}=${m.toFixed(4)}`).join(' ');
const stateOf = (v: ModelVersion) => (v.archivedAt === null ? v.status : `${v.status} (archived)`);
/** The evaluation's verdict push recorded; blank for a version registered without one. */
const blessedOf = (v: ModelVersion) => (v.lineage.blessed === null ? '' : v.lineage.blessed ? 'yes' : 'no');
/** Where the data, transform and model a version was made from are found: the metadata store's lineage of its artifact. */
const madeFrom = (v: ModelVersion) => (v.artifactId === null ? 'no lineage (registered by URI)' : `loom lineage ${v.modelName}@${v.version}`);

export function registerModelCommands(program: Command): void {
  const models = program.command('models').description('registered models, their versions and aliases');
  models
    .command('ls')
    .description('list registered models with their aliases')
    .option('--like <pattern>', "only names matching a LIKE pattern, e.g. 'flights%'")
    .option('--json', 'print JSON')
    .action(async (raw: unknown) => {
      const options = parseOptions(jsonOnly.extend({ like: z.string().min(1).optional() }), raw);
      if (options.like && likeEndsInEscape(options.like)) throw loneEscapeError('LIKE', options.like, '--like');
      await withProject(async (db) => {
        const filter = options.like ? { nameLike: options.like } : undefined;
        const items = await everything((pageToken) => db.registry.listRegisteredModels({ pageSize: PAGE, pageToken, filter }));
        if (options.json) return printJson({ items });
        if (items.length === 0) return void process.stdout.write('no registered models yet: `loom demo` registers one\n');
        printTable(['model', 'latest', 'aliases', 'approval for', 'updated'], items.map((m) => [m.name, m.latestVersion ?? '', aliasList(m.aliases), m.approvalRequiredFor.join(' '), formatTime(m.updatedAt)]));
      });
    });
  models
    .command('show')
    .description('a model: description, tags, aliases with their recent moves, approval rule, pending requests, and who archived or restored versions')
    .argument('<name>', 'registered model name')
    .option('--json', 'print JSON')
    .action(async (name: string, raw: unknown) => {
      const options = parseOptions(jsonOnly, raw);
      await withProject(async (db) => {
        const model = await requireModel(db.registry, name);
        const history = Object.fromEntries(await Promise.all(Object.keys(model.aliases).map(async (a) => [a, await db.registry.aliasHistory(name, a)] as const)));
        const pending = await db.registry.listAliasRequests(name, { pendingOnly: true });
        const latest = await db.registry.latestVersions(name);
        const versionChanges = await db.registry.versionChanges(name);
        if (options.json) return printJson({ model, latestVersions: latest, aliasHistory: history, pendingRequests: pending, versionChanges });
        const out = process.stdout;
        out.write(`${model.name}${model.description ? `: ${model.description}` : ''}\n`);
        out.write(`  latest version  ${model.latestVersion ?? 'none'}    created ${formatTime(model.createdAt)}    updated ${formatTime(model.updatedAt)}\n`);
        if (Object.keys(model.tags).length) out.write(`  tags            ${Object.entries(model.tags).map(([k, v]) => `${k}=${v}`).join(' ')}\n`);
        out.write(`  approval for    ${model.approvalRequiredFor.length ? model.approvalRequiredFor.join(' ') : 'none (aliases move directly)'}\n`);
        for (const [alias, moves] of Object.entries(history)) {
          out.write(`\n@${alias} -> version ${model.aliases[alias]}\n`);
          printTable(['when', 'kind', 'from', 'to', 'who', 'why'], moves.slice(0, 5).map((m) => [formatTime(m.movedAt), m.kind, m.previousVersion ?? '', m.version ?? '(unset)', m.actor, m.reason]));
        }
        if (pending.length) {
          out.write('\npending alias requests (approve with `loom models approve <id>`)\n');
          printTable(['id', 'alias', 'version', 'requested by', 'when', 'why'], pending.map((r) => [r.id, r.alias, r.version, r.requestedBy, formatTime(r.requestedAt), r.reason]));
        }
        if (versionChanges.length) {
          out.write('\narchived and restored versions, newest first\n');
          printTable(['when', 'version', 'change', 'who', 'why'], versionChanges.map((c) => [formatTime(c.changedAt), c.version, c.kind, c.actor, c.reason]));
        }
      });
    });
  models
    .command('versions')
    .description("list a model's versions with their status, aliases and metrics")
    .argument('<name>', 'registered model name')
    .option('--json', 'print JSON')
    .action(async (name: string, raw: unknown) => {
      const options = parseOptions(jsonOnly, raw);
      await withProject(async (db) => {
        const model = await requireModel(db.registry, name);
        const items = await everything((pageToken) => db.registry.listModelVersions(name, { pageSize: PAGE, pageToken }));
        if (options.json) return printJson({ items });
        const aliasesOf = (v: number) => Object.entries(model.aliases).filter(([, version]) => version === v).map(([a]) => `@${a}`).join(' ');
        printTable(['version', 'status', 'aliases', 'metrics', 'blessed', 'created', 'run', 'made from'], items.map((v) => [
          v.version, stateOf(v), aliasesOf(v.version), metricList(v.metrics), blessedOf(v), formatTime(v.createdAt), v.runId ?? '', madeFrom(v),
        ]));
      });
    });
  models
    .command('deleted')
    .description('the models once deleted under this name: who deleted them when, their versions and alias moves')
    .argument('<name>', 'registered model name')
    .option('--json', 'print JSON')
    .action(async (name: string, raw: unknown) => {
      const options = parseOptions(jsonOnly, raw);
      await withProject(async (db) => {
        const items = await db.registry.modelTombstones(name);
        if (options.json) return printJson({ items });
        if (items.length === 0) return void process.stdout.write(`no deleted model was named ${name}\n`);
        printTable(['deleted', 'by', 'versions', 'alias moves', 'created'], items.map((t) => [
          formatTime(t.deletedAt), t.deletedBy, t.versions.map((v) => v.version).join(' '), t.aliasMoves.length, formatTime(t.model.createdAt),
        ]));
      });
    });
  registerModelChangeCommands(models);
}
