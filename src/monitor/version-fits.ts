/**
 * Fits that depend on the served version alone (the PCA of multivariate drift, fitted on its
 * training rows; CBPE's calibration, fitted on its evaluation split), computed by the first
 * window of that version and reused by every later one: refitting them per window cost more
 * than the window's own analysis.
 *
 * A fit is looked for in memory (this process's earlier windows), then in the project's fit
 * store when the scope has one (`fit-store.ts`: another process's, e.g. an earlier
 * `loom monitor` call or a server before its restart), and only then made, and written to
 * the store. The store is a cache: a read or write that fails never fails the window (it is
 * reported through `warn`), and a stored payload that does not validate against its format
 * (`fit-store-formats.ts`) is refitted and overwritten, never trusted.
 *
 * A scope is one model and one kind of fit (drift, quality); within it at most
 * `VERSIONS_KEPT` versions are kept (a primary and a canary are served at once), the least
 * recently used dropped first, so a newly served version invalidates the oldest. A version
 * is named by an `identity` that changes with the fit's inputs (version number, artifact
 * ids, absolute artifact paths): two stores with a model of the same name and version never
 * share a fit. A fit that fails is forgotten, so the next window tries again. A fit served
 * from memory still tells the store of its use every `FIT_USE_TOUCH_MS`, so another process's
 * newer versions do not evict the one this process serves.
 *
 * Usage: `const pca = await versionFits.scope('drift', 'flights', identity, platform.monitorFits).get('reconstruction', () => fit(), RECONSTRUCTION_FIT)`
 */
import { decodeFit, encodeFit, type FitFormat } from './fit-store-formats.js';
import { FIT_USE_TOUCH_MS, type FitKey, type FitStore } from './fit-store.js';

/** Versions kept per model and kind: the primary and a canary. */
export const VERSIONS_KEPT = 2;

/** The fits of one served version. */
export interface FitScope {
  /**
   * The fit named `name`, made by `make` the first time and kept for the version's later
   * windows; with `format` (and a store on the scope) also kept for later processes.
   */
  get<T>(name: string, make: () => Promise<T>, format?: FitFormat<T>): Promise<T>;
}

export interface VersionFitsOptions {
  /** Told when the fit store cannot be read or written, or holds a payload that is refitted; the window goes on. */
  warn?: (message: string) => void;
  /** The clock, epoch ms (a test's, to pass `FIT_USE_TOUCH_MS` without waiting); `Date.now` by default. */
  now?: () => number;
}

/** Per-version fits, bounded per model and kind. */
export class VersionFits {
  private readonly scopes = new Map<string, { identity: string; fits: Map<string, Promise<unknown>>; usedAt: number }[]>();
  private readonly warn: (message: string) => void;
  private readonly now: () => number;

  constructor(options: VersionFitsOptions = {}) {
    this.warn = options.warn ?? ((message) => process.emitWarning(message, 'LoomFitStore'));
    this.now = options.now ?? Date.now;
  }

  /** The scope of `model`'s version named by `identity`, for fits of `kind`; its fits also kept in `store` when given. */
  scope(kind: string, model: string, identity: string, store?: FitStore): FitScope {
    const key = JSON.stringify([kind, model]);
    const versions = this.scopes.get(key) ?? [];
    this.scopes.set(key, versions);
    const found = versions.findIndex((v) => v.identity === identity);
    const entry = found >= 0 ? versions.splice(found, 1)[0]! : { identity, fits: new Map<string, Promise<unknown>>(), usedAt: this.now() };
    versions.unshift(entry);
    versions.splice(VERSIONS_KEPT);
    const { warn, now } = this;
    return {
      get<T>(name: string, make: () => Promise<T>, format?: FitFormat<T>): Promise<T> {
        const kept = entry.fits.get(name);
        if (kept) {
          if (!store || !format || now() - entry.usedAt < FIT_USE_TOUCH_MS) return kept as Promise<T>;
          entry.usedAt = now();
          return touched({ kind, model, identity, name }, store, entry.usedAt, warn).then(() => kept as Promise<T>);
        }
        const made = store && format ? throughStore({ kind, model, identity, name }, store, format, make, warn, now) : make();
        entry.fits.set(name, made);
        made.catch(() => entry.fits.delete(name));
        return made;
      },
    };
  }

  /** Forgets every fit (for a process that reloads its stores). */
  clear(): void {
    this.scopes.clear();
  }
}

/** The stored fit when it validates; otherwise made and written (a failed write only warns). */
async function throughStore<T>(key: FitKey, store: FitStore, format: FitFormat<T>, make: () => Promise<T>, warn: (message: string) => void, now: () => number): Promise<T> {
  const what = `the ${key.kind} fit "${key.name}" of ${key.model}`;
  try {
    const stored = await store.read(key, now());
    if (stored) {
      const decoded = decodeFit(format, stored.payload);
      if (decoded.ok) return decoded.fit;
      warn(`${what} in the fit store is unusable (${decoded.reason}); fitting it again`);
    }
  } catch (error) {
    warn(`reading ${what} from the fit store failed (${(error as Error).message}); fitting it again`);
  }
  const fit = await make();
  try {
    await store.write(key, encodeFit(format, fit), now());
  } catch (error) {
    warn(`writing ${what} to the fit store failed (${(error as Error).message}); the next process fits it again`);
  }
  return fit;
}

/** Tells the store of a use of a fit served from memory; a failure only warns, as the store is a cache. */
async function touched(key: FitKey, store: FitStore, now: number, warn: (message: string) => void): Promise<void> {
  try {
    await store.touch(key, now);
  } catch (error) {
    warn(`recording the use of the ${key.kind} fit "${key.name}" of ${key.model} in the fit store failed (${(error as Error).message}); another process may evict it`);
  }
}

/** The process's fits: what `monitorVersion` and `onlineQuality` reuse between windows. */
export const versionFits = new VersionFits();
