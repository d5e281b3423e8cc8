// Two processes appending to one audit log at once, on SQLite and on PostgreSQL: the chain
// never forks (numbers 1..N with no duplicates, every link intact) and the writers really
// interleaved. Each writer is test/support/append-audit.ts in its own Node process.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openFreshKysely, postgresTestUrl, type FreshKysely } from '../../test/support/databases.js';
import { KyselyRegistryStore } from '../registry/kysely-registry-store.js';
import { KyselyAuditLog } from './kysely-audit-log.js';

const WRITER = fileURLToPath(new URL('../../test/support/append-audit.ts', import.meta.url));
const EACH = 60;

function runWriter(target: object, name: string, barrierDir: string): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, JSON.stringify(target), name, barrierDir, '2', String(EACH)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!) as number[]) : reject(new Error(`writer ${name} exited with ${code}:\n${err}`))));
  });
}

async function appendTwiceAndVerify(fresh: FreshKysely, target: object): Promise<void> {
  const barrierDir = mkdtempSync(join(tmpdir(), 'loom-barrier-'));
  let a: number[], b: number[];
  try {
    [a, b] = await Promise.all([runWriter(target, 'a', barrierDir), runWriter(target, 'b', barrierDir)]);
  } finally {
    rmSync(barrierDir, { recursive: true, force: true });
  }
  assert.deepEqual([...a, ...b].sort((x, y) => x - y), Array.from({ length: 2 * EACH }, (_, i) => i + 1));
  assert.ok(Math.min(...a) < Math.max(...b) && Math.min(...b) < Math.max(...a), 'the writers overlapped');
  const audit = new KyselyAuditLog(fresh.db, fresh.dialect);
  const report = await audit.verify();
  assert.deepEqual([report.ok, report.checked, report.problems], [true, 2 * EACH, []]);
  const registry = new KyselyRegistryStore(fresh.db, async () => {});
  for (const writer of ['a', 'b']) assert.equal((await registry.getRegisteredModel(writer))?.latestVersion, EACH / 2, `writer ${writer}'s recorded changes all committed`);
}

describe('concurrent audit appends', () => {
  it('never fork the chain on SQLite', async () => {
    const fresh = await openFreshKysely();
    try {
      await appendTwiceAndVerify(fresh, { sqlite: fresh.path });
    } finally {
      await fresh.close();
    }
  });
  const url = postgresTestUrl('concurrent audit appends');
  if (url) {
    it('never fork the chain on PostgreSQL', async () => {
      const fresh = await openFreshKysely(url);
      try {
        await appendTwiceAndVerify(fresh, { url, schema: fresh.schema });
      } finally {
        await fresh.close();
      }
    });
  }
});
