/**
 * Where a rollback takes an alias, from the alias's recorded moves alone. The moves are
 * replayed onto a stack of holders: a set (or approved) move pushes its version, a delete
 * pushes "unset", and a rollback pops back down to the version it restored. Rolling back
 * goes to the newest earlier holder that can still carry the alias, so a second rollback
 * walks further back instead of undoing the first.
 *
 * Usage: `rollbackTarget(movesOldestFirst, (v) => usable.has(v))`
 */
import type { AliasMoveKind } from './types.js';

export interface RecordedMove {
  version: number | null;
  kind: AliasMoveKind;
}

/** The holders after replaying the moves (oldest first); null means the alias was unset. */
export function holderStack(moves: readonly RecordedMove[]): (number | null)[] {
  const stack: (number | null)[] = [];
  for (const move of moves) {
    if (move.kind !== 'rollback') {
      stack.push(move.version);
      continue;
    }
    stack.pop();
    while (stack.length > 0 && stack[stack.length - 1] !== move.version) stack.pop();
    if (stack.length === 0) stack.push(move.version);
  }
  return stack;
}

/**
 * The version a rollback moves to, and the earlier holders passed over because they can
 * no longer carry the alias (deleted, archived, not READY). Undefined when there is none.
 */
export function rollbackTarget(moves: readonly RecordedMove[], usable: (version: number) => boolean): { version: number; skipped: number[] } | undefined {
  const stack = holderStack(moves);
  const current = stack[stack.length - 1] ?? null;
  const skipped: number[] = [];
  for (let i = stack.length - 2; i >= 0; i--) {
    const version = stack[i];
    if (version === null || version === current || skipped.includes(version)) continue;
    if (usable(version)) return { version, skipped };
    skipped.push(version);
  }
  return undefined;
}
