/**
 * The one authorization rule: may this principal do this action on this resource?
 * Roles give the defaults (viewer reads and predicts; editor also writes, moves aliases, approves and
 * deploys; admin does everything); for a model named in the principal's grants, the grants
 * decide the model actions instead, so a viewer can be allowed to approve `flights` and an
 * editor can be limited to moving `@staging`.
 *
 * Usage: `authorize(principal, 'alias.move', { model: 'flights', alias: 'champion' })` (throws PERMISSION_DENIED).
 */
import { LoomError } from '../core/errors.js';
import { MODEL_ACTIONS, ROLES, type Action, type ModelAction, type Principal, type Resource, type Role } from './types.js';

/** The weakest role allowed each action when no grant applies. */
const MINIMUM_ROLE: Record<Action, Role> = {
  read: 'viewer',
  write: 'editor',
  'alias.move': 'editor',
  'alias.approve': 'editor',
  deploy: 'editor',
  predict: 'viewer',
  'model.admin': 'admin',
  'token.admin': 'admin',
  'audit.read': 'admin',
};

function atLeast(role: Role, minimum: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(minimum);
}

/** The actions a grant's `aliases` narrows; the others are about the whole model. */
const ALIAS_ACTIONS: readonly Action[] = ['alias.move', 'alias.approve'];

function isModelAction(action: Action): action is ModelAction {
  return (MODEL_ACTIONS as readonly string[]).includes(action);
}

/** True when the principal may do the action; `authorize` is the throwing form. */
export function isAllowed(principal: Principal, action: Action, resource: Resource = {}): boolean {
  if (principal.role === 'admin') return true;
  if (isModelAction(action) && resource.model !== undefined) {
    const grants = principal.grants.filter((g) => g.model === resource.model);
    if (grants.length > 0) {
      return grants.some(
        (g) => g.actions.includes(action) && (!ALIAS_ACTIONS.includes(action) || g.aliases === undefined || (resource.alias !== undefined && g.aliases.includes(resource.alias))),
      );
    }
  }
  return atLeast(principal.role, MINIMUM_ROLE[action]);
}

function describeResource(resource: Resource): string {
  if (resource.model === undefined) return '';
  return resource.alias === undefined ? ` on "${resource.model}"` : ` on "${resource.model}@${resource.alias}"`;
}

/** Throws PERMISSION_DENIED unless the principal may do the action on the resource. */
export function authorize(principal: Principal, action: Action, resource: Resource = {}): void {
  if (isAllowed(principal, action, resource)) return;
  const granted = isModelAction(action) && principal.grants.some((g) => g.model === resource.model);
  throw new LoomError('PERMISSION_DENIED', `${principal.subject} (${principal.role}) may not ${action}${describeResource(resource)}`, {
    fix: granted
      ? `its per-model grants for "${resource.model}" do not include this; an admin can issue a token with the grant (\`loom token create --grant ...\`)`
      : `this needs the ${MINIMUM_ROLE[action]} role; ask an admin for a token with it (\`loom token create --role ${MINIMUM_ROLE[action]}\`)`,
  });
}
