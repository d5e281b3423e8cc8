/**
 * A Loom project on this machine: the `.loom/` folder of the current directory (or
 * LOOM_HOME) holding the embedded database and the artifact store. Setting
 * LOOM_DATABASE_URL to a postgres:// URL moves metadata and registry to PostgreSQL.
 */
import { join, resolve } from 'node:path';
import { failAbandonedWork } from '../metadata/abandoned-work.js';
import { openDatabase, type LoomDatabase } from '../metadata/database.js';
import { LocalArtifactStore } from '../store/local-artifact-store.js';

export interface Project {
  home: string;
  db: LoomDatabase;
  artifacts: LocalArtifactStore;
  close(): Promise<void>;
}

export function projectHome(home?: string): string {
  return resolve(home ?? process.env.LOOM_HOME ?? join(process.cwd(), '.loom'));
}

/** Where pipeline steps keep checkpoints: `<home>/checkpoints/<step cache key>` (`loom run`, `loom train --resume`). */
export function checkpointRoot(project: Pick<Project, 'home'>): string {
  return join(project.home, 'checkpoints');
}

export async function openProject(options: { home?: string } = {}): Promise<Project> {
  const home = projectHome(options.home);
  const url = process.env.LOOM_DATABASE_URL;
  const db = await openDatabase(url ? { kind: 'postgres', url } : { kind: 'sqlite', path: join(home, 'loom.db') });
  const artifacts = new LocalArtifactStore(join(home, 'artifacts'));
  // What a killed process left behind is settled before any command looks: its RUNNING work
  // is marked FAILED with the reason, and its staging directories are removed.
  await failAbandonedWork(db.metadata);
  await db.tracking.failAbandonedRuns();
  await artifacts.reclaimAbandonedStaging();
  return { home, db, artifacts, close: () => db.close() };
}

/** Opens the project, runs the work, and closes it whatever happens. */
export async function withProject<T>(work: (project: Project) => Promise<T>, options: { home?: string } = {}): Promise<T> {
  const project = await openProject(options);
  try {
    return await work(project);
  } finally {
    await project.close();
  }
}
