/**
 * Drift between two dataset versions, feature by feature, as the validate step measures it:
 * the recorded statistics of one split of each version compared by validation's own
 * `compareStatistics`, with the comparators a schema inferred from the baseline gives (the
 * pipeline's defaults: Jensen–Shannon for numbers, L∞ for categories). Nothing is read from the
 * data again; the figures come from the statistics steps already recorded.
 *
 * Usage: `const drift = await datasetVersionDrift(platform, platform.artifacts, '3fa9c1', '81be07', 'train');`
 */
import { LoomError } from '../core/errors.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import { compareStatistics, type FeatureComparison } from '../validate/drift.js';
import { inferSchema } from '../validate/schema.js';
import { datasetVersionSplits, type DatasetStatisticsStores } from './dataset-statistics.js';

export interface DatasetDrift {
  /** The version compared (full hash). */
  version: string;
  /** The baseline version (full hash). */
  against: string;
  split: string;
  /** One figure per feature both versions have, in the baseline's feature order; a NaN value (inconclusive) is sent as null. */
  features: FeatureComparison[];
}

/**
 * `version`'s split against `against`'s same split. FAILED_PRECONDITION when either version has no
 * recorded statistics for the split (a statistics step reads it); NOT_FOUND for an unknown version.
 */
export async function datasetVersionDrift(stores: DatasetStatisticsStores, artifacts: ArtifactStore, version: string, against: string, split: string): Promise<DatasetDrift> {
  const [current, baseline] = await Promise.all([datasetVersionSplits(stores, artifacts, version), datasetVersionSplits(stores, artifacts, against)]);
  for (const side of [current, baseline]) {
    if (!side.splits[split]) {
      const has = Object.keys(side.splits);
      throw new LoomError('FAILED_PRECONDITION', `dataset version ${side.version.slice(0, 12)} has no recorded statistics for split "${split}"`, {
        field: 'split',
        fix: has.length > 0 ? `choose one of: ${has.join(', ')}` : 'run a pipeline whose statistics step reads this version',
      });
    }
  }
  const schema = inferSchema(baseline.splits[split]!);
  return { version: current.version, against: baseline.version, split, features: compareStatistics(current.splits[split]!, baseline.splits[split]!, schema, 'drift') };
}
