/**
 * A dataset version as `/api/loom/datasets` lists it (queries/dataset-versions.ts): the
 * dashboard imports the type too, so this module imports nothing (no Node).
 */

/** One dataset version as `loom data ls` lists it. */
export interface DatasetVersion {
  /** The content hash of the split files. */
  version: string;
  artifactId: number;
  uri: string;
  span: number | null;
  source: string;
  sourceKind: string | null;
  rowCounts: Record<string, number>;
  /** Bad rows quarantined by the newest ingest of this content (`ingests` > 1: the same good rows were read again). */
  badRows: number;
  /** How many ingests produced these very rows; each keeps its own quarantine (`loom data show`). */
  ingests: number;
  timeRange: string | null;
  createdAt: number;
  /** The run (and step) whose execution made the version first. */
  madeBy: { runId: string | null; pipeline: string | null; step: string; executionId: number } | null;
}
