/**
 * The `ingest` pipeline step: a thin adapter over `ingestSnapshot` that writes the
 * snapshot (and its quarantined bad rows) into the staging directory of its `examples` output.
 *
 * Usage: `pipeline.step('ingest', ingestComponent, { parameters: { source: { kind: 'file', glob: 'landing/flights-{SPAN}.parquet' }, split: { kind: 'hash', key: 'origin', evalPercent: 20 } } })`
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { filesFingerprint } from './file-fingerprint.js';
import { Examples } from '../pipeline/artifact-types.js';
import { defineComponent } from '../pipeline/component.js';
import { IngestRequestSchema, ingestSnapshot } from './ingest.js';
import { calendarDerivations } from './ingest-query.js';
import { describeSource, type SourceSpec } from './source-spec.js';

export const ingestComponent = defineComponent({
  name: 'ingest',
  version: '2',
  description: 'Reads files or a PostgreSQL table into a versioned span snapshot split into train and eval, quarantining bad rows',
  inputs: {},
  outputs: { examples: Examples },
  parameters: IngestRequestSchema,
  async execute({ outputs, parameters }, services) {
    const task = services.progress.start(`ingesting ${describeSource(parameters.source)}`, 1, 'sources');
    const snapshot = await ingestSnapshot(parameters, outputs.examples);
    task.done();
    const bad = snapshot.badRows > 0 ? `, ${snapshot.badRows} bad rows quarantined` : '';
    for (const name of calendarDerivations(parameters.select)) {
      services.log(`ingest: select.${name} derives a calendar part in SQL, which every client of a model trained on it must derive again; keep the raw timestamp and give it the transform's datetime analyzer (docs/transform.md)`);
    }
    services.log(`ingest: span ${snapshot.span}, ${snapshot.rowCounts.train} train and ${snapshot.rowCounts.eval} eval rows${bad}, version ${snapshot.contentHash.slice(0, 12)}`);
    return { properties: { examples: snapshot } };
  },
  // Sources are read by path or over the network: a rewritten file must not hit the cache.
  externalFingerprint: (parameters) => sourceFingerprint(parameters.source),
});

async function sourceFingerprint(spec: SourceSpec): Promise<string> {
  // A database table can change without any sign we can read cheaply: never reuse its result.
  if (spec.kind === 'postgres') return `postgres:${randomUUID()}`;
  if (spec.glob) return filesFingerprint(spec.glob.replaceAll('{SPAN}', '*'));
  const path = spec.path ?? '';
  const [file, directory] = await Promise.all([filesFingerprint(path), filesFingerprint(join(path, '*'))]);
  return `${file}:${directory}`;
}
