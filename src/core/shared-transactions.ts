/**
 * One transaction across stores. The stores share one Kysely instance and each opens its
 * own transaction for its writes; a change and its audit entry must commit together, so
 * the instance every Loom database is opened with joins an open transaction instead of
 * starting a second one: inside `db.transaction().execute(work)`, every query `work`
 * makes through `db` (directly or through any store built on it), and every nested
 * `db.transaction()`, runs on that one transaction. A failure anywhere rolls all of it back.
 *
 * The open transaction is found through AsyncLocalStorage, so concurrent requests on one
 * process never see each other's transaction, and it is forgotten when it ends (work a
 * transaction started in the background then runs on its own again).
 *
 * Usage: `const db = shareTransactions(new Kysely(...))` (done where Loom opens a database);
 *        `await db.transaction().execute(async () => { await registry.setAlias(...); await audit.append([...]); })`
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Kysely, Transaction } from 'kysely';

interface OpenTransaction {
  trx: Transaction<unknown>;
  open: boolean;
}

/** What `transaction()` returns: Kysely's builder, minus the options a joined transaction cannot change. */
interface JoiningTransactionBuilder {
  setIsolationLevel(level: string): JoiningTransactionBuilder;
  setAccessMode(mode: string): JoiningTransactionBuilder;
  execute<T>(work: (trx: Transaction<unknown>) => Promise<T>): Promise<T>;
}

const SHARED = Symbol('loom.sharedTransactions');

/** True when `db` came from `shareTransactions` (so its transactions join). */
export function sharesTransactions(db: object): boolean {
  return (db as { [SHARED]?: boolean })[SHARED] === true;
}

/** Wraps a Kysely instance so its transactions nest by joining; wrapping twice returns the same wrapper. */
export function shareTransactions<DB>(root: Kysely<DB>): Kysely<DB> {
  if (sharesTransactions(root)) return root;
  const current = new AsyncLocalStorage<OpenTransaction>();
  const active = () => {
    const found = current.getStore();
    return found?.open ? found.trx : undefined;
  };
  const begin = (builder: ReturnType<Kysely<DB>['transaction']>): JoiningTransactionBuilder => ({
    setIsolationLevel: (level) => begin(builder.setIsolationLevel(level as never)),
    setAccessMode: (mode) => begin(builder.setAccessMode(mode as never)),
    execute: (work) =>
      builder.execute((trx) => {
        const state: OpenTransaction = { trx: trx as Transaction<unknown>, open: true };
        return current.run(state, async () => {
          try {
            return await work(trx as Transaction<unknown>);
          } finally {
            state.open = false;
          }
        });
      }),
  });
  const join = (trx: Transaction<unknown>): JoiningTransactionBuilder => ({
    // The outer transaction's options hold for the whole of it.
    setIsolationLevel: () => join(trx),
    setAccessMode: () => join(trx),
    execute: (work) => work(trx),
  });
  return new Proxy(root, {
    get(target, property) {
      if (property === SHARED) return true;
      const trx = active();
      if (property === 'transaction') return () => (trx ? join(trx) : begin(target.transaction()));
      // Kysely keeps its state in private fields: methods must run on the real instance.
      const source = (trx ?? target) as object;
      const value = Reflect.get(source, property, source) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(source) : value;
    },
  });
}
