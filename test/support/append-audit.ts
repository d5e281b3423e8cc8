/**
 * One writer for src/audit/concurrent-append.test.ts, run as a child process:
 *   node --import tsx test/support/append-audit.ts '<{"sqlite":path} or {"url","schema"}>' <writer name> <barrier dir> <writers> <entries>
 * Opens the database (racing the other writer through the migrations), waits at the barrier
 * so the appends overlap, appends one entry at a time with a pause between, and prints the
 * sequence numbers it got as JSON. Every other entry records a change (a new version of the
 * writer's own model, made and recorded in one transaction by `audit.record`).
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KyselyAuditLog } from '../../src/audit/kysely-audit-log.js';
import type { AuditKysely } from '../../src/audit/tables.js';
import { KyselyRegistryStore } from '../../src/registry/kysely-registry-store.js';
import type { RegistryKysely } from '../../src/registry/registry-tables.js';
import { migrateToLatest } from '../../src/platform/migrate.js';
import { createPostgresKysely } from '../../src/platform/postgres-backend.js';
import { createSqliteKysely } from '../../src/platform/sqlite-backend.js';

const [target, writer, barrierDir, writers, entries] = process.argv.slice(2);
const where = JSON.parse(target!) as { sqlite?: string; url?: string; schema?: string };
const db = where.sqlite ? createSqliteKysely(where.sqlite) : await createPostgresKysely(where.url!, where.schema);
try {
  const dialect = where.sqlite ? 'sqlite' : 'postgres';
  await migrateToLatest(db, dialect, where.schema);
  const audit = new KyselyAuditLog(db as AuditKysely, dialect);
  const registry = new KyselyRegistryStore(db as RegistryKysely, async () => {});
  await registry.createRegisteredModel({ name: writer! });
  writeFileSync(join(barrierDir!, writer!), '');
  while (readdirSync(barrierDir!).length < Number(writers)) await sleep(5);
  const seqs: number[] = [];
  for (let i = 0; i < Number(entries); i++) {
    // SQLite's busy handler backs off; a pause lets the other writer in between, so they interleave.
    await sleep(1);
    const entry = { actor: writer!, address: 'test', action: 'test.append', target: `${writer} ${i}` };
    if (i % 2 === 0) {
      const [stored] = await audit.append([entry]);
      seqs.push(stored!.seq);
    } else {
      await audit.record(() => registry.createModelVersion({ modelName: writer!, source: `s${i}` }), (v) => ({ ...entry, action: 'version.create', model: writer!, after: { version: v.version } }));
      seqs.push((await audit.list({ model: writer!, pageSize: 1 })).items[0]!.seq);
    }
  }
  console.log(JSON.stringify(seqs));
} finally {
  await db.destroy();
}
