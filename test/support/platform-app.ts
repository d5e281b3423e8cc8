/**
 * The platform API (`loom server`'s Fastify app) over a fresh SQLite project in a temporary
 * directory, closed when the test ends; route tests drive it with `inject`.
 */
import type { TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Platform } from '../../src/platform/platform.js';
import { buildPlatformApp } from '../../src/server/server.js';
import { openTestPlatform } from './databases.js';
import { makeTempDir } from './flights.js';

export async function platformApp(t: TestContext): Promise<{ server: FastifyInstance; db: Platform }> {
  const dir = await makeTempDir((fn) => t.after(fn));
  const db = await openTestPlatform(dir);
  const server = await buildPlatformApp({ db, artifacts: db.artifacts });
  t.after(async () => {
    await server.close();
    await db.close();
  });
  return { server, db };
}
