/**
 * The platform API (`loom server`'s Fastify app) over a fresh SQLite project in a temporary
 * directory, closed when the test ends; route tests drive it with `inject`.
 */
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { openDatabase, type LoomDatabase } from '../../src/metadata/database.js';
import { buildPlatformApp } from '../../src/server/server.js';
import { LocalArtifactStore } from '../../src/store/local-artifact-store.js';
import { makeTempDir } from './flights.js';

export async function platformApp(t: TestContext): Promise<{ server: FastifyInstance; db: LoomDatabase }> {
  const dir = await makeTempDir((fn) => t.after(fn));
  const db = await openDatabase({ kind: 'sqlite', path: join(dir, 'loom.db') });
  const server = await buildPlatformApp({ db, artifacts: new LocalArtifactStore(join(dir, 'artifacts')) });
  t.after(async () => {
    await server.close();
    await db.close();
  });
  return { server, db };
}
