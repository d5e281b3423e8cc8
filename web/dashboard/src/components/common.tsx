/** Small pieces every page uses: loading a resource, showing the server's error, formatting. */
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { ApiError } from '../api';

export interface Loaded<T> {
  data?: T;
  error?: Error;
  loading: boolean;
  reload(): void;
}

/** Runs `load` whenever `key` changes, cancelling the request it replaces. */
export function useApi<T>(load: (signal: AbortSignal) => Promise<T>, key: string): Loaded<T> {
  const [state, setState] = useState<{ key?: string; data?: T; error?: Error; loading: boolean }>({ loading: true });
  const [generation, setGeneration] = useState(0);
  // `key` names everything `load` depends on, so the closure is taken anew only when it changes.
  const run = useCallback(load, [key]);
  useEffect(() => {
    const controller = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    run(controller.signal).then(
      (data) => setState({ key, data, loading: false }),
      (error: Error) => {
        if (!controller.signal.aborted) setState({ key, error, loading: false });
      },
    );
    return () => controller.abort();
  }, [run, generation, key]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  // A reload keeps the data shown until the new answer comes; another key's data is not this key's (the route
  // changed under the page: another run, another model), so the page shows loading instead of mixing the two.
  const current = state.key === key ? state : { loading: true };
  return { ...current, reload };
}

/** The server's message and fix, as it sent them. */
export function ErrorBox({ error }: { error: Error }) {
  return (
    <div className="error" role="alert">
      <strong>{error.message}</strong>
      {error instanceof ApiError && error.fix && <div className="fix">fix: {error.fix}</div>}
    </div>
  );
}

/** Loading, error or the content. */
export function Show<T>({ loaded, children }: { loaded: Loaded<T>; children: (data: T) => ReactNode }) {
  if (loaded.error) return <ErrorBox error={loaded.error} />;
  if (loaded.data === undefined) return <p className="muted">Loading…</p>;
  return <>{children(loaded.data)}</>;
}

export function formatTime(ms: number | null | undefined): string {
  if (!ms) return '—';
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function formatNumber(value: number | string | undefined): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  if (Number.isInteger(value)) return value.toLocaleString('en');
  return Math.abs(value) >= 1000 || Math.abs(value) < 0.001 ? value.toPrecision(4) : value.toFixed(4);
}

/** A state as a coloured badge; the word is always written, so colour is never the only cue. */
export function StateBadge({ state }: { state: string }) {
  return <span className={`badge state-${state.toLowerCase()}`}>{state}</span>;
}

/** The "Next page" control of a server-paged list: shown only when the server gave a next page token. */
export function NextPage({ token, go }: { token: string | undefined; go: (token: string) => void }) {
  if (!token) return null;
  return (
    <nav className="pager" aria-label="Pages">
      <button type="button" onClick={() => go(token)}>
        Next page
      </button>
    </nav>
  );
}
