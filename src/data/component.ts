/**
 * The `ingest` pipeline step: a thin adapter over `ingestSnapshot` that writes the
 * snapshot into the staging directory of its `examples` output.
 *
 * Usage: `pipeline.step(ingestComponent, { parameters: { source: 'flights.parquet', split: { kind: 'hash', key: 'origin', evalPercent: 20 } } })`
 */
import { filesFingerprint } from '../core/file-fingerprint.js';
import { Examples } from '../pipeline/artifact-types.js';
import { defineComponent } from '../pipeline/component.js';
import { IngestRequestSchema, ingestSnapshot } from './ingest.js';

export const ingestComponent = defineComponent({
  name: 'ingest',
  version: '1',
  description: 'Reads a CSV, Parquet or NDJSON file into a versioned snapshot split into train and eval',
  inputs: {},
  outputs: { examples: Examples },
  parameters: IngestRequestSchema,
  async execute({ outputs, parameters, services }) {
    const task = services.progress.start(`ingesting ${parameters.source}`, 1, 'files');
    const snapshot = await ingestSnapshot(parameters, outputs.examples);
    task.done();
    services.log(`ingest: ${snapshot.rowCounts.train} train and ${snapshot.rowCounts.eval} eval rows, version ${snapshot.contentHash.slice(0, 12)}`);
    return { properties: { examples: snapshot } };
  },
  // The source is read by path: a rewritten file must not hit the cache.
  externalFingerprint: (parameters) => filesFingerprint(parameters.source),
});
