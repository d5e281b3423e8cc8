/**
 * Alert rules, kept in a file in the user's repository (YAML or JSON; `loom-alerts.yaml`
 * by convention), like Prometheus alerting rules: each names a monitored metric of a
 * model, the windows it is read on, a threshold (or a statistical test's p-value), how
 * many windows in a row must breach it, a severity, a cool-down, and what to do. A
 * malformed file is refused whole, with every problem's field named and a fix.
 *
 * Usage: `const rules = await readAlertRules('loom-alerts.yaml');`
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { LoomError } from '../../core/errors.js';
import { parseInput } from '../../core/validation.js';
import { ESTIMATED_METRICS } from '../cbpe.js';

/** A duration as people write it: `90s`, `15m`, `6h`, `2d`. */
const DURATION = /^(\d+)(s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds of a duration such as `6h`. */
export function durationMs(text: string): number {
  const match = DURATION.exec(text)!;
  return Number(match[1]) * UNIT_MS[match[2]!]!;
}

/** The metrics a rule may watch: the drift figures the monitoring history keeps. */
export const METRIC = /^drift\.(training|previous|prediction)\.([^.\s]+)(?:\.([a-z_]+))?$/;
/** ... and its online quality figures: estimated from the scores (CBPE) or measured on the labelled rows. */
export const QUALITY_METRIC = new RegExp(`^quality\\.(estimated|measured)\\.(${ESTIMATED_METRICS.join('|')})$`);

const duration = z.string().regex(DURATION, 'a duration such as 90s, 15m, 6h or 2d');

const webhookAction = z.strictObject({
  type: z.literal('webhook'),
  url: z.url({ protocol: /^https?$/, error: 'an http(s) URL' }),
  /** Per attempt; default 5 s. */
  timeout: duration.default('5s'),
  /** Attempts after the first, each after twice the previous wait (1 s, 2 s, 4 s ...). */
  retries: z.number().int().min(0).max(10).default(3),
});
const logAction = z.strictObject({ type: z.literal('log') });
const rollbackAction = z.strictObject({
  type: z.literal('rollback'),
  /** The alias rolled back to its previous holder. */
  alias: z.string().min(1).default('champion'),
});
const retrainAction = z.strictObject({
  type: z.literal('retrain'),
  /** The pipeline file to run on the newest data, relative to the rules file. */
  pipeline: z.string().min(1),
});

export const alertAction = z.discriminatedUnion('type', [webhookAction, logAction, rollbackAction, retrainAction]);
export type AlertAction = z.infer<typeof alertAction>;

/** When a window's value breaches: above or below a bound, or a test's p-value under a level. */
const condition = z.union(
  [z.strictObject({ above: z.number() }), z.strictObject({ below: z.number() }), z.strictObject({ pValueBelow: z.number().gt(0).lt(1) })],
  // The union's own message would be "Invalid input": say which shapes it takes.
  { error: 'one of { above: <number> }, { below: <number> } or { pValueBelow: <number between 0 and 1> }, with a finite number' },
);
export type AlertCondition = z.infer<typeof condition>;

/** Windows as the monitor computes them. */
const window = z.union([z.enum(['hourly', 'daily']), z.strictObject({ requests: z.number().int().positive() })]);
export type AlertWindow = z.infer<typeof window>;

export const alertRule = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, dot, dash or underscore'),
  /** The served model's name. */
  model: z.string().min(1),
  /**
   * A figure the monitor records: `drift.<against>.<feature>[.<measure>]`, against `training`,
   * `previous` (the window before) or `prediction` (the model's outputs), e.g.
   * `drift.training.distance` or `drift.prediction.probability.jensen_shannon`; or a binary
   * classifier's online quality, `quality.<estimated|measured>.<auc|accuracy|precision|recall|f1>`.
   */
  metric: z
    .string()
    .refine(
      (text) => METRIC.test(text) || QUALITY_METRIC.test(text),
      'drift.<training|previous|prediction>.<feature>[.<measure>] (e.g. drift.training.distance) or quality.<estimated|measured>.<auc|accuracy|precision|recall|f1> (e.g. quality.estimated.auc)',
    ),
  window: window.default('hourly'),
  when: condition,
  /** Windows in a row that must breach before the rule fires. */
  for: z.number().int().positive().default(1),
  severity: z.enum(['info', 'warning', 'critical']).default('warning'),
  /** After firing, the rule stays quiet this long. */
  cooldown: duration.default('1h'),
  actions: z.array(alertAction).min(1),
});
export type AlertRule = z.infer<typeof alertRule>;

const rulesFile = z
  .strictObject({ rules: z.array(alertRule).min(1) })
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    file.rules.forEach((rule, i) => {
      if (seen.has(rule.name)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'name'], message: `the rule name "${rule.name}" is used twice; names identify rules in the alert history` });
      seen.add(rule.name);
    });
  });

/** What to do about a file the YAML parser refused. */
function yamlFix(error: unknown): string {
  if (error instanceof YAMLParseError) return 'fix the syntax at that line';
  // Not a syntax error: an alias naming no anchor before it, a merge key given no map, or aliases the parser refused to expand without bound (a "billion laughs").
  const message = (error as Error).message;
  if (/unresolved alias/i.test(message)) return "define the anchor (&name) before the alias (*name) that uses it, or correct the alias's name";
  if (/merge sources/i.test(message)) return 'give a merge key (<<) an alias of a map (<<: *defaults) or a list of them (<<: [*a, *b])';
  return 'write the rules out, without aliases that expand into many copies';
}

/** Rules from a file's text; `source` names the file in errors. */
export function parseAlertRules(text: string, source: string): AlertRule[] {
  let data: unknown;
  try {
    // Merge keys (`<<: *defaults`), as YAML 1.1 files (Compose, Kubernetes, CI configs) use them to share a rule's common fields.
    data = parseYaml(text, { merge: true });
  } catch (error) {
    const where = error instanceof YAMLParseError ? ` (line ${error.linePos?.[0].line})` : '';
    throw new LoomError('INVALID_ARGUMENT', `${source} is not valid YAML or JSON${where}: ${(error as Error).message.split('\n')[0]}`, { field: source, fix: yamlFix(error) });
  }
  if (data === null || data === undefined || typeof data !== 'object' || Array.isArray(data)) {
    const what = data === null || data === undefined ? 'is empty' : `holds ${Array.isArray(data) ? 'a list' : `the ${typeof data} ${JSON.stringify(data)}`}`;
    throw new LoomError('INVALID_ARGUMENT', `${source} ${what}, not a map with a "rules" list`, { field: source, fix: 'write `rules:` followed by at least one rule (see docs/alerts.md)' });
  }
  return parseInput(rulesFile, data, { what: source, fix: 'see docs/alerts.md for the rule format' }).rules;
}

/** Rules from a file in the user's repository. */
export async function readAlertRules(path: string): Promise<AlertRule[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw unreadableRules(path, error);
  }
  return parseAlertRules(text, path);
}

/** Why the rules file cannot be read, and what to give instead. */
function unreadableRules(path: string, error: unknown): LoomError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EISDIR') {
    return new LoomError('INVALID_ARGUMENT', `${path} is a directory, not an alert rules file`, { field: 'rules', fix: `give the rules file itself with --rules, e.g. ${join(path, 'loom-alerts.yaml')}` });
  }
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new LoomError('NOT_FOUND', `no alert rules file at ${path}`, { field: 'rules', fix: 'create it (see docs/alerts.md) or pass its path with --rules' });
  }
  const denied = code === 'EACCES' || code === 'EPERM';
  return new LoomError(denied ? 'PERMISSION_DENIED' : 'UNAVAILABLE', `cannot read the alert rules file ${path}: ${(error as Error).message}`, {
    field: 'rules',
    fix: denied ? 'make the file readable by this user, or pass another path with --rules' : 'check the disk or mount holding it, or pass another path with --rules',
  });
}
