/**
 * Whether a rule fires, from the metric's values over its latest windows: the pure core
 * of alerting. A rule fires when its last `for` windows all breach its condition, the
 * newest of them is newer than what it last fired on, and its cool-down has passed. Time
 * is the windows' own (their end), never the wall clock, so replaying old traffic (the
 * demo's loop, a backfill) fires exactly as live traffic would have.
 *
 * Usage: `const decision = decideAlert(rule, points, history.lastFired(rule.name));`
 */
import type { AlertCondition, AlertRule } from './rules.js';
import { durationMs } from './rules.js';

/** One window's value of a rule's metric for one model version. */
export interface MetricPoint {
  /** The window's bounds, ms since the epoch (end exclusive). */
  windowStart: number;
  windowEnd: number;
  modelVersion: number;
  value: number;
  /** The statistical test's p-value, for metrics that are tests. */
  pValue?: number;
}

/** When the rule last fired: the end of the newest window it fired on. */
export interface LastFiring {
  windowEnd: number;
}

export type AlertDecision =
  | { fire: false; reason: string }
  | { fire: true; points: MetricPoint[]; summary: string };

/** Whether one window breaches the condition (a missing p-value never breaches a test). */
export function breaches(condition: AlertCondition, point: MetricPoint): boolean {
  if ('above' in condition) return point.value > condition.above;
  if ('below' in condition) return point.value < condition.below;
  return point.pValue !== undefined && point.pValue < condition.pValueBelow;
}

/** The condition as people read it: `> 0.2`, `p < 0.01`. */
export function describeCondition(condition: AlertCondition): string {
  if ('above' in condition) return `> ${condition.above}`;
  if ('below' in condition) return `< ${condition.below}`;
  return `p < ${condition.pValueBelow}`;
}

/** The decision for `rule` given its metric's windows, oldest first. */
export function decideAlert(rule: AlertRule, points: readonly MetricPoint[], last: LastFiring | undefined): AlertDecision {
  if (points.length < rule.for) return { fire: false, reason: `${points.length} of the ${rule.for} windows it needs` };
  const recent = points.slice(-rule.for);
  const newest = recent[recent.length - 1]!;
  const calm = recent.find((point) => !breaches(rule.when, point));
  if (calm) return { fire: false, reason: `${rule.metric} = ${calm.value} in the window ending ${iso(calm.windowEnd)} does not breach ${describeCondition(rule.when)}` };
  if (last && newest.windowEnd <= last.windowEnd) return { fire: false, reason: `already fired on the window ending ${iso(last.windowEnd)}` };
  if (last && newest.windowEnd - last.windowEnd < durationMs(rule.cooldown)) {
    return { fire: false, reason: `cooling down: fired on the window ending ${iso(last.windowEnd)}, cool-down ${rule.cooldown}` };
  }
  const values = recent.map((point) => (point.pValue === undefined ? String(point.value) : `${point.value} (p=${point.pValue})`)).join(', ');
  return { fire: true, points: recent, summary: `${rule.model} v${newest.modelVersion}: ${rule.metric} ${describeCondition(rule.when)} in ${rule.for} window(s) in a row: ${values}` };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
