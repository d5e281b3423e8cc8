/**
 * The one way a change is made on someone's behalf: check the principal may make it,
 * read the state before, make it, and append who/when/what/where/before/after to the
 * audit log. The registry guard uses it for every registry write; other writers
 * (deployments, tracking deletions) call it the same way.
 *
 * Usage: `await recordChange(context, { action: 'deployment.set', permission: 'deploy', model, target }, () => deployments.set(...), (d) => d)`
 */
import type { JsonValue } from '../core/json.js';
import { authorize } from '../auth/authorize.js';
import type { Action, Principal } from '../auth/types.js';
import type { AuditLog } from './audit-log.js';

/** Who is acting and from where, bound once per request (HTTP) or per command (CLI). */
export interface ChangeContext {
  principal: Principal;
  /** The client address of an HTTP request, or `cli` (with the host) for the command line. */
  address: string;
  audit: AuditLog;
  /** Why, for every change of this command (`--reason`); a change's own reason (an alias move's) wins. */
  reason?: string;
}

export interface ChangeSpec {
  /** `noun.verb`, as recorded: `alias.set`, `model.delete`. */
  action: string;
  /** What `authorize` is asked. */
  permission: Action;
  model?: string;
  /** For alias actions: the alias, which per-model grants may name. */
  alias?: string;
  /** The thing changed as people name it: `flights@champion`, `flights v3`. */
  target: string;
  /** Why this change was made, when the change itself carries a reason. */
  reason?: string;
  /** Reads the state before the change (after the permission check). */
  before?: () => Promise<unknown>;
}

/** Plain data as JSON: drops undefined fields, so what is hashed is what is stored. */
export function asJson(value: unknown): JsonValue | null {
  return value === undefined ? null : (JSON.parse(JSON.stringify(value)) as JsonValue);
}

/** What a change's result says about it: the state after, and the state before when only the change knows it (a deletion's tombstone). */
export type ChangeOutcome<T> = (result: T) => { after: unknown; before?: unknown };

/**
 * Authorizes, runs and records one change. The state before is read, the change made and
 * its entry appended in one transaction (`AuditLog.record`): a change that fails records
 * nothing, and an entry that cannot be written rolls the change back.
 */
export async function recordChange<T>(context: ChangeContext, spec: ChangeSpec, run: () => Promise<T>, outcome: ChangeOutcome<T> = (after) => ({ after })): Promise<T> {
  authorize(context.principal, spec.permission, { model: spec.model, alias: spec.alias });
  let read: unknown;
  return context.audit.record(
    async () => {
      read = spec.before ? await spec.before() : undefined;
      return run();
    },
    (result) => {
      const described = outcome(result);
      const before = asJson('before' in described ? described.before : read);
      return { actor: context.principal.subject, address: context.address, action: spec.action, model: spec.model ?? null, target: spec.target, reason: spec.reason || context.reason || '', before, after: asJson(described.after) };
    },
  );
}
