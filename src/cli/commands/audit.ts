/**
 * `loom audit`: the audit log, newest first (`--since`, `--model`, `--json`); `loom audit
 * verify` checks the hash chain and exits non-zero naming each changed or missing entry;
 * `loom audit export` writes JSON lines, oldest first, for ELK, Loki and the like.
 * Each needs the audit.read right (an admin token, or the project's own login).
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Command } from 'commander';
import { z } from 'zod';
import { LoomError } from '../../core/errors.js';
import { authorize } from '../../auth/authorize.js';
import { parseOptions } from '../options.js';
import { formatTime, printJson, printTable } from '../output.js';
import { withProject, type Project } from '../project.js';
import { changeContext } from '../security.js';

/** `--since`: an ISO date or time, or a duration back from now (`30m`, `24h`, `7d`). */
export function parseSince(text: string | undefined, now = Date.now()): number | undefined {
  if (text === undefined) return undefined;
  const ago = /^(\d{1,6})([mhd])$/.exec(text);
  if (ago) return now - Number(ago[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[ago[2] as 'm' | 'h' | 'd'];
  const at = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(at)) throw new LoomError('INVALID_ARGUMENT', `--since must be a date (2026-12-01, 2026-12-01T09:00Z) or a duration (30m, 24h, 7d), got ${JSON.stringify(text)}`, { field: '--since' });
  return at;
}

function parseAnchor(text: string | undefined): { seq: number; hash: string } | undefined {
  if (text === undefined) return undefined;
  const match = /^(\d+):([0-9a-f]{64})$/.exec(text);
  if (!match) throw new LoomError('INVALID_ARGUMENT', '--anchor must be SEQ:HASH as printed by an earlier `loom audit verify`', { field: '--anchor' });
  return { seq: Number(match[1]), hash: match[2]! };
}

async function auditFor(project: Project) {
  const context = await changeContext(project);
  authorize(context.principal, 'audit.read');
  return context.audit;
}

export function registerAuditCommands(program: Command): void {
  const audit = program
    .command('audit')
    .description('the audit log of every change: who, when, what, from where, before and after')
    .option('--since <when>', 'from a date or a duration back (24h, 7d)')
    .option('--model <name>', 'only changes to this registered model (deleted ones included)')
    .option('--limit <n>', 'at most this many entries', '100')
    .option('--json', 'print JSON')
    .action(async (raw: unknown) => {
      const o = parseOptions(z.object({ since: z.string().optional(), model: z.string().min(1).optional(), limit: z.coerce.number().int().min(1).max(10_000), json: z.boolean().optional() }), raw);
      await withProject(async (project) => {
        const page = await (await auditFor(project)).list({ since: parseSince(o.since), model: o.model, pageSize: o.limit });
        if (o.json) return printJson(page);
        printTable(['seq', 'when', 'who', 'from', 'action', 'target'], page.items.map((e) => [e.seq, formatTime(e.at), e.actor, e.address, e.action, e.target]));
      });
    });
  audit
    .command('verify')
    .description('check the hash chain; exits non-zero naming each changed or missing entry')
    .option('--anchor <seq:hash>', 'a head printed by an earlier verify, to catch entries cut off the end')
    .option('--json', 'print JSON')
    .action(async (raw: unknown) => {
      const o = parseOptions(z.object({ anchor: z.string().optional(), json: z.boolean().optional() }), raw);
      await withProject(async (project) => {
        const report = await (await auditFor(project)).verify({ anchor: parseAnchor(o.anchor) });
        if (o.json) printJson(report);
        else if (report.ok) process.stdout.write(`ok: ${report.checked} entries, head ${report.head ? `${report.head.seq}:${report.head.hash}` : '(empty)'}\n`);
        if (!report.ok) {
          throw new LoomError('FAILED_PRECONDITION', `the audit log fails verification:\n${report.problems.map((p) => `  ${p.message}`).join('\n')}`, {
            fix: 'compare with the last export or backup to see what changed, and find who had direct access to the database',
          });
        }
      });
    });
  audit
    .command('export')
    .description('every entry as JSON lines, oldest first (for ELK, Loki, …)')
    .option('--since <when>', 'from a date or a duration back (24h, 7d)')
    .option('--output <file>', 'write to a file instead of stdout')
    .action(async (raw: unknown) => {
      const o = parseOptions(z.object({ since: z.string().optional(), output: z.string().min(1).optional() }), raw);
      await withProject(async (project) => {
        const log = await auditFor(project);
        const out = o.output ? createWriteStream(o.output, { flags: 'wx', mode: 0o600 }) : process.stdout;
        for await (const entry of log.stream({ since: parseSince(o.since) })) {
          if (!out.write(`${JSON.stringify(entry)}\n`)) await once(out, 'drain');
        }
        if (o.output) await new Promise<void>((resolve, reject) => (out as ReturnType<typeof createWriteStream>).end((error?: Error | null) => (error ? reject(error) : resolve())));
      });
    });
}
