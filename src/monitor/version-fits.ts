/**
 * Fits that depend on the served version alone (the PCA of multivariate drift, fitted on its
 * training rows; CBPE's calibration, fitted on its evaluation split), computed by the first
 * window of that version and reused by every later one in the process: refitting them per
 * window cost more than the window's own analysis.
 *
 * A scope is one model and one kind of fit (drift, quality); within it at most
 * `VERSIONS_KEPT` versions are kept (a primary and a canary are served at once), the least
 * recently used dropped first, so a newly served version invalidates the oldest. A version
 * is named by an `identity` that changes with the fit's inputs (version number, artifact
 * ids, absolute artifact paths): two stores with a model of the same name and version never
 * share a fit. A fit that fails is forgotten, so the next window tries again.
 *
 * Usage: `const pca = await versionFits.scope('drift', 'flights', identity).get('reconstruction', () => fit())`
 */

/** Versions kept per model and kind: the primary and a canary. */
export const VERSIONS_KEPT = 2;

/** The fits of one served version. */
export interface FitScope {
  /** The fit named `name`, made by `make` the first time and kept for the version's later windows. */
  get<T>(name: string, make: () => Promise<T>): Promise<T>;
}

/** Per-version fits, bounded per model and kind. */
export class VersionFits {
  private readonly scopes = new Map<string, { identity: string; fits: Map<string, Promise<unknown>> }[]>();

  /** The scope of `model`'s version named by `identity`, for fits of `kind`. */
  scope(kind: string, model: string, identity: string): FitScope {
    const key = JSON.stringify([kind, model]);
    const versions = this.scopes.get(key) ?? [];
    this.scopes.set(key, versions);
    const found = versions.findIndex((v) => v.identity === identity);
    const entry = found >= 0 ? versions.splice(found, 1)[0]! : { identity, fits: new Map<string, Promise<unknown>>() };
    versions.unshift(entry);
    versions.splice(VERSIONS_KEPT);
    return {
      get<T>(name: string, make: () => Promise<T>): Promise<T> {
        const kept = entry.fits.get(name);
        if (kept) return kept as Promise<T>;
        const made = make();
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

/** The process's fits: what `monitorVersion` and `onlineQuality` reuse between windows. */
export const versionFits = new VersionFits();
