/**
 * Signing in with an API token (`loom token create`), for a server with authentication on: the
 * app first asks the server who it is (/api/loom/session); a 401 there, or on any later call
 * (a revoked or expired token), shows the sign-in form instead of the page. The token is kept by
 * `session` in api.ts, which sends it on every call; signing out forgets it.
 */
import { useEffect, useState, useSyncExternalStore, type FormEvent, type ReactNode } from 'react';
import { ApiError, LOOM, UNAUTHENTICATED_EVENT, get, session, type SessionView } from '../api';
import { ErrorBox } from './common';

interface SessionState {
  /** Still asking the server. */
  checking: boolean;
  /** The server wants a token this tab does not have (or that it refused). */
  needed: boolean;
  who?: SessionView;
  error?: Error;
}

// One state for the header and the page gate, changed by the checks below and the 401 event.
let state: SessionState = { checking: true, needed: false };
const listeners = new Set<() => void>();
function update(next: SessionState): void {
  state = next;
  for (const listener of listeners) listener();
}
const subscribe = (listener: () => void) => {
  listeners.add(listener);
  return () => void listeners.delete(listener);
};
window.addEventListener(UNAUTHENTICATED_EVENT, () => update({ checking: false, needed: true }));

/** Asks the server who this tab is; a 401 means a token is needed. */
async function check(): Promise<SessionState> {
  try {
    const who = await get<SessionView>(`${LOOM}/session`);
    return { checking: false, needed: false, who };
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return { checking: false, needed: true, error: session.token() ? error : undefined };
    return { checking: false, needed: false, error: error as Error };
  }
}

function useSession(): SessionState {
  return useSyncExternalStore(subscribe, () => state);
}

/** The page, once the server accepts this tab; the sign-in form when it wants a token. */
export function SessionGate({ children }: { children: ReactNode }) {
  const current = useSession();
  useEffect(() => {
    void check().then(update);
  }, []);
  if (current.checking) return <p className="muted">Loading…</p>;
  if (current.needed) return <SignInForm refused={current.error} />;
  return <>{children}</>;
}

/** Who is signed in, and the sign-out button (only for a token: an open server has nobody to sign out). */
export function SessionStatus() {
  const { who } = useSession();
  if (!who || (who.source !== 'token' && who.source !== 'jwt')) return null;
  const signOut = async () => {
    session.signOut();
    update(await check());
  };
  return (
    <span className="session">
      <span>
        {who.subject} ({who.role})
      </span>
      <button type="button" onClick={signOut}>
        Sign out
      </button>
    </span>
  );
}

function SignInForm({ refused }: { refused?: Error }) {
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    session.signIn(token.trim());
    const next = await check();
    // A refused token is not kept: the form asks again and says why.
    if (next.needed) session.signOut();
    setBusy(false);
    update(next);
  };
  return (
    <section aria-labelledby="sign-in-h" className="sign-in">
      <h1 id="sign-in-h">Sign in</h1>
      <p>This server needs an API token. Create one with `loom token create --subject &lt;you&gt; --role viewer` and paste it here; it is kept for this tab only.</p>
      <form onSubmit={submit} className="filter">
        <label htmlFor="sign-in-token">API token</label>
        <input id="sign-in-token" type="password" autoComplete="off" size={48} value={token} onChange={(e) => setToken(e.target.value)} required />
        <button type="submit" disabled={busy || token.trim() === ''}>
          Sign in
        </button>
      </form>
      {refused && <ErrorBox error={refused} />}
    </section>
  );
}
