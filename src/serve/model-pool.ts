/**
 * The models a server holds, and how a request picks one. A *slot* is one reference
 * (`flights@champion`, `flights@3`) with the version currently loaded for it; an
 * *endpoint* is a model name as clients address it: a primary slot, optionally a canary
 * slot taking a weighted share of traffic and a shadow slot that sees a copy of every
 * request, plus any other slots loaded for the same name (addressable by version).
 *
 * Hot swap: `refresh()` asks the registry where each alias slot points; when it moved,
 * the new version is loaded and warmed up (a real inference), then swapped in with one
 * assignment, so every request from then on gets the new one; the old version is closed
 * only after its in-flight requests are released. A version that fails to load or warm
 * up is reported (logger, metric, `status`) and the old one keeps serving. Slots that
 * point at the same version share one session (`LoadedVersions`). A reference that could
 * not load (a model not registered yet) is retried by every `refresh()` until it loads.
 *
 * Usage: `const pool = new ModelPool(services, options); await pool.configure(endpoints); const route = pool.route('flights');`
 */
import { LoomError, asLoomError } from '../core/errors.js';
import type { SplitMode } from '../registry/deployment-store.js';
import type { RegistryStore } from '../registry/store.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import { DEFAULT_BATCH_CONFIG, type BatchConfig } from './batcher.js';
import type { ServingMetrics } from './metrics.js';
import { LoadedVersions } from './loaded-versions.js';
import type { LoadedModel } from './model-loader.js';
import { parseModelRef, resolveModelVersion, type ModelRef } from '../registry/model-ref.js';

/** FNV-1a of the id, finalized, as a number in [0, 1): the same id always lands on the same side of a split. */
export function hashUnit(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  // FNV-1a alone leaves ids that differ only in their last characters (a prefix and a
  // counter, as generated request ids are) within a narrow band of [0, 1): MurmurHash3's
  // finalizer spreads every input bit over the whole word.
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) / 2 ** 32;
}

/** Back-off between tries of a version that failed to load: doubling from 2 s up to a minute. */
const MIN_LOAD_BACKOFF_MS = 2_000;
const MAX_LOAD_BACKOFF_MS = 60_000;

export interface ServerLogger {
  info(message: string): void;
  warn(message: string): void;
}

/** What a server was asked to serve under one name. */
export interface EndpointConfig {
  name: string;
  primary: string;
  canary?: { ref: string; weight: number } | null;
  shadow?: string | null;
  split?: SplitMode;
  /** Other references served under the name, reachable by version. */
  extra?: string[];
  batch?: Partial<BatchConfig>;
}

/** The state of one reference, for metadata and status routes. */
export interface SlotStatus {
  ref: string;
  version: number;
  /** The last swap that failed (the version tried and why), until a later swap succeeds. */
  lastSwapError?: { version: number; message: string; at: number };
  swaps: number;
}

interface Slot {
  ref: string;
  parsed: ModelRef;
  current: LoadedModel;
  failedVersion?: number;
  status: SlotStatus;
}

interface Endpoint {
  config: EndpointConfig;
  primary: Slot;
  canary?: { slot: Slot; weight: number };
  shadow?: Slot;
  split: SplitMode;
  all: Slot[];
}

/** Which version answers a request, and who else sees it. */
export interface Route {
  model: LoadedModel;
  role: 'primary' | 'canary';
  shadow?: LoadedModel;
}

export interface ModelPoolOptions {
  registry: RegistryStore;
  artifacts: ArtifactStore;
  metrics: ServingMetrics;
  logger: ServerLogger;
  batch?: Partial<BatchConfig>;
}

const LIST_FIX = 'run `loom models ls` to see registered models; serve one with `loom serve name@alias` (or `loom deploy set name --version N`)';

export class ModelPool {
  private slots = new Map<string, Slot>();
  private endpoints = new Map<string, Endpoint>();
  /** Every open version, shared by the slots that point at it. */
  private readonly versionsOpen: LoadedVersions;
  /** What the last `configure` was asked for, kept while part of it failed so `refresh` retries it. */
  private incomplete: readonly EndpointConfig[] | undefined;
  /** The last error per failing reference, so a retry that fails the same way is not logged again. */
  private lastFailure = new Map<string, string>();
  /** Per reference, the version that failed to load and when to try it again. */
  private loadBackoff = new Map<string, { version: number; error: LoomError; delayMs: number; retryAt: number }>();
  private refreshing: Promise<void> | undefined;

  constructor(private readonly options: ModelPoolOptions) {
    this.versionsOpen = new LoadedVersions(options);
  }

  /**
   * Loads what `configs` need and makes them the endpoints; slots no endpoint uses any
   * more are drained and closed. An endpoint whose primary cannot load is left out (and
   * keeps its old configuration if it had one); failures are returned, and `refresh`
   * tries the failed references again (a model registered after the server started is
   * served once it is).
   */
  async configure(configs: readonly EndpointConfig[]): Promise<{ ref: string; error: LoomError }[]> {
    const failures: { ref: string; error: LoomError }[] = [];
    const next = new Map<string, Endpoint>();
    const failedNow = new Map<string, LoomError>();
    const slotFor = async (ref: string, batch: BatchConfig): Promise<Slot | undefined> => {
      const existing = this.slots.get(ref);
      if (existing) {
        existing.current.batcher.configure(batch);
        return existing;
      }
      // A reference that failed in this very call (a canary also listed as extra) is not tried twice.
      if (failedNow.has(ref)) return undefined;
      let tried: number | undefined;
      try {
        const parsed = parseModelRef(ref);
        const version = await resolveModelVersion(parsed, this.options.registry);
        tried = version.version;
        // A version that failed to load is tried again only after a back-off (it is likely
        // broken, and loading it competes with live traffic), or at once when the ref moves.
        const backoff = this.loadBackoff.get(ref);
        if (backoff && backoff.version === version.version && Date.now() < backoff.retryAt) throw backoff.error;
        const model = await this.versionsOpen.acquire(ref, version, batch);
        const raced = this.slots.get(ref);
        if (raced) {
          // Another configure made the same slot while this one loaded.
          this.versionsOpen.release(model);
          return raced;
        }
        const slot: Slot = { ref, parsed, current: model, status: { ref, version: model.version.version, swaps: 0 } };
        this.slots.set(ref, slot);
        this.options.metrics.setLoaded(model.name, model.version.version, ref, true);
        this.lastFailure.delete(ref);
        this.loadBackoff.delete(ref);
        this.options.logger.info(`loaded ${ref} (version ${model.version.version})`);
        return slot;
      } catch (error) {
        const loomError = asLoomError(error);
        failures.push({ ref, error: loomError });
        failedNow.set(ref, loomError);
        if (tried !== undefined) {
          const previous = this.loadBackoff.get(ref);
          if (!previous || previous.version !== tried || Date.now() >= previous.retryAt) {
            const delayMs = previous?.version === tried ? Math.min(previous.delayMs * 2, MAX_LOAD_BACKOFF_MS) : MIN_LOAD_BACKOFF_MS;
            this.loadBackoff.set(ref, { version: tried, error: loomError, delayMs, retryAt: Date.now() + delayMs });
          }
        }
        const described = loomError.describe();
        if (this.lastFailure.get(ref) !== described) this.options.logger.warn(`cannot load ${ref}: ${described}`);
        this.lastFailure.set(ref, described);
        return undefined;
      }
    };
    for (const config of configs) {
      const batch = { ...DEFAULT_BATCH_CONFIG, ...this.options.batch, ...config.batch };
      const primary = await slotFor(config.primary, batch);
      if (!primary) {
        const old = this.endpoints.get(config.name);
        if (old) next.set(config.name, old);
        continue;
      }
      const endpoint: Endpoint = { config, primary, split: config.split ?? 'hash', all: [primary] };
      if (config.canary && config.canary.weight > 0) {
        const slot = await slotFor(config.canary.ref, batch);
        if (slot) endpoint.canary = { slot, weight: config.canary.weight };
      }
      if (config.shadow) endpoint.shadow = await slotFor(config.shadow, batch);
      for (const ref of [config.canary?.ref, config.shadow, ...(config.extra ?? [])]) {
        const slot = ref ? await slotFor(ref, batch) : undefined;
        if (slot && !endpoint.all.includes(slot)) endpoint.all.push(slot);
      }
      next.set(config.name, endpoint);
    }
    this.endpoints = next;
    this.incomplete = failures.length > 0 ? configs : undefined;
    // Error metrics are labelled by served names only: a client's made-up name must not add a series.
    this.options.metrics.setServed([...configs.map((config) => config.name), ...next.keys()]);
    const used = new Set([...next.values()].flatMap((endpoint) => endpoint.all));
    for (const [ref, slot] of this.slots) {
      if (used.has(slot)) continue;
      this.slots.delete(ref);
      this.options.metrics.setLoaded(slot.current.name, slot.current.version.version, ref, false);
      this.versionsOpen.release(slot.current);
    }
    return failures;
  }

  /** The endpoint names served. */
  names(): string[] {
    return [...this.endpoints.keys()];
  }

  /** Every loaded model version, primary slots first. */
  loaded(): LoadedModel[] {
    const seen = new Set<LoadedModel>();
    for (const endpoint of this.endpoints.values()) for (const slot of endpoint.all) seen.add(slot.current);
    return [...seen];
  }

  /**
   * The model answering a request for `name` (or its `version`). Without a version, the
   * canary takes `weight` of the traffic: by a hash of the request id when the split is
   * 'hash' (so retries land on the same version), else at random. NOT_FOUND naming what is served.
   */
  route(name: string, version?: number, requestId?: string): Route {
    const endpoint = this.endpointOf(name);
    if (version !== undefined) {
      const slot = endpoint.all.find((candidate) => candidate.current.version.version === version);
      if (!slot) {
        throw new LoomError('NOT_FOUND', `this server serves "${name}" version ${this.versions(name).join(', ')}, not version ${version}`, {
          field: 'version',
          fix: `run \`loom models ls\` to see versions; serve it with \`loom serve ${name}@${version}\` (or \`loom deploy set ${name} --version ${version}\`)`,
        });
      }
      return { model: slot.current, role: slot === endpoint.primary ? 'primary' : 'canary' };
    }
    const shadow = endpoint.shadow?.current;
    const canary = endpoint.canary;
    if (canary) {
      const draw = endpoint.split === 'hash' && requestId ? hashUnit(requestId) : Math.random();
      if (draw < canary.weight) return { model: canary.slot.current, role: 'canary', shadow };
    }
    return { model: endpoint.primary.current, role: 'primary', shadow };
  }

  /** TF Serving's `/labels/{label}`: the slot of `name` loaded by that alias. */
  routeLabel(name: string, label: string): Route {
    const endpoint = this.endpointOf(name);
    const slot = endpoint.all.find((candidate) => candidate.parsed.alias === label);
    if (!slot) {
      const labels = endpoint.all.flatMap((candidate) => (candidate.parsed.alias ? [candidate.parsed.alias] : []));
      throw new LoomError('NOT_FOUND', `this server serves "${name}" by label ${labels.join(', ') || '(none)'}, not "${label}"`, { field: 'label', fix: `serve it with \`loom serve ${name}@${label}\`` });
    }
    return { model: slot.current, role: slot === endpoint.primary ? 'primary' : 'canary' };
  }

  private endpointOf(name: string): Endpoint {
    const endpoint = this.endpoints.get(name);
    if (!endpoint) {
      throw new LoomError('NOT_FOUND', `this server does not serve a model named "${name}" (it serves: ${this.names().join(', ') || 'nothing'})`, { field: 'model', fix: LIST_FIX });
    }
    return endpoint;
  }

  /** The versions loaded under `name`, primary first. */
  versions(name: string): number[] {
    const endpoint = this.endpoints.get(name);
    return endpoint ? [...new Set(endpoint.all.map((slot) => slot.current.version.version))] : [];
  }

  /** Each slot of `name` with its swap status. */
  status(name: string): SlotStatus[] {
    return (this.endpoints.get(name)?.all ?? []).map((slot) => ({ ...slot.status, version: slot.current.version.version }));
  }

  /**
   * Retries references that failed to load (a model registered since; skipped with
   * `retryFailed: false` when the caller just configured), then checks every alias slot
   * against the registry and hot-swaps those whose alias moved. One refresh at a time.
   */
  refresh(options: { retryFailed?: boolean } = {}): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        if (this.incomplete && options.retryFailed !== false) await this.configure(this.incomplete);
        for (const slot of [...this.slots.values()]) await this.refreshSlot(slot);
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  private async refreshSlot(slot: Slot): Promise<void> {
    const { name, alias } = slot.parsed;
    if (alias === undefined) return;
    const version = await this.options.registry.getVersionByAlias(name, alias);
    const current = slot.current.version.version;
    if (!version || version.version === current || version.version === slot.failedVersion) return;
    let next: LoadedModel;
    try {
      next = await this.versionsOpen.acquire(slot.ref, version, slot.current.batcher.currentConfig);
    } catch (error) {
      const message = asLoomError(error).message;
      slot.failedVersion = version.version;
      slot.status.lastSwapError = { version: version.version, message, at: Date.now() };
      this.options.metrics.swap(name, 'failed');
      this.options.logger.warn(`${slot.ref} moved to version ${version.version}, which cannot serve; still serving version ${current}: ${message}`);
      return;
    }
    if (this.slots.get(slot.ref) !== slot) {
      // The slot was dropped by a reconfiguration while the new version loaded.
      this.versionsOpen.release(next);
      return;
    }
    const old = slot.current;
    slot.current = next;
    slot.failedVersion = undefined;
    slot.status.swaps++;
    delete slot.status.lastSwapError;
    this.options.metrics.swap(name, 'ok');
    this.options.metrics.setLoaded(name, current, slot.ref, false);
    this.options.metrics.setLoaded(name, next.version.version, slot.ref, true);
    this.options.logger.info(`${slot.ref} moved from version ${current} to ${version.version}: swapped`);
    // Requests already routed to the old version hold it (acquire) until they finish.
    this.versionsOpen.release(old);
  }

  /** Waits for any refresh, then drains and closes every loaded version. */
  async close(): Promise<void> {
    await this.refreshing?.catch(() => {});
    this.slots.clear();
    this.endpoints.clear();
    this.incomplete = undefined;
    await this.versionsOpen.closeAll();
  }
}
