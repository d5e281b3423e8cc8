import assert from 'node:assert/strict';
import { appendFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { queryRows, sqlString, withDuckDB } from '../data/duckdb.js';
import { makeTempDir } from '../../test/support/flights.js';
import { LoomError } from '../core/errors.js';
import type { PredictionOutput } from './batcher.js';
import type { PredictionRecord } from './prediction-log.js';
import { packedLogRows, packRecords, type PackedRecords } from './prediction-log-pack.js';
import { ParquetSpoolWriter } from './prediction-log-parquet.js';
import { packedFrame } from './prediction-log-frames.js';
import { packedStructure } from './prediction-log-structure.js';
import { spoolLines } from './prediction-log-spool.js';

let next = 0;
/** A record of `names` with one column per name (`rows` rows each) and a `probability` output. */
function record(names: string[], columns: unknown[][], extra: Partial<PredictionRecord> = {}): PredictionRecord {
  const rowCount = columns[0]?.length ?? 1;
  const i = next++;
  return {
    requestId: `r${i}`,
    modelName: 'flights',
    modelVersion: 1,
    role: 'primary',
    protocol: 'v2',
    inputNames: names,
    rows: { rowCount, columns },
    outputs: [{ name: 'probability', type: 'float32', shape: [rowCount, 1], data: Array.from({ length: rowCount }, (_, r) => (i + r) / 8) as PredictionOutput['data'] }],
    latencyMs: 0.25 + i,
    at: 1_700_000_000_000 + i,
    ...extra,
  };
}

/** The Parquet file one writer makes of `batches`: spooled as packed batches (frames where they can be) or as the rows' JSON lines. */
async function fileOf(dir: string, batches: PackedRecords[], packed: boolean): Promise<{ types: string[]; rows: string[]; spools: string[]; files: number }> {
  const writer = new ParquetSpoolWriter(join(dir, String(packed)), { idleMs: 600_000, rotateMs: 600_000 });
  for (const batch of batches) await (packed ? writer.writePacked(batch) : writer.write(packedLogRows(batch)));
  const spools = (await readdir(join(dir, String(packed)))).filter((name) => name.startsWith('.spool')).map((name) => name.replace(/.*\./, ''));
  await writer.close();
  const files = (await readdir(join(dir, String(packed)))).filter((name) => name.endsWith('.parquet')).map((name) => join(dir, String(packed), name));
  return { ...(await contents(files)), spools, files: files.length };
}

/** The files' column types (each file's, in turn) and their rows as JSON, in logging order. */
async function contents(files: string[]): Promise<{ types: string[]; rows: string[] }> {
  return withDuckDB(async (db) => {
    const types: string[] = [];
    const rows: { at: number; json: string }[] = [];
    for (const file of files.sort()) {
      types.push(...(await queryRows(db, `DESCRIBE SELECT * FROM read_parquet(${sqlString(file)})`)).map((r) => `${String(r.column_name)} ${String(r.column_type)}`));
      rows.push(...(await queryRows(db, `SELECT epoch_ms(logged_at) AS at, to_json(p)::VARCHAR AS j FROM read_parquet(${sqlString(file)}) AS p`)).map((r) => ({ at: Number(r.at), json: String(r.j) })));
    }
    return { types, rows: rows.sort((a, b) => a.at - b.at || (a.json < b.json ? -1 : 1)).map((r) => r.json) };
  });
}

test('packed batches spooled as columnar frames make the same Parquet file as their rows spooled as JSON lines: types, values, failures, absent fields', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const flights = ['hour', 'delta', 'origin', 'late', 'ratio'];
  const batches = [
    packRecords([
      record(flights, [[17], [-3], ['ORD'], [true], [0.5]]),
      // `delta` has integers of both signs: HUGEINT, which Parquet stores as DOUBLE. A request of two rows, a failed request, a NaN (logged as null), text with quotes and a newline.
      record(flights, [[1, 2], [4, -5], ['SF"O', 'a\nb'], [false, true], [Number.NaN, 2]]),
      record(flights, [[3], [0], ['LAX'], [null], [1]], { failure: { status: 400, code: 'INVALID_ARGUMENT' } }),
      // Another model's record in the same batch: its own fields, the others absent.
      record(['carrier', 'hour'], [['UA'], [9]], { modelName: 'other', role: 'canary' }),
    ]),
    packRecords([record(flights, [[23], [7], ['BOS'], [true], [3]])]),
  ];
  const [frames, lines] = [await fileOf(dir, batches, true), await fileOf(dir, batches, false)];
  assert.deepEqual(frames.spools, ['frames']);
  assert.ok(frames.types.includes('features STRUCT("hour" UBIGINT, delta DOUBLE, origin VARCHAR, late BOOLEAN, ratio DOUBLE, carrier VARCHAR)'), frames.types.join('; '));
  assert.equal(frames.rows.length, 6);
  assert.deepEqual(frames, { ...lines, spools: ['frames'] });
  assert.equal(frames.files, 1);
});

test('batches a frame cannot hold (a field only ever null, several values per row, names equal but for case) are written as before, in their own files', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const cases = [
    // Every value of `tail` null: the layout falls back to JSON text, read from the frames.
    [packRecords([record(['origin', 'tail'], [['ORD'], [null]]), record(['origin', 'tail'], [['SFO'], [null]])])],
    // An embedding (two values per row), then a frame-able batch: the NDJSON spool takes both.
    [packRecords([record(['origin', 'embedding'], [['ORD'], [[1, 2]]])]), packRecords([record(['origin'], [['SEA']])])],
    // A frame-able batch, then one with `origin` and `Origin`: the frame spool is finished first.
    [packRecords([record(['origin'], [['SEA']])]), packRecords([record(['origin', 'Origin'], [['LAX'], ['lax']])])],
  ];
  const files = [1, 1, 2];
  for (const [i, batches] of cases.entries()) {
    const [frames, lines] = [await fileOf(join(dir, String(i)), batches, true), await fileOf(join(dir, String(i)), batches, false)];
    assert.equal(frames.files, files[i], `case ${i}`);
    assert.deepEqual(frames.rows, lines.rows, `case ${i}`);
    const features = frames.types.filter((type) => type.startsWith('features'));
    if (i < 2) assert.deepEqual(frames.types, lines.types, `case ${i}`);
    // The frames' file, then the NDJSON spool's (names equal but for case: JSON text).
    else assert.deepEqual(features, ['features STRUCT(origin VARCHAR)', 'features JSON']);
  }
});

test('batches whose fields alternate in kind or in case make one frame file and one NDJSON file, not a file per batch', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const cases = [
    // A feature sent as a number by some clients and as text by others.
    [0, 1, 2, 3, 4, 5].map((b) => packRecords([record(['origin'], [[b % 2 === 0 ? b : String(b)]])])),
    // Clients spelling a feature's name in two cases.
    [0, 1, 2, 3, 4, 5].map((b) => packRecords([record([b % 2 === 0 ? 'hour' : 'Hour'], [[b]])])),
  ];
  for (const [i, batches] of cases.entries()) {
    const [frames, lines] = [await fileOf(join(dir, String(i)), batches, true), await fileOf(join(dir, String(i)), batches, false)];
    // The first batch's frame file, then one NDJSON file for the rest (both kinds, or both cases: JSON text).
    assert.equal(frames.files, 2, `case ${i}`);
    assert.deepEqual(frames.types.filter((type) => type.startsWith('features')), [i === 0 ? 'features STRUCT(origin UBIGINT)' : 'features STRUCT("hour" UBIGINT)', i === 0 ? 'features STRUCT(origin JSON)' : 'features JSON'], `case ${i}`);
    assert.deepEqual(frames.rows, lines.rows, `case ${i}`);
  }
});

test('a string holding a lone surrogate (valid in a request\'s JSON) is logged with U+FFFD in its place, in both spools, and the other rows with it', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const batches = [packRecords([record(['origin'], [['a\ud800b', 'q\udc00', 'ok\ud83d\ude00', 'back\\ud800slash']]), record(['origin'], [['SFO']])])];
  for (const packed of [true, false]) {
    const file = await fileOf(join(dir, String(packed)), batches, packed);
    assert.equal(file.files, 1, `packed ${packed}`);
    assert.deepEqual(
      file.rows.map((row) => (JSON.parse(row) as { features: { origin: string } }).features.origin).sort(),
      ['a\ufffdb', 'q\ufffd', 'ok\ud83d\ude00', 'back\\ud800slash', 'SFO'].sort(),
      `packed ${packed}`,
    );
  }
});

test('a batch with an empty field name is spooled as NDJSON, whose conversion keeps it as JSON text, not as a frame no SQL can read', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const batches = [packRecords([record(['', 'hour'], [[1], [2]])])];
  const [frames, lines] = [await fileOf(join(dir, 'frames'), batches, true), await fileOf(join(dir, 'lines'), batches, false)];
  assert.deepEqual(frames.spools, ['ndjson']);
  assert.deepEqual(frames, { ...lines, spools: ['ndjson'] });
  assert.equal(frames.rows.length, 1);
});

test('a batch past the longest line DuckDB reads (a bulk request) is spooled as NDJSON rows, not a frame that fails the whole spool', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  // 9,000 rows of 30 strings of 125 characters: a 34 MB frame (DuckDB reads lines to about 32 MB), rows of 4 KB.
  const names = Array.from({ length: 30 }, (_, c) => `f${c}`);
  const columns = names.map((_, c) => Array.from({ length: 9000 }, (_, r) => `${c}-${r}-`.padEnd(125, 'x')));
  const big = packRecords([record(names, columns)]);
  const small = packRecords([record(['f0'], [['before']])]);
  const writer = new ParquetSpoolWriter(dir, { idleMs: 600_000, rotateMs: 600_000 });
  assert.equal(await writer.writePacked(small), 1);
  assert.equal(await writer.writePacked(big), 9000);
  await writer.close();
  const files = (await readdir(dir)).filter((name) => name.endsWith('.parquet')).map((name) => join(dir, name));
  assert.equal(files.length, 2);
  const counted = await withDuckDB((db) => queryRows(db, `SELECT count(*)::INTEGER AS n, count(DISTINCT features.f29)::INTEGER AS d FROM read_parquet([${files.map(sqlString).join(", ")}], union_by_name = true)`));
  assert.deepEqual(counted, [{ n: 9001, d: 9000 }]);
});

test('a frame spool left by a crashed writer is recovered into the same file; a torn last frame is dropped whole and reported', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const batches = [0, 1, 2].map((b) => packRecords([record(['hour', 'origin'], [[b], ['ORD']]), record(['hour', 'origin'], [[b + 10], ['SFO']])]));
  const expected = await fileOf(join(dir, 'expected'), batches, true);
  const crashedDir = join(dir, 'crashed');
  const crashed = new ParquetSpoolWriter(crashedDir, { token: 'dead', idleMs: 600_000, rotateMs: 600_000 });
  for (const batch of batches) await crashed.writePacked(batch);
  const [spool] = (await readdir(crashedDir)).filter((name) => name.startsWith('.spool'));
  await appendFile(join(crashedDir, spool!), '{"rows":2,"request_id":["lost-1","lost-2"],"model_name":["fl');
  const errors: unknown[] = [];
  const recovering = new ParquetSpoolWriter(crashedDir, { onError: (error) => void errors.push(error) });
  const recovered = await recovering.recover(['dead']);
  await recovering.close();
  assert.equal(recovered.length, 1);
  assert.equal(errors.length, 1);
  assert.match(String(errors[0]), /batch cut short by a crash/);
  assert.ok(errors[0] instanceof LoomError && errors[0].code === 'FAILED_PRECONDITION' && !errors[0].retryable, String(errors[0]));
  assert.ok(errors[0].message.includes(join(crashedDir, spool!)), errors[0].message);
  assert.deepEqual(await contents(recovered), { types: expected.types, rows: expected.rows });
});

test('an NDJSON spool left by the previous version (a JSON object per row) is still recovered on upgrade', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const batches = [packRecords([record(['hour', 'origin'], [[1], ['ORD']]), record(['hour', 'origin'], [[2], ['SFO']])])];
  const expected = await fileOf(join(dir, 'expected'), batches, false);
  // The previous version's spool: its name and its lines, as that version wrote them (`spoolLines`).
  await writeFile(join(dir, `.spool-${process.pid}-old-0-20261207T000000000Z.ndjson`), spoolLines(packedLogRows(batches[0]!)));
  const writer = new ParquetSpoolWriter(dir);
  const recovered = await writer.recover(['old']);
  await writer.close();
  assert.equal(recovered.length, 1);
  assert.match(recovered[0]!, /predictions-20261207T000000000Z-\d+-old-0\.parquet$/);
  assert.deepEqual(await contents(recovered), { types: expected.types, rows: expected.rows });
});

test('a frame spool left by the version before (every fixed column a list per row, status and error_code too) is recovered into the same file', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const batch = packRecords([
    record(['hour', 'origin'], [[1], ['ORD']]),
    record(['hour', 'origin'], [[2, 3], ['SFO', 'LAX']], { role: 'canary' }),
    record(['hour', 'origin'], [[4], ['BOS']], { failure: { status: 400, code: 'INVALID_ARGUMENT' } }),
  ]);
  const expected = await fileOf(join(dir, 'expected'), [batch], true);
  // The frame as the version before wrote it: what `same` holds once, as a list with a value per row.
  const frame = JSON.parse(packedFrame(batch, packedStructure(batch)!).text) as Record<string, unknown> & { rows: number; same: Record<string, unknown> };
  for (const [name, value] of Object.entries(frame.same)) frame[name] = Array.from({ length: frame.rows }, () => value);
  const { same: _same, ...previous } = frame;
  assert.ok(Array.isArray(previous.model_name) && Array.isArray(previous.role) && Array.isArray(previous.status), 'every fixed column a list');
  await writeFile(join(dir, `.spool-${process.pid}-old-0-20261207T000000000Z.frames`), `${JSON.stringify(previous)}\n`);
  const writer = new ParquetSpoolWriter(dir);
  const recovered = await writer.recover(['old']);
  await writer.close();
  assert.equal(recovered.length, 1);
  assert.deepEqual(await contents(recovered), { types: expected.types, rows: expected.rows });
});

test("a frame holds the fixed columns a batch's rows share once (model, version, role, protocol), the others a value per row; status and error_code only with a failure", () => {
  const shared = packRecords([record(['hour'], [[1]]), record(['hour'], [[2, 3]])]);
  const one = JSON.parse(packedFrame(shared, packedStructure(shared)!).text) as Record<string, unknown>;
  assert.deepEqual(one.same, { model_name: 'flights', model_version: 1, role: 'primary', protocol: 'v2' });
  for (const name of ['model_name', 'model_version', 'role', 'protocol', 'status', 'error_code']) assert.equal(one[name], undefined, name);
  assert.equal((one.request_id as unknown[]).length, 3);
  // The role differs from the second record on: a list from the first row, the rest still shared.
  const mixed = packRecords([record(['hour'], [[1, 2]]), record(['hour'], [[3]], { role: 'canary' }), record(['hour'], [[4]], { failure: { status: 500, code: 'INTERNAL' } })]);
  const two = JSON.parse(packedFrame(mixed, packedStructure(mixed)!).text) as Record<string, unknown>;
  assert.deepEqual(two.same, { model_name: 'flights', model_version: 1, protocol: 'v2' });
  assert.deepEqual(two.role, ['primary', 'primary', 'canary', 'primary']);
  assert.deepEqual(two.status, [null, null, null, 500]);
  assert.deepEqual(two.error_code, [null, null, null, 'INTERNAL']);
});

test('a frame spool that is not one this log wrote (no field kinds, kinds that conflict) is reported with a code and a fix, and kept', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const frame = (kind: string) => `{"rows":1,"request_id":["r"],"kinds":{"features":[["hour",${JSON.stringify(kind)}]],"outputs":[]},"features":{"hour":[1]}}\n`;
  const spools = [`{"rows":1,"request_id":["r"]}\n`, frame('INT'), frame('UBIGINT') + frame('VARCHAR')];
  for (const [i, text] of spools.entries()) {
    await mkdir(join(dir, String(i)));
    await writeFile(join(dir, String(i), `.spool-${process.pid}-gone-0-20261207T000000000Z.frames`), text);
    const errors: unknown[] = [];
    const writer = new ParquetSpoolWriter(join(dir, String(i)), { onError: (error) => void errors.push(error) });
    assert.deepEqual(await writer.recover(['gone']), [], `spool ${i}`);
    await writer.close();
    assert.equal(errors.length, 1, `spool ${i}`);
    assert.ok(errors[0] instanceof LoomError && errors[0].code === 'FAILED_PRECONDITION' && errors[0].fix, `spool ${i}: ${String(errors[0])}`);
    assert.match(errors[0].message, /is not one this log wrote/);
    assert.equal((await readdir(join(dir, String(i)))).filter((name) => name.startsWith('.spool')).length, 1, `spool ${i}`);
  }
});

test('a write queued after close() is refused (FAILED_PRECONDITION): no spool is opened that nothing would convert', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const batch = packRecords([record(['hour'], [[1]])]);
  const writer = new ParquetSpoolWriter(dir);
  assert.equal(await writer.writePacked(batch), 1);
  await writer.close();
  const after = await readdir(dir);
  await assert.rejects(writer.writePacked(batch), (error) => error instanceof LoomError && error.code === 'FAILED_PRECONDITION' && /closed/.test(error.message));
  await assert.rejects(writer.write(packedLogRows(batch)), (error) => error instanceof LoomError && error.code === 'FAILED_PRECONDITION');
  // Let any append that was not refused reach the disk.
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(await readdir(dir), after, 'no new spool');
  assert.equal(after.filter((name) => name.endsWith('.parquet')).length, 1);
});

test("a frame holds each row's values as its log row does: name lists that come back, a name twice, a record without rows, non-ASCII and NUL", () => {
  const a = ['hour', 'origin'];
  const b = ['origin', 'carrier'];
  const packed = packRecords([
    record(a, [[1, 2], ['Zürich ☃', 'nul\0here']]),
    // A record without rows whose name list is seen first here: its names are not fields of the frame.
    record(['unseen'], [[]]),
    record(b, [['SFO'], ['UA']], { failure: { status: 400, code: 'INVALID_ARGUMENT' } }),
    record(a, [[3], ['🚀']]),
    // The same name twice: the later column wins, as in the row's JSON object.
    record(['hour', 'hour'], [[4], [5]]),
  ]);
  const structure = packedStructure(packed)!;
  const { text, rows } = packedFrame(packed, structure);
  const frame = JSON.parse(text) as Record<string, unknown[]> & { features: Record<string, unknown[]>; outputs: Record<string, unknown[]> };
  const logRows = packedLogRows(packed);
  assert.equal(rows, logRows.length);
  assert.ok(text.endsWith('}\n') && !text.slice(0, -1).includes('\n'), 'one line');
  assert.deepEqual(Object.keys(frame.features), ['hour', 'origin', 'carrier']);
  logRows.forEach((row, r) => {
    assert.equal(frame.request_id![r], row.requestId);
    assert.equal(frame.latency_ms![r], row.latencyMs);
    assert.equal(frame.logged_at![r], row.loggedAt);
    assert.equal(frame.status![r], row.status ?? null);
    assert.equal(frame.error_code![r], row.errorCode ?? null);
    for (const [side, json] of [['features', row.features], ['outputs', row.outputs]] as const) {
      const values = JSON.parse(json) as Record<string, unknown>;
      for (const name of Object.keys(frame[side])) assert.deepEqual(frame[side][name]![r], values[name] ?? null, `row ${r} ${side}.${name}`);
      for (const name of Object.keys(values)) assert.ok(name in frame[side], `row ${r} ${side}.${name} in the frame`);
    }
  });
  assert.deepEqual(frame.features.origin, ['Zürich ☃', 'nul\0here', 'SFO', '🚀', null]);
});

test("a batch's structure merges each field's kinds over every record, across name lists and a name twice, in first-seen order", () => {
  const structure = packedStructure(
    packRecords([
      record(['hour', 'origin'], [[1], ['ORD']]),
      record(['unseen'], [[]]),
      record(['delay', 'hour'], [[2.5], [-3]]),
      record(['hour', 'origin'], [[4], [null]]),
      record(['ratio', 'ratio'], [[1], [-1]]),
      record(['delay'], [[7]]),
    ]),
  );
  assert.deepEqual([...structure!.features], [['hour', 'HUGEINT'], ['origin', 'VARCHAR'], ['delay', 'DOUBLE'], ['ratio', 'HUGEINT']]);
  assert.deepEqual([...structure!.outputs], [['probability', 'DOUBLE']]);
  // Text in one list and a number in another under the same name: no kind DuckDB's rules are known for.
  assert.equal(packedStructure(packRecords([record(['origin'], [['ORD']]), record(['hour', 'origin'], [[1], [2]])])), undefined);
});

test('strings cross the wire and reach the Parquet file as logged, in a frame and in an NDJSON batch: non-ASCII kept, a lone surrogate and a NUL as U+FFFD', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const strings = ['Zürich ☃', 'ok\ud83d\ude00', 'nul\0here', 'half\ud800'];
  const written = ['Zürich ☃', 'ok\ud83d\ude00', 'nul\ufffdhere', 'half\ufffd'];
  const cases = [
    // One value per row: a frame.
    [packRecords([record(['origin'], [strings])])],
    // An embedding (two values per row): NDJSON rows.
    [packRecords([record(['origin', 'embedding'], [strings, strings.map((_, i) => [i, i + 1])])])],
  ];
  for (const [i, batches] of cases.entries()) {
    const file = await fileOf(join(dir, String(i)), batches, true);
    assert.deepEqual(file.spools, [i === 0 ? 'frames' : 'ndjson'], `case ${i}`);
    const origins = file.rows.map((row) => {
      const features = (JSON.parse(row) as { features: { origin: string } | string }).features;
      return (typeof features === 'string' ? (JSON.parse(features) as { origin: string }) : features).origin;
    });
    // One record's rows share their time: `contents` orders them by their JSON.
    assert.deepEqual(origins.sort(), [...written].sort(), `case ${i}`);
  }
});
