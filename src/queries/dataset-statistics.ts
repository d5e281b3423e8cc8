/**
 * The statistics and anomalies recorded for a dataset version, as the dashboard shows them
 * (Facets-style histograms, quantiles, top values, missing share; the anomalies a validate
 * step found). Read from what the pipeline already recorded: the newest `statistics` step
 * that read any ingest of the version, and the newest `validate` step that read those
 * statistics. Nothing is computed again here.
 *
 * Usage: `const { statistics, anomalies } = await datasetVersionStatistics(platform, platform.artifacts, '3fa9c1')`
 */
import { findDatasetVersion, versionGroups, versionOf } from '../data/versions.js';
import type { MetadataStore } from '../metadata/store.js';
import type { Artifact } from '../metadata/types.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import type { AnomalyReport } from '../validate/anomalies.js';
import { readAnomalyReports } from '../validate/anomaly-reports.js';
import { readStatistics } from '../validate/components.js';
import type { DatasetStatistics, FeatureStatistics } from '../validate/statistics.js';

/** The stores these queries read. */
export interface DatasetStatisticsStores {
  metadata: MetadataStore;
}

/** A feature's statistics without the quantile sketch and the long rank histogram (merge aids, large; the top values stay). */
export type FeatureView = Omit<FeatureStatistics, 'numeric' | 'string'> & {
  numeric?: Omit<NonNullable<FeatureStatistics['numeric']>, 'sketch'>;
  string?: Omit<NonNullable<FeatureStatistics['string']>, 'rankHistogram'>;
};

export interface DatasetVersionStatistics {
  version: string;
  /** The ExampleStatistics artifact read; null when no statistics step has read this version. */
  statisticsArtifactId: number | null;
  /** Split name → its statistics. */
  splits: Record<string, { rowCount: number; features: FeatureView[] }>;
  /** The ExampleAnomalies artifact read; null when the statistics were never validated. */
  anomaliesArtifactId: number | null;
  anomalies: AnomalyReport[];
}

/** The newest recorded statistics and anomalies of the version `prefix` names (NOT_FOUND for no such version). */
export async function datasetVersionStatistics(stores: DatasetStatisticsStores, artifacts: ArtifactStore, prefix: string): Promise<DatasetVersionStatistics> {
  const { version, statistics } = await newestStatistics(stores, prefix);
  const result: DatasetVersionStatistics = { version, statisticsArtifactId: null, splits: {}, anomaliesArtifactId: null, anomalies: [] };
  if (!statistics) return result;
  result.statisticsArtifactId = statistics.id;
  for (const [split, stats] of Object.entries(await readSplits(artifacts, statistics))) result.splits[split] = view(stats);
  const downstream = await stores.metadata.lineage(statistics.id, { direction: 'downstream', maxHops: 1 });
  const anomalies = newest(downstream.artifacts.filter((a) => a.typeName === 'ExampleAnomalies'));
  if (anomalies) {
    result.anomaliesArtifactId = anomalies.id;
    result.anomalies = (await readAnomalyReports(await artifacts.localPath(anomalies.uri))).reports;
  }
  return result;
}

/**
 * The full recorded statistics (sketches included, for drift measures) of each split of the
 * version `prefix` names, from its newest statistics step; empty when none read it.
 */
export async function datasetVersionSplits(stores: DatasetStatisticsStores, artifacts: ArtifactStore, prefix: string): Promise<{ version: string; splits: Record<string, DatasetStatistics> }> {
  const { version, statistics } = await newestStatistics(stores, prefix);
  return { version, splits: statistics ? await readSplits(artifacts, statistics) : {} };
}

/** The version `prefix` names and the newest ExampleStatistics made from any of its ingests. */
async function newestStatistics(stores: DatasetStatisticsStores, prefix: string): Promise<{ version: string; statistics?: Artifact }> {
  const version = versionOf(await findDatasetVersion(stores, prefix));
  const ingests = (await versionGroups(stores)).get(version) ?? [];
  // Two hops downstream: ingest → statistics step → ExampleStatistics (then → validate step → ExampleAnomalies, read below).
  const graphs = await Promise.all(ingests.map((a) => stores.metadata.lineage(a.id, { direction: 'downstream', maxHops: 2 })));
  return { version, statistics: newest(graphs.flatMap((g) => g.artifacts).filter((a) => a.typeName === 'ExampleStatistics')) };
}

async function readSplits(artifacts: ArtifactStore, statistics: Artifact): Promise<Record<string, DatasetStatistics>> {
  const path = await artifacts.localPath(statistics.uri);
  const names = Array.isArray(statistics.properties.splits) ? statistics.properties.splits.map(String) : [];
  const splits: Record<string, DatasetStatistics> = {};
  for (const split of names) splits[split] = await readStatistics({ id: statistics.id, uri: statistics.uri, path, fingerprint: statistics.fingerprint, properties: statistics.properties }, split);
  return splits;
}

function newest(found: Artifact[]): Artifact | undefined {
  return found.sort((a, b) => b.id - a.id)[0];
}

function view(stats: DatasetStatistics): { rowCount: number; features: FeatureView[] } {
  return {
    rowCount: stats.rowCount,
    features: stats.features.map(({ numeric, string, ...rest }) => {
      const feature: FeatureView = { ...rest };
      if (numeric) {
        const { sketch: _sketch, ...kept } = numeric;
        feature.numeric = kept;
      }
      if (string) {
        const { rankHistogram: _ranks, ...kept } = string;
        feature.string = kept;
      }
      return feature;
    }),
  };
}
