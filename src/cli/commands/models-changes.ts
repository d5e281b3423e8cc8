/**
 * The `loom models` commands that change the registry: `alias set | unset | request |
 * history`, `rollback`, `approve`, `reject`, `requests`, `require-approval`, `archive`,
 * `restore` and `delete`. Each is made and recorded as the command's principal (its token's
 * subject, or the login name; `--actor` is only a claim) with `--reason`, and prints what
 * changed, or JSON with `--json`.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { LoomError } from '../../core/errors.js';
import type { Actor, AliasMove } from '../../registry/types.js';
import { parseOptions } from '../options.js';
import { formatTime, printJson, printTable } from '../output.js';
import { withProject, type Project } from '../project.js';

const changeOptions = z.object({
  json: z.boolean().optional(),
  actor: z.string().min(1).optional(),
  reason: z.string().optional(),
  /** Only `rollback` declares it. */
  alias: z.string().min(1).optional(),
});
type ChangeOptions = z.output<typeof changeOptions>;

/** The claimed actor (--actor, else LOOM_ACTOR, else the login) and --reason; the guarded stores replace the claim with the principal. */
export function who(project: Project, options: { actor?: string; reason?: string }): Actor {
  return { actor: options.actor ?? project.config.actor, reason: options.reason ?? '' };
}

/** The `--actor` option every mutating command declares. */
export const ACTOR_OPTION = ['--actor <name>', 'a claimed name, not recorded: changes are made and recorded as your token\'s subject (`loom login`, LOOM_TOKEN) or, without one, your login name'] as const;

/** A positional number (version or request id), checked like an option. */
function positiveInt(value: string, field: 'version' | 'request-id'): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    const fix = field === 'version' ? 'see `loom models versions <name>`' : 'see `loom models requests <name>`';
    throw new LoomError('INVALID_ARGUMENT', `${field} must be a whole number from 1, got ${JSON.stringify(value)}`, { field, fix });
  }
  return Number(value);
}

/** Adds --actor, --reason and --json, then runs the change in the project and prints its result. */
function change(command: Command, run: (project: Project, options: ChangeOptions, args: string[]) => Promise<{ result: unknown; line: string }>): Command {
  return command
    .option('--reason <text>', 'why (recorded with the change)')
    .option(...ACTOR_OPTION)
    .option('--json', 'print JSON')
    .action(async (...received: unknown[]) => {
      // commander passes the positional arguments, then the options object, then the command.
      const args = received.slice(0, -2) as string[];
      const options = parseOptions(changeOptions, received[received.length - 2]);
      await withProject(async (project) => {
        const { result, line } = await run(project, options, args);
        if (options.json) printJson(result);
        else process.stdout.write(`${line}\n`);
      });
    });
}

const moved = (m: AliasMove) => (m.version === null ? `@${m.alias} of ${m.modelName} removed (was ${m.previousVersion})` : `@${m.alias} of ${m.modelName}: ${m.previousVersion ?? '(unset)'} -> ${m.version}`);

export function registerModelChangeCommands(models: Command): void {
  const alias = models.command('alias').description('move, remove, request or list the moves of an alias');
  change(alias.command('set').description('point an alias at a version').argument('<name>').argument('<alias>').argument('<version>'), async (db, o, [name, a, v]) => {
    const move = await db.registry.setAlias(name, a, positiveInt(v, 'version'), who(db, o));
    return { result: move, line: moved(move) };
  });
  change(alias.command('unset').description('remove an alias').argument('<name>').argument('<alias>'), async (db, o, [name, a]) => {
    const move = await db.registry.deleteAlias(name, a, who(db, o));
    return { result: move, line: moved(move) };
  });
  change(alias.command('request').description('ask for a move of an alias that needs approval').argument('<name>').argument('<alias>').argument('<version>'), async (db, o, [name, a, v]) => {
    const request = await db.registry.requestAliasMove(name, a, positiveInt(v, 'version'), who(db, o));
    return { result: request, line: `request ${request.id}: @${a} of ${name} -> ${request.version}, waiting for another person's \`loom models approve ${request.id}\`` };
  });
  alias
    .command('history')
    .description('every move of an alias, newest first')
    .argument('<name>')
    .argument('[alias]', 'alias name', 'champion')
    .option('--json', 'print JSON')
    .action(async (name: string, a: string, raw: unknown) => {
      const options = parseOptions(z.object({ json: z.boolean().optional() }), raw);
      await withProject(async (db) => {
        const moves = await db.registry.aliasHistory(name, a);
        if (options.json) return printJson({ items: moves });
        printTable(['when', 'kind', 'from', 'to', 'who', 'why'], moves.map((m) => [formatTime(m.movedAt), m.kind, m.previousVersion ?? '', m.version ?? '(unset)', m.actor, m.reason]));
      });
    });

  change(models.command('rollback').description('move an alias back to its previous holder').argument('<name>').option('--alias <alias>', 'which alias', 'champion'), async (db, o, [name]) => {
    const move = await db.registry.rollbackAlias(name, o.alias ?? 'champion', who(db, o));
    return { result: move, line: `rolled back ${moved(move)}` };
  });
  change(models.command('approve').description('approve a pending alias move request (not your own) and move the alias').argument('<request-id>'), async (db, o, [id]) => {
    const { request, move } = await db.registry.approveAliasMove(positiveInt(id, 'request-id'), who(db, o));
    return { result: { request, move }, line: `approved request ${request.id}: ${moved(move)}` };
  });
  change(models.command('reject').description('reject (or withdraw) a pending alias move request').argument('<request-id>'), async (db, o, [id]) => {
    const request = await db.registry.rejectAliasMove(positiveInt(id, 'request-id'), who(db, o));
    return { result: request, line: `rejected request ${request.id}` };
  });
  models
    .command('requests')
    .description("a model's alias move requests, newest first")
    .argument('<name>')
    .option('--all', 'include decided requests')
    .option('--json', 'print JSON')
    .action(async (name: string, raw: unknown) => {
      const options = parseOptions(z.object({ json: z.boolean().optional(), all: z.boolean().optional() }), raw);
      await withProject(async (db) => {
        const items = await db.registry.listAliasRequests(name, { pendingOnly: !options.all });
        if (options.json) return printJson({ items });
        printTable(['id', 'alias', 'version', 'state', 'requested by', 'when', 'decided by', 'why'], items.map((r) => [r.id, r.alias, r.version, r.state, r.requestedBy, formatTime(r.requestedAt), r.decidedBy ?? '', r.reason]));
      });
    });
  change(models.command('require-approval').description('set the aliases that move only by an approved request (none: lift the rule)').argument('<name>').argument('[aliases...]'), async (db, _o, [name, aliases]) => {
    const list = (aliases as unknown as string[] | undefined) ?? [];
    const model = await db.registry.setApprovalRule(name, list);
    return { result: model, line: model.approvalRequiredFor.length ? `${name}: ${model.approvalRequiredFor.map((a) => `@${a}`).join(' ')} now need approval to move` : `${name}: aliases move directly` };
  });

  change(models.command('archive').description('archive a version (it can no longer carry an alias); who and why are kept (`loom models show`)').argument('<name>').argument('<version>'), async (db, o, [name, v]) => {
    const version = await db.registry.archiveModelVersion(name, positiveInt(v, 'version'), who(db, o));
    return { result: version, line: `archived version ${version.version} of ${name}` };
  });
  change(models.command('restore').description('bring an archived version back; who and why are kept').argument('<name>').argument('<version>'), async (db, o, [name, v]) => {
    const version = await db.registry.restoreModelVersion(name, positiveInt(v, 'version'), who(db, o));
    return { result: version, line: `restored version ${version.version} of ${name}` };
  });
  change(
    models
      .command('delete')
      .description('delete a version, or without one the whole model: marked deleted (who, when) and hidden, never erased; refused while an alias or the live deployment uses it')
      .argument('<name>')
      .argument('[version]'),
    async (db, o, [name, v]) => {
      if (v === undefined) {
        const tombstone = await db.registry.deleteRegisteredModel(name, who(db, o));
        return { result: tombstone, line: `deleted model ${name} (${tombstone.versions.length} versions); its history stays: \`loom models deleted ${name}\`, \`loom audit --model ${name}\`` };
      }
      const number = positiveInt(v, 'version');
      await db.registry.deleteModelVersion(name, number, who(db, o));
      return { result: { modelName: name, version: number, deleted: true }, line: `deleted version ${number} of ${name}` };
    },
  );
}
