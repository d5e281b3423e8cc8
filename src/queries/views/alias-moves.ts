/**
 * An alias's moves, as `/api/loom/models/:name/aliases/:alias/history` answers them and the
 * registry stores them (registry/types.ts re-exports these): the dashboard imports them too, so
 * this module imports nothing (no Node). `ALIAS_MOVE_KINDS` is the one value here: the list the
 * kind type comes from.
 */

export const ALIAS_MOVE_KINDS = ['set', 'delete', 'rollback', 'approved'] as const;
/** How an alias moved: set directly, removed, rolled back, or set by an approved request. */
export type AliasMoveKind = (typeof ALIAS_MOVE_KINDS)[number];

/** One move of an alias; `version` null means the alias was removed. */
export interface AliasMove {
  modelName: string;
  alias: string;
  version: number | null;
  previousVersion: number | null;
  actor: string;
  reason: string;
  movedAt: number;
  kind: AliasMoveKind;
}
