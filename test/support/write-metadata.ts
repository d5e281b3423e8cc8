/**
 * One writer for test/concurrent-writers.test.ts, run as a child process:
 *   node --import tsx test/support/write-metadata.ts '<WriterProject JSON>' <writer name> <barrier dir> <writers>
 * Opens the database (racing the other writer through the migrations), waits at the
 * barrier until every writer is ready, so the writes really overlap, then records
 * 200 steps (input artifact, execution, INPUT event, publish with one new output) and,
 * every tenth step, a version of the shared model. Prints the ids it made as JSON.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openTestPlatform } from './databases.js';

/** The project the writers share: its home, and where its database is when not `<home>/loom.db`. */
export interface WriterProject {
  home: string;
  database?: { url: string; schema: string };
}

const STEPS = 200;
const VERSION_EVERY = 10;

async function barrier(dir: string, name: string, writers: number): Promise<void> {
  writeFileSync(join(dir, name), '');
  const deadline = Date.now() + 60_000;
  while (readdirSync(dir).length < writers) {
    if (Date.now() > deadline) throw new Error(`writer ${name}: the other writers never became ready`);
    await sleep(5);
  }
}

const [configJson, writer, barrierDir, writers] = process.argv.slice(2);
const project = JSON.parse(configJson!) as WriterProject;
const db = await openTestPlatform(project.home, project.database ? { database: project.database } : {});
try {
  await barrier(barrierDir, writer, Number(writers));
  const { metadata, registry } = db;
  await metadata.putArtifactType({ name: 'Examples', description: 'rows', properties: { writer: 'STRING', step: 'INT' } });
  const pipeline = await metadata.putContext({ typeName: 'pipeline', name: 'shared' });
  await registry.ensureRegisteredModel('shared');
  const made = { artifactIds: [] as number[], executionIds: [] as number[], versions: [] as number[] };
  for (let step = 0; step < STEPS; step++) {
    // A pause between steps: SQLite's busy handler sleeps with back-off, so without one a writer
    // can finish all its steps while the other sleeps, and the writes would not really overlap.
    await sleep(1);
    const [input] = await metadata.putArtifacts([
      { typeName: 'Examples', uri: `in/${writer}/${step}`, fingerprint: `${writer}-${step}`, properties: { writer, step } },
    ]);
    const execution = await metadata.createExecution({
      typeName: 'copy',
      stepName: `copy-${writer}`,
      parameters: { step },
      codeVersion: { commit: null, dirty: false },
      state: 'RUNNING',
      cacheKey: `${writer}-${step}`,
    });
    await metadata.putEvents([{ artifactId: input.id, executionId: execution.id, type: 'INPUT', name: 'examples' }]);
    const published = await metadata.publishExecution({
      executionId: execution.id,
      state: 'COMPLETE',
      outputs: [{ name: 'copy', artifact: { typeName: 'Examples', uri: `out/${writer}/${step}`, fingerprint: `o-${writer}-${step}`, properties: { writer, step } } }],
      contextIds: [pipeline.id],
      endedAt: Date.now(),
    });
    made.artifactIds.push(input.id, published.outputs[0].artifact.id);
    made.executionIds.push(execution.id);
    if (step % VERSION_EVERY === 0) {
      made.versions.push((await registry.createModelVersion({ modelName: 'shared', source: `${writer}/${step}` })).version);
    }
  }
  process.stdout.write(`${JSON.stringify(made)}\n`);
} finally {
  await db.close();
}
