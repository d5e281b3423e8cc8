/**
 * The composition root: `openPlatform(config)` builds every store over one database, the
 * artifact store, and the process's DuckDB limits, once, from a validated config. Every
 * entry point (the CLI's commands, `loom serve`, `loom server`, `loom demo`, tests and
 * benches) opens Loom this one way.
 *
 * Usage:
 *   const platform = await openPlatform(loadConfig());
 *   try { await platform.registry.listRegisteredModels(); } finally { await platform.close(); }
 */
import { existsSync, mkdirSync } from 'node:fs';
import type { Kysely } from 'kysely';
import type { AuditLog } from '../audit/audit-log.js';
import { GuardedDeployments } from '../audit/guarded-deployments.js';
import { GuardedRegistry } from '../audit/guarded-registry.js';
import { KyselyAuditLog } from '../audit/kysely-audit-log.js';
import type { ChangeContext } from '../audit/record-change.js';
import type { AuditTables } from '../audit/tables.js';
import { KyselyTokenStore } from '../auth/kysely-token-store.js';
import type { AuthTables } from '../auth/tables.js';
import type { TokenStore } from '../auth/token-store.js';
import { KyselyLabelStore } from '../monitor/kysely-label-store.js';
import type { LabelStore } from '../monitor/label-store.js';
import type { LabelTables } from '../monitor/label-tables.js';
import { LoomError } from '../core/errors.js';
import { setDuckDBDefaults } from '../data/duckdb-settings.js';
import { failAbandonedWork } from '../metadata/abandoned-work.js';
import { KyselyMetadataStore } from '../metadata/kysely-metadata-store.js';
import { KyselyCanaryLeaseStore, type CanaryLeaseStore } from '../monitor/canary-lease.js';
import type { CanaryLeaseTables } from '../monitor/canary-lease-tables.js';
import { KyselyFitStore, type FitStore } from '../monitor/fit-store.js';
import type { MonitorFitTables } from '../monitor/fit-store-tables.js';
import { KyselyMonitorHistory, type MonitorHistoryStore } from '../monitor/history-store.js';
import type { MonitorTables } from '../monitor/history-tables.js';
import type { MetadataTables } from '../metadata/db-schema.js';
import type { MlflowServerFactory } from '../pipeline/launcher.js';
import { createStepRunner, type StepRunner } from '../pipeline/step-runner.js';
import type { LoomDatabase } from '../pipeline/stores.js';
import { KyselyDeploymentStore } from '../registry/kysely-deployment-store.js';
import { KyselyRegistryStore } from '../registry/kysely-registry-store.js';
import type { RegistryTables } from '../registry/registry-tables.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import { KyselyTrackingStore } from '../tracking/kysely-tracking-store.js';
import type { TrackingTables } from '../tracking/tracking-tables.js';
import { openArtifactStore, openDatabaseUrl } from './backends.js';
import type { LoomConfig } from './config.js';
import type { ProjectLayout } from './layout.js';

/** Everything a command needs: the stores, the artifact store, and where files live. `close()` closes it all once. */
export interface Platform extends LoomDatabase {
  config: LoomConfig;
  layout: ProjectLayout;
  artifacts: ArtifactStore;
  /** The one way a step runs and is recorded: pipelines, `loom evaluate`, `loom data validate`. */
  runner: StepRunner;
  /** API tokens (`src/auth/`). */
  tokens: TokenStore;
  /** The append-only, hash-chained record of every change (`src/audit/`). */
  audit: AuditLog;
  /** Every monitored window's drift and quality figures (`src/monitor/history-store.ts`). */
  monitorHistory: MonitorHistoryStore;
  /** Served versions' monitoring fits, kept across processes (`src/monitor/fit-store.ts`). */
  monitorFits: FitStore;
  /** Labels that arrive after the prediction, by request id (`src/monitor/label-store.ts`). */
  labels: LabelStore;
  /** Which check decides a model's canary now, one at a time (`src/monitor/canary-lease.ts`). */
  canaryLeases: CanaryLeaseStore;
  /**
   * The platform as one principal acts on it: registry and deployment writes, its own and
   * those of the steps its runner runs (the pipeline's push), authorized and recorded in
   * the audit log under that principal. The CLI and servers act through it.
   */
  actingAs(context: ChangeContext): Platform;
}

export interface OpenPlatformOptions {
  /**
   * Create the project's home folder if it is missing: for commands that make things
   * (`loom run`, `loom demo`, `loom init`). Without it a missing project is NOT_FOUND, so
   * a read-only command never leaves a `.loom` folder behind in a random directory.
   */
  create?: boolean;
  /**
   * An MLflow endpoint for custom trainers that log with an MLflow client, started on demand.
   * The entry points supply it (the platform API sits above this layer).
   */
  mlflowServer?: (platform: Platform) => MlflowServerFactory;
}

/**
 * Opens the database (migrating every store's tables), the artifact store and the stores.
 * NOT_FOUND when the project does not exist and `create` is not set; INVALID_ARGUMENT or
 * UNAVAILABLE when the database cannot be used.
 */
export async function openPlatform(config: LoomConfig, options: OpenPlatformOptions = {}): Promise<Platform> {
  if (options.create) mkdirSync(config.home, { recursive: true });
  else requireProject(config);
  setDuckDBDefaults(config.duckdb);
  const artifacts = openArtifactStore(config.artifacts.url);
  const { db, dialect, close } = await openDatabaseUrl(config.database.url, config.database.schema);
  // One connection, each store seeing only its own tables; closing any of them closes it once.
  const { mlflowServer } = options;
  const stores = {
    metadata: new KyselyMetadataStore(tablesOf<MetadataTables>(db), close),
    registry: new KyselyRegistryStore(tablesOf<RegistryTables>(db), close),
    tracking: new KyselyTrackingStore(tablesOf<TrackingTables>(db), close),
    deployments: new KyselyDeploymentStore(tablesOf<RegistryTables>(db)),
  };
  const base = {
    config,
    layout: config.layout,
    artifacts,
    ...stores,
    tokens: new KyselyTokenStore(tablesOf<AuthTables>(db)),
    audit: new KyselyAuditLog(tablesOf<AuditTables>(db), dialect),
    monitorHistory: new KyselyMonitorHistory(tablesOf<MonitorTables>(db)),
    monitorFits: new KyselyFitStore(tablesOf<MonitorFitTables>(db)),
    labels: new KyselyLabelStore(tablesOf<LabelTables>(db)),
    canaryLeases: new KyselyCanaryLeaseStore(tablesOf<CanaryLeaseTables>(db)),
    close,
  };
  const assemble = (view: Pick<Platform, 'registry' | 'deployments'>): Platform => {
    const platform: Platform = {
      ...base,
      ...view,
      // The endpoint factory sees the platform itself, made just below; it runs only when a step asks.
      runner: createStepRunner({ ...stores, ...view, artifacts, ...(mlflowServer && { mlflowServer: () => mlflowServer(platform)() }) }),
      actingAs: (context) => assemble({ registry: new GuardedRegistry(stores.registry, context), deployments: new GuardedDeployments(stores.deployments, context) }),
    };
    return platform;
  };
  const platform = assemble(stores);
  try {
    await settleAbandonedWork(platform);
  } catch (error) {
    await close();
    throw error;
  }
  return platform;
}

/**
 * What a killed process left behind is settled before anything looks at the project: its
 * RUNNING executions, pipeline runs and tracking runs are marked FAILED with the reason, and
 * its staging directories are removed. Only work whose owner process on this host is gone.
 */
export async function settleAbandonedWork(platform: Platform): Promise<void> {
  await failAbandonedWork(platform.metadata);
  await platform.tracking.failAbandonedRuns();
  await platform.artifacts.reclaimAbandonedStaging();
}

/** NOT_FOUND, naming where it looked and how to make one, when the config's project does not exist. */
export function requireProject(config: LoomConfig): void {
  if (existsSync(config.home)) return;
  throw new LoomError('NOT_FOUND', `no Loom project at ${config.home} (from ${config.homeFrom})`, {
    field: 'LOOM_HOME',
    fix: 'run `loom init` here, or set LOOM_HOME to the .loom folder of your project',
  });
}

/** The shared connection as one store sees it: typed with that store's tables only (the migrations made them all). */
function tablesOf<Tables>(db: Kysely<unknown>): Kysely<Tables> {
  return db as unknown as Kysely<Tables>;
}

/** Opens the platform, runs the work, and closes it whatever happens. */
export async function withPlatform<T>(config: LoomConfig, work: (platform: Platform) => Promise<T>, options: OpenPlatformOptions = {}): Promise<T> {
  const platform = await openPlatform(config, options);
  try {
    return await work(platform);
  } finally {
    await platform.close();
  }
}
