/**
 * Rolling an alias back, with a confirmation, through the platform API's rollback route (the same
 * guarded, audited registry call as `loom models rollback`), and an alias's history of moves.
 * The Models and Deployments pages both use them, so a rollback looks and behaves the same in both.
 */
import { useState } from 'react';
import { LOOM, post, type AliasMove } from '../api';
import { ErrorBox, formatTime } from './common';

/** "Roll back <alias>…", then Confirm or Cancel; the server's refusal is shown as it said it. */
export function RollbackButton({ name, alias, onDone }: { name: string; alias: string; onDone(): void }) {
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  const rollback = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await post(`${LOOM}/models/${encodeURIComponent(name)}/aliases/${encodeURIComponent(alias)}/rollback`, {});
      setConfirming(false);
      onDone();
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      {!confirming ? (
        <button type="button" onClick={() => setConfirming(true)}>
          Roll back {alias}…
        </button>
      ) : (
        <div className="confirm" role="group" aria-label={`Confirm the rollback of ${alias}`}>
          <span>Move {alias} back to the version it held before?</span>
          <button type="button" onClick={rollback} disabled={busy}>
            Confirm rollback
          </button>
          <button type="button" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </div>
      )}
      {error && <ErrorBox error={error} />}
    </>
  );
}

/** An alias's moves, newest first: when, from which version to which, what kind of move, who and why. */
export function AliasHistory({ alias, moves }: { alias: string; moves: AliasMove[] }) {
  return (
    <table className="history">
      <caption>History of {alias}, newest first</caption>
      <thead>
        <tr>
          <th scope="col">When</th>
          <th scope="col">Move</th>
          <th scope="col">Kind</th>
          <th scope="col">Who</th>
          <th scope="col">Why</th>
        </tr>
      </thead>
      <tbody>
        {moves.map((m, i) => (
          <tr key={i}>
            <td>{formatTime(m.movedAt)}</td>
            <td>
              {m.previousVersion === null ? '—' : `v${m.previousVersion}`} → {m.version === null ? 'unset' : `v${m.version}`}
            </td>
            <td>{m.kind}</td>
            <td>{m.actor}</td>
            <td>{m.reason}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
