/**
 * The artifact store: where artifact content lives. Writers fill a private staging
 * directory, then `commit` moves it into place under its content hash in one atomic
 * step, so no reader ever sees a half-written artifact. Equal content is stored once.
 *
 * Only the local-directory backend exists now; an S3-compatible backend implements the
 * same interface by uploading on commit and downloading (cached) on `localPath`.
 */
export interface CommittedArtifact {
  /** `loom-artifact://sha256/<hex>`: stable across machines and backends. */
  uri: string;
  /** The content hash (hex sha256 over the files' relative paths and contents). */
  fingerprint: string;
  sizeBytes: number;
}

export interface ArtifactStore {
  /** A new empty directory only the caller writes to. */
  stage(): Promise<string>;
  /** Publishes a staged directory under its content hash and removes the staging directory. */
  commit(stagingDir: string): Promise<CommittedArtifact>;
  /** Removes a staging directory that will not be committed. */
  discard(stagingDir: string): Promise<void>;
  /** Removes staging whose writer process has exited without committing or discarding it; returns what it removed. */
  reclaimAbandonedStaging(): Promise<string[]>;
  /** A local directory holding the artifact's files, for reading only. NOT_FOUND if absent. */
  localPath(uri: string): Promise<string>;
  exists(uri: string): Promise<boolean>;
}
