import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { LoomError } from '../core/errors.js';
import { sqlString, withDuckDB } from '../data/duckdb.js';
import { makeTempDir, writeFlightsSlice } from '../../test/support/flights.js';
import { fitTransform, type FitOptions } from './analyzers.js';
import { transformConfig } from './config.js';

/** Bad configurations fail with INVALID_ARGUMENT naming the field, and the message names the feature. */
const rejects = async (path: string, options: Omit<FitOptions, 'labelColumn'>, field: string, mentions: string[]) =>
  assert.rejects(fitTransform(path, { labelColumn: 'delayed', ...options }), (error: unknown) => {
    assert.ok(error instanceof LoomError, String(error));
    assert.equal(error.code, 'INVALID_ARGUMENT');
    assert.equal(error.field, field, error.message);
    for (const text of mentions) assert.ok(`${error.message} ${error.fix ?? ''}`.includes(text), `"${error.message}" / "${error.fix}" mentions ${text}`);
    return true;
  });

test('every bad analyzer configuration names the feature, the field and the fix', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const raw = join(dir, 'raw.parquet');
  await writeFlightsSlice(raw, { months: [1], every: 400 });
  const path = join(dir, 'f.parquet');
  await withDuckDB((db) =>
    db.run(`COPY (SELECT date, distance, delay::DOUBLE AS delay, origin, destination, [1, 2] AS tags, delay > 15 AS delayed FROM read_parquet(${sqlString(raw)}))
      TO ${sqlString(path)} (FORMAT PARQUET)`),
  );
  // Decidable from the configuration alone (zod).
  await rejects(path, { overrides: { distance: { analyzer: 'quantiles', buckets: 1 } } }, 'overrides.distance.buckets', ['at least 2']);
  await rejects(path, { overrides: { distance: { analyzer: 'quantiles', buckets: 2.5 } } }, 'overrides.distance.buckets', ['whole number']);
  await rejects(path, { overrides: { distance: { analyzer: 'quantiles' } } }, 'overrides.distance.buckets', ['distance', 'buckets: 10']);
  await rejects(path, { overrides: { distance: { analyzer: 'zscore', buckets: 4 } } }, 'overrides.distance.buckets', ['distance', 'zscore']);
  await rejects(path, { overrides: { distance: { buckets: 4 } } }, 'overrides.distance.buckets', ['distance', 'analyzer: "quantiles"']);
  await rejects(path, { overrides: { origin: { analyzer: 'hash', buckets: 8, impute: { strategy: 'mean' } } } }, 'overrides.origin.impute.strategy', ['origin', 'most_frequent']);
  await rejects(path, { overrides: { delay: { analyzer: 'zscore', impute: { strategy: 'constant' } } } }, 'overrides.delay.impute.value', ['constant']);
  await rejects(path, { overrides: { delay: { analyzer: 'zscore', impute: { strategy: 'constant', value: 'x' } } } }, 'overrides.delay.impute.value', ['delay', 'number']);
  await rejects(path, { crosses: [{ features: ['origin', 'destination'] }] }, 'crosses[0].buckets', ['buckets', 'topK']);
  await rejects(path, { crosses: [{ features: ['origin', 'origin'], buckets: 4 }] }, 'crosses[0].features', ['different']);
  await rejects(path, { overrides: { origin: { analyzer: 'vocabulary', topk: 3 } as never } }, 'overrides.origin.topk', ['topk', 'did you mean `topK`']);

  // Needing the data: unknown columns and analyzers that do not fit the column type.
  await rejects(path, { features: ['distance', 'gate'] }, 'features[1]', ['gate', 'origin (VARCHAR)']);
  await rejects(path, { features: ['distance'], overrides: { gate: { analyzer: 'zscore' } } }, 'overrides.gate', ['gate', 'add "gate" to features']);
  await rejects(path, { features: ['tags'] }, 'features[0]', ['tags', 'INTEGER[]']);
  await rejects(path, { features: ['origin'], overrides: { origin: { analyzer: 'quantiles', buckets: 4 } } }, 'overrides.origin.analyzer', ['origin', 'VARCHAR', 'vocabulary or hash']);
  await rejects(path, { features: ['delay'], overrides: { delay: { analyzer: 'hash', buckets: 4 } } }, 'overrides.delay.analyzer', ['delay', 'DOUBLE', 'cast it']);
  await rejects(path, { features: ['date'], overrides: { date: { analyzer: 'minmax' } } }, 'overrides.date.analyzer', ['date', 'TIMESTAMP', 'datetime']);
  await rejects(path, { features: ['delay'], overrides: { delay: { analyzer: 'datetime' } } }, 'overrides.delay.analyzer', ['delay', 'TIMESTAMP or DATE']);
  // Timestamps as text or epoch numbers: the format must fit the column, and the zone must exist.
  await rejects(path, { features: ['distance'], overrides: { distance: { analyzer: 'datetime' } } }, 'overrides.distance.format', ['distance', 'epoch_seconds']);
  await rejects(path, { features: ['distance'], overrides: { distance: { analyzer: 'datetime', format: 'iso8601' } } }, 'overrides.distance.format', ['distance', 'epoch_milliseconds']);
  await rejects(path, { features: ['origin'], overrides: { origin: { analyzer: 'datetime', format: 'epoch_seconds' } } }, 'overrides.origin.format', ['origin', 'iso8601']);
  await rejects(path, { features: ['date'], overrides: { date: { analyzer: 'datetime', format: 'epoch_seconds' } } }, 'overrides.date.format', ['TIMESTAMP', 'epoch_milliseconds']);
  await rejects(path, { features: ['date'], overrides: { date: { analyzer: 'datetime', format: 'epoch_milliseconds', timeZone: 'America/Chicago' } } }, 'overrides.date.format', ['America/Chicago', 'iso8601', 'TIMESTAMPTZ']);
  await rejects(path, { features: ['date'], overrides: { date: { analyzer: 'datetime', format: 'iso8601', timeZone: 'Mars/Olympus' } } }, 'overrides.date.timeZone', ['Mars/Olympus', 'America/Chicago']);
  await rejects(path, { features: ['date'], overrides: { date: { analyzer: 'datetime', format: 'iso8601', timeZone: '+25:00' } } }, 'overrides.date.timeZone', ['+25:00']);
  await rejects(path, { features: ['date'], overrides: { date: { analyzer: 'datetime', parts: ['hour', 'hour'] } } }, 'overrides.date.parts', ['twice']);
  await rejects(path, { features: ['date'], overrides: { date: { parts: ['hour'], timeZone: 'UTC' } } }, 'overrides.date.parts', ['analyzer: "datetime"']);
  await rejects(path, { features: ['distance'], crosses: [{ features: ['origin', 'gate'], buckets: 8 }] }, 'crosses[0].features[1]', ['gate', 'destination']);
  await rejects(path, { features: ['distance'], crosses: [{ features: ['origin', 'delay'], buckets: 8 }] }, 'crosses[0].features[1]', ['delay', 'DOUBLE']);
  await rejects(path, { features: ['distance'], crosses: [{ features: ['origin', 'destination'], name: 'distance', buckets: 8 }] }, 'crosses[0].name', ['distance']);
});

test('the parameters of version 1 still parse to the same meaning', () => {
  const parsed = transformConfig.parse({ labelColumn: 'delayed', features: ['hour', 'origin'], topK: 60, overrides: { hour: { analyzer: 'vocabulary', topK: 5 } } });
  assert.deepEqual(parsed, {
    labelColumn: 'delayed',
    features: ['hour', 'origin'],
    topK: 60,
    maxCategoricalCardinality: 32,
    overrides: { hour: { analyzer: 'vocabulary', topK: 5 } },
    crosses: [],
  });
  assert.throws(() => transformConfig.parse({ labelColumn: 'delayed', topK: 0 }));
});
