/**
 * `loom token create | ls | revoke`: API tokens for the servers, the CLI and the clients.
 * A new token's secret is printed once; only its hash is kept. Each command needs the
 * token.admin right (an admin token, or the project's own login) and is audited.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { LoomError } from '../../core/errors.js';
import { recordChange } from '../../audit/record-change.js';
import { authorize } from '../../auth/authorize.js';
import { MODEL_ACTIONS, ROLES, type ApiToken, type ModelGrant } from '../../auth/types.js';
import { parseOptions } from '../options.js';
import { formatTime, printJson, printTable } from '../output.js';
import { withProject } from '../project.js';
import { changeContext } from '../security.js';

const DAY = 86_400_000;

/** `30d`, `12h` or `never` as an expiry time from now (null: never). */
export function parseExpiry(text: string, now = Date.now()): number | null {
  if (text === 'never') return null;
  const match = /^(\d{1,5})([dh])$/.exec(text);
  if (!match || Number(match[1]) === 0) {
    throw new LoomError('INVALID_ARGUMENT', `--expires must be a number of days or hours (30d, 12h) or "never", got ${JSON.stringify(text)}`, { field: '--expires' });
  }
  return now + Number(match[1]) * (match[2] === 'd' ? DAY : DAY / 24);
}

/** `model:action[,action][:alias[,alias]]`, such as `flights:alias.move:staging` or `flights:alias.approve,deploy`. */
export function parseGrant(text: string): ModelGrant {
  const [model, actions, aliases, extra] = text.split(':');
  const list = (actions ?? '').split(',').filter(Boolean);
  if (!model || list.length === 0 || extra !== undefined || !list.every((a) => (MODEL_ACTIONS as readonly string[]).includes(a))) {
    throw new LoomError('INVALID_ARGUMENT', `--grant must be model:action[,action][:alias[,alias]] with actions from ${MODEL_ACTIONS.join(', ')}; got ${JSON.stringify(text)}`, {
      field: '--grant',
      fix: 'for example --grant flights:alias.move:staging',
    });
  }
  return { model, actions: list as ModelGrant['actions'], ...(aliases ? { aliases: aliases.split(',').filter(Boolean) } : {}) };
}

const createOptions = z.object({
  subject: z.string().min(1),
  role: z.enum(ROLES),
  name: z.string().optional(),
  expires: z.string().default('90d'),
  grant: z.array(z.string()).default([]),
  json: z.boolean().optional(),
});

function row(t: ApiToken): unknown[] {
  const grants = t.grants.map((g) => `${g.model}:${g.actions.join(',')}${g.aliases ? `:${g.aliases.join(',')}` : ''}`).join(' ');
  const state = t.revokedAt ? 'revoked' : t.expiresAt !== null && t.expiresAt <= Date.now() ? 'expired' : 'active';
  return [t.id, t.subject, t.role, grants, t.name, formatTime(t.createdAt), t.expiresAt ? formatTime(t.expiresAt) : 'never', state];
}

export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description('API tokens: create (shown once), list, revoke');
  token
    .command('create')
    .description('issue a token for a person or service; its secret is printed once')
    .requiredOption('--subject <name>', 'who the token stands for (a user name or e-mail; one person, one subject)')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
    .option('--name <text>', 'what the token is for ("ci", "laptop")')
    .option('--expires <when>', 'lifetime: 30d, 12h or never', '90d')
    .option('--grant <grant>', 'a per-model permission, model:action[,action][:alias[,alias]] (repeatable)', (v: string, all: string[] = []) => [...all, v])
    .option('--json', 'print JSON')
    .action(async (raw: unknown) => {
      const o = parseOptions(createOptions, raw);
      const spec = { subject: o.subject, role: o.role, name: o.name ?? '', grants: o.grant.map(parseGrant), expiresAt: parseExpiry(o.expires) };
      await withProject(async (project) => {
        const context = await changeContext(project);
        const { token: made, secret } = await recordChange(
          context,
          { action: 'token.create', permission: 'token.admin', target: `token for ${spec.subject}` },
          () => context.tokens.createToken({ ...spec, createdBy: context.principal.subject }),
          (r) => ({ after: r.token }),
        );
        if (o.json) return printJson({ token: made, secret });
        process.stdout.write(`${secret}\n`);
        process.stderr.write(`token ${made.id} for ${made.subject} (${made.role}); this is the only time the secret is shown: store it now (\`loom login\` reads it from stdin)\n`);
      });
    });
  token
    .command('ls')
    .description('active tokens (with --all, revoked and expired ones too); never their secrets')
    .option('--all', 'include revoked and expired tokens')
    .option('--json', 'print JSON')
    .action(async (raw: unknown) => {
      const o = parseOptions(z.object({ all: z.boolean().optional(), json: z.boolean().optional() }), raw);
      await withProject(async (project) => {
        const context = await changeContext(project);
        authorize(context.principal, 'token.admin');
        const items = await context.tokens.listTokens({ includeInactive: o.all });
        if (o.json) return printJson({ items });
        printTable(['id', 'subject', 'role', 'grants', 'name', 'created', 'expires', 'state'], items.map(row));
      });
    });
  token
    .command('revoke')
    .description('revoke a token for good')
    .argument('<id>')
    .option('--json', 'print JSON')
    .action(async (id: string, raw: unknown) => {
      const o = parseOptions(z.object({ json: z.boolean().optional() }), raw);
      await withProject(async (project) => {
        const context = await changeContext(project);
        const revoked = await recordChange(context, { action: 'token.revoke', permission: 'token.admin', target: `token ${id}` }, () => context.tokens.revokeToken(id));
        if (o.json) return printJson(revoked);
        process.stdout.write(`revoked token ${revoked.id} of ${revoked.subject}\n`);
      });
    });
}
