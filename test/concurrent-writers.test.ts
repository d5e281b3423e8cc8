// Two real processes writing to one database at once, on SQLite and on PostgreSQL:
// nothing is lost, nothing is half-written, and model version numbers have no gaps or
// duplicates. Each writer is test/support/write-metadata.ts in its own Node process.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { dropSchema, openTestPlatform, postgresTestUrl, randomSchemaName } from './support/databases.js';
import type { WriterProject } from './support/write-metadata.js';

const WRITER = fileURLToPath(new URL('./support/write-metadata.ts', import.meta.url));
const STEPS = 200;
const VERSIONS_EACH = 20;

interface Made {
  artifactIds: number[];
  executionIds: number[];
  versions: number[];
}

function runWriter(config: WriterProject, name: string, barrierDir: string): Promise<Made> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, JSON.stringify(config), name, barrierDir, '2'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`writer ${name} exited with ${code}:\n${err}`));
      else resolve(JSON.parse(out.trim().split('\n').pop()!) as Made);
    });
  });
}

async function writeTwiceAndCheck(config: WriterProject): Promise<void> {
  const barrierDir = mkdtempSync(join(tmpdir(), 'loom-barrier-'));
  let a: Made, b: Made;
  try {
    [a, b] = await Promise.all([runWriter(config, 'a', barrierDir), runWriter(config, 'b', barrierDir)]);
  } finally {
    rmSync(barrierDir, { recursive: true, force: true });
  }
  const versions = [...a.versions, ...b.versions].sort((x, y) => x - y);
  assert.deepEqual(versions, Array.from({ length: 2 * VERSIONS_EACH }, (_, i) => i + 1));
  // The writers really overlapped: each took a version number below the other's last one.
  assert.ok(Math.min(...a.versions) < Math.max(...b.versions) && Math.min(...b.versions) < Math.max(...a.versions));

  const db = await openTestPlatform(config.home, config.database ? { database: config.database } : {});
  try {
    const artifactIds = [...a.artifactIds, ...b.artifactIds];
    assert.equal(new Set(artifactIds).size, 4 * STEPS);
    const artifacts = await db.metadata.getArtifacts(artifactIds);
    assert.equal(artifacts.length, 4 * STEPS);
    const executionIds = [...a.executionIds, ...b.executionIds];
    const events = await db.metadata.getEvents({ executionIds });
    assert.equal(events.length, 4 * STEPS);
    const pipeline = await db.metadata.findContext('pipeline', 'shared');
    assert.ok(pipeline);
    const inContext = [];
    let pageToken: string | undefined;
    do {
      const page = await db.metadata.listExecutions({ contextId: pipeline.id, states: ['COMPLETE'], pageSize: 1000, pageToken });
      inContext.push(...page.items);
      pageToken = page.nextPageToken;
    } while (pageToken);
    assert.deepEqual(inContext.map((e) => e.id).sort((x, y) => x - y), [...executionIds].sort((x, y) => x - y));
    const model = await db.registry.getRegisteredModel('shared');
    assert.equal(model?.latestVersion, 2 * VERSIONS_EACH);
    const listed = await db.registry.listModelVersions('shared', { pageSize: 100 });
    assert.deepEqual(listed.items.map((v) => v.version).reverse(), versions);
  } finally {
    await db.close();
  }
}

describe('two processes writing at once', () => {
  it('on one SQLite file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'loom-concurrent-'));
    try {
      await writeTwiceAndCheck({ home: dir });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const url = postgresTestUrl('two processes writing at once');
  if (url) {
    it('on one PostgreSQL schema', async () => {
      const schema = randomSchemaName();
      const dir = mkdtempSync(join(tmpdir(), 'loom-concurrent-'));
      try {
        await writeTwiceAndCheck({ home: dir, database: { url, schema } });
      } finally {
        await dropSchema(url, schema);
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
