/**
 * The columnar spool: each packed batch appended as one line of JSON holding the batch's
 * rows column by column (`{"rows":2,"request_id":["a","b"],…,"same":{"model_name":"flights",…},"features":{"hour":[17,18]},…}`),
 * instead of one JSON object per row. Encoding a batch is one `JSON.stringify` of a few
 * arrays of plain values (done in V8's native code) rather than a JSON text built per row
 * and field, which was most of what the log's worker spent; DuckDB reads the frames back
 * with `read_json` and unnests the columns into the same rows, straight into the Parquet
 * layout the reader expects (features and outputs as STRUCT columns, see
 * prediction-log-structure.ts). Each frame carries its batch's field kinds, so a spool left
 * by a crash is typed without being read twice. A crash can cut only the last frame short:
 * a frame ends with its newline, and a last line without one is dropped whole (the Parquet
 * writer's recovery), never half-read.
 *
 * Only batches whose structure is known and whose columns hold one value per row become
 * frames; the others are spooled as NDJSON lines (prediction-log-spool.ts) as before.
 *
 * Also here, the relations of the older NDJSON spool (`spoolSource`) and the layout DuckDB finds
 * for rows whose structure the writer could not track (`columnarLayout`).
 *
 * Usage: `appendFile(spool, packedFrame(packed, structure).text)`; at rotation
 * `COPY (SELECT … FROM ${frameSource(spool, fields, true)}) TO …`.
 */
import { z } from 'zod';
import type { DuckDBConnection } from '@duckdb/node-api';
import { LoomError } from '../core/errors.js';
import { sqlIdent, sqlString } from '../data/duckdb.js';
import { HEAD, PackedRecordCursor, type PackedRecords } from './prediction-log-layout.js';
import { SpoolStructure, type BatchStructure, type Kind } from './prediction-log-structure.js';

/**
 * The log row's fixed columns as frames hold them and DuckDB reads them: a list per column (a
 * value per row), except that the `SAME_COLUMNS` a whole batch shares are one value in the
 * frame's `same` object, and `status` and `error_code` are left out of a batch without a
 * failure (read as NULL). Frames of the version before (every column a list) read the same.
 */
const HEAD_COLUMNS = [
  ['request_id', 'VARCHAR'],
  ['model_name', 'VARCHAR'],
  ['model_version', 'INTEGER'],
  ['role', 'VARCHAR'],
  ['protocol', 'VARCHAR'],
  ['latency_ms', 'DOUBLE'],
  ['logged_at', 'BIGINT'],
  ['status', 'INTEGER'],
  ['error_code', 'VARCHAR'],
] as const;

/** The columns a batch's rows nearly always share, with where each sits in a packed record's head. */
const SAME_COLUMNS = [
  ['model_name', 'VARCHAR', HEAD.modelName],
  ['model_version', 'INTEGER', HEAD.modelVersion],
  ['role', 'VARCHAR', HEAD.role],
  ['protocol', 'VARCHAR', HEAD.protocol],
] as const;

type Fields = Map<string, unknown[]>;

/**
 * A packed batch as one frame line (newline-terminated) and its row count. `structure` is the
 * batch's (`packedStructure`): known, so every feature and output column has one value per row.
 */
export function packedFrame(packed: PackedRecords, structure: NonNullable<BatchStructure>): { text: string; rows: number } {
  const { head, body } = packed;
  const requestId: unknown[] = [];
  const latency: unknown[] = [];
  const loggedAt: unknown[] = [];
  // Lists made only for a batch with a failure (nearly none): absent, DuckDB reads the rows' status as NULL.
  let status: unknown[] | undefined;
  let errorCode: unknown[] | undefined;
  const same = new SameValues();
  const features: Fields = new Map();
  const outputs: Fields = new Map();
  let rows = 0;
  // A field's `length` values from `start` for the record's rows, after nulls for earlier rows without the field.
  const fill = (values: unknown[], start: number, length: number) => {
    // A name twice in one record: the later column wins, as a JSON object's later key does.
    // (Only shortened when longer: setting an array's length is a slow call even when it changes nothing.)
    if (values.length > rows) values.length = rows;
    while (values.length < rows) values.push(null);
    for (let i = start, end = start + length; i < end; i++) values.push(body[i]);
  };
  const field = (fields: Fields, name: string): unknown[] => {
    let values = fields.get(name);
    if (!values) fields.set(name, (values = []));
    return values;
  };
  // Each input-name list's value lists, looked up once per batch rather than once per record and
  // name (at its first record with rows, so fields come in the order they did).
  const featureLists: (unknown[][] | undefined)[] = [];
  for (const record = new PackedRecordCursor(packed); record.next(); ) {
    const { h, rowCount, failure } = record;
    if (rowCount === 0) continue;
    const lists = (featureLists[record.namesIndex] ??= packed.names[record.namesIndex]!.map((name) => field(features, name)));
    for (let c = 0; c < record.columnCount; c++) fill(lists[c]!, record.columnStarts[c]!, record.columnLengths[c]!);
    for (let o = 0; o < record.outputCount; o++) fill(field(outputs, record.outputNames[o]!), record.outputStarts[o]!, record.outputLengths[o]!);
    same.add(head, h, rows, rowCount);
    if (failure && !status) {
      status = new Array<unknown>(rows).fill(null);
      errorCode = new Array<unknown>(rows).fill(null);
    }
    for (let row = 0; row < rowCount; row++) {
      requestId.push(head[h + HEAD.requestId]);
      latency.push(head[h + HEAD.latencyMs]);
      loggedAt.push(head[h + HEAD.at]);
      if (status) {
        status.push(failure ? failure.status : null);
        errorCode!.push(failure ? (failure.code ?? null) : null);
      }
    }
    rows += rowCount;
  }
  for (const fields of [features, outputs]) for (const values of fields.values()) while (values.length < rows) values.push(null);
  const frame: Record<string, unknown> = { rows, request_id: requestId, ...same.lists(), latency_ms: latency, logged_at: loggedAt };
  if (status) {
    frame.status = status;
    frame.error_code = errorCode;
  }
  frame.same = same.constants();
  frame.features = Object.fromEntries(features);
  frame.outputs = Object.fromEntries(outputs);
  frame.kinds = { features: [...structure.features], outputs: [...structure.outputs] };
  // Non-finite numbers become null here, as they do in the NDJSON lines.
  return { text: `${JSON.stringify(frame)}\n`, rows };
}

/**
 * The columns a record's rows share (model, version, role, protocol): one value per frame in
 * `same` while every row of the batch has it (nearly always: one server, one version), a list
 * per row only from the first row that differs. Nothing per row is built, encoded or parsed
 * for them.
 */
class SameValues {
  private readonly first: unknown[] = [];
  private readonly perRow: (unknown[] | undefined)[] = [];

  add(head: readonly unknown[], h: number, rowsBefore: number, rowCount: number): void {
    for (let i = 0; i < SAME_COLUMNS.length; i++) {
      const value = head[h + SAME_COLUMNS[i]![2]];
      if (rowsBefore === 0) this.first[i] = value;
      let list = this.perRow[i];
      if (!list && value !== this.first[i]) list = this.perRow[i] = new Array<unknown>(rowsBefore).fill(this.first[i]);
      if (list) for (let row = 0; row < rowCount; row++) list.push(value);
    }
  }

  /** The columns whose rows differ, a list each (by column name). */
  lists(): Record<string, unknown[]> {
    const lists: Record<string, unknown[]> = {};
    SAME_COLUMNS.forEach(([name], i) => {
      if (this.perRow[i]) lists[name] = this.perRow[i];
    });
    return lists;
  }

  /** The columns every row shares, their one value (by column name). */
  constants(): Record<string, unknown> {
    const constants: Record<string, unknown> = {};
    SAME_COLUMNS.forEach(([name], i) => {
      if (!this.perRow[i]) constants[name] = this.first[i];
    });
    return constants;
  }
}

/** A spool's fields with their kinds, in first-seen order. */
export type FrameFields = { features: [string, Kind][]; outputs: [string, Kind][] };

/**
 * A frame spool's rows as a relation with the log's columns (logged_at still epoch ms):
 * features and outputs as STRUCTs of the fields' kinds when `typed`, else as JSON objects
 * (for the writer's slower layouts: a field only ever null, found by reading the rows).
 */
export function frameSource(spool: string, fields: FrameFields, typed: boolean): string {
  const read: string[] = HEAD_COLUMNS.map(([name, type]) => `${name}: '${type}[]'`);
  read.push(`same: ${sqlString(`STRUCT(${SAME_COLUMNS.map(([name, type]) => `${name} ${type}`).join(', ')})`)}`);
  const unnests: string[] = HEAD_COLUMNS.map(([name]) => `unnest(${name}) AS ${name}`);
  unnests.push('same');
  // A column a frame holds once (in `same`) has no list to unnest: NULL on every row, the frame's one value in its place.
  const head = HEAD_COLUMNS.map(([name]) => (SAME_COLUMNS.some(([same]) => same === name) ? `coalesce(${name}, same.${name}) AS ${name}` : name));
  const value = { features: `'{}'::JSON`, outputs: `'{}'::JSON` };
  for (const side of ['features', 'outputs'] as const) {
    const list = fields[side];
    if (list.length === 0) continue;
    const alias = (i: number) => `${side[0]}${i}`;
    read.push(`${side}: ${sqlString(`STRUCT(${list.map(([name, kind]) => `${sqlIdent(name)} ${typed ? kind : 'JSON'}[]`).join(', ')})`)}`);
    list.forEach(([name], i) => unnests.push(`unnest(${side}.${sqlIdent(name)}) AS ${alias(i)}`));
    value[side] = typed
      ? `struct_pack(${list.map(([name], i) => `${sqlIdent(name)} := ${alias(i)}`).join(', ')})`
      : `json_object(${list.map(([name], i) => `${sqlString(name)}, ${alias(i)}`).join(', ')})`;
  }
  const [requestId, modelName, modelVersion, role, protocol, latency, loggedAt, status, errorCode] = head;
  return `(SELECT ${requestId}, ${modelName}, ${modelVersion}, ${role}, ${protocol}, ${value.features} AS features, ${value.outputs} AS outputs,
    ${latency}, ${loggedAt}, ${status}, ${errorCode} FROM (SELECT ${unnests.join(', ')}
    FROM read_json(${sqlString(spool)}, format = 'newline_delimited', columns = {${read.join(', ')}})))`;
}

const KINDS = ['UBIGINT', 'BIGINT', 'HUGEINT', 'DOUBLE', 'VARCHAR', 'BOOLEAN', 'NULL'] as const satisfies readonly Kind[];
const kindsSchema = z.object({ features: z.array(z.tuple([z.string(), z.enum(KINDS)])), outputs: z.array(z.tuple([z.string(), z.enum(KINDS)])) });

/**
 * The structure of a frame spool written by a writer that is gone (read from the kinds each
 * frame carries), its rows, and its fields; throws when a frame is not one this log wrote.
 */
export async function frameSpoolStructure(db: DuckDBConnection, spool: string): Promise<{ structure: SpoolStructure; rows: number; fields: FrameFields }> {
  const result = await db.runAndReadAll(`SELECT rows, kinds::VARCHAR FROM read_json(${sqlString(spool)}, format = 'newline_delimited', columns = {rows: 'BIGINT', kinds: 'JSON'})`);
  const structure = new SpoolStructure();
  let rows = 0;
  // The spool is a file on disk, not this process's memory: a frame that does not check is reported as such, not as a schema dump.
  const foreign = (why: string) =>
    new LoomError('FAILED_PRECONDITION', `the prediction log spool ${spool} is not one this log wrote: ${why}`, {
      fix: 'move the spool out of the log directory (it is tried again at every start while it is there) and look at it by hand',
    });
  for (const [index, [count, kinds]] of result.getRows().entries()) {
    const parsed = kindsSchema.safeParse(kinds === null ? null : JSON.parse(String(kinds)));
    if (!parsed.success || count === null) throw foreign(`frame ${index + 1} has no row count or no field kinds of its own`);
    rows += Number(count);
    structure.add({ features: new Map(parsed.data.features), outputs: new Map(parsed.data.outputs) });
  }
  const fields = structure.fields();
  if (!fields) throw foreign('its frames give a field kinds that conflict');
  return { structure, rows, fields };
}

/** A spool as DuckDB reads it back: features and outputs as JSON, or typed as `layout` says. */
export function spoolSource(spool: string, layout: { features: string; outputs: string } = { features: 'JSON', outputs: 'JSON' }): string {
  const columns = `{request_id: 'VARCHAR', model_name: 'VARCHAR', model_version: 'INTEGER', role: 'VARCHAR', protocol: 'VARCHAR',
    features: ${sqlString(layout.features)}, outputs: ${sqlString(layout.outputs)}, latency_ms: 'DOUBLE', logged_at: 'BIGINT', status: 'INTEGER', error_code: 'VARCHAR'}`;
  return `read_json(${sqlString(spool)}, format = 'newline_delimited', columns = ${columns})`;
}

/**
 * The columnar layout of a spool's features and outputs: each a STRUCT of one field per
 * name (so each input feature and output is its own Parquet column, read without parsing
 * JSON), typed by the structure of every row of the spool (`json_group_structure`: every
 * key any row has, each typed to hold every row's value, mixed types as JSON text), so every
 * value fits its field. Undefined when either is not an object with keys, or has keys that
 * differ only in case (DuckDB's STRUCT fields do not keep both).
 */
export async function columnarLayout(db: DuckDBConnection, source: string): Promise<{ features: string; outputs: string } | undefined> {
  const row = (await db.runAndReadAll(`SELECT json_group_structure(features)::VARCHAR, json_group_structure(outputs)::VARCHAR FROM ${source}`)).getRows()[0];
  const structures = (row ?? []).map((value) => String(value));
  const usable = (structure: string) => structure.startsWith('{') && structure !== '{}' && !structure.includes('"NULL"') && caseDistinct(JSON.parse(structure));
  if (structures.length !== 2 || !structures.every(usable)) return undefined;
  const [features, outputs] = structures.map((structure, i) => `json_transform(${i === 0 ? 'features' : 'outputs'}, ${sqlString(structure)})`);
  return { features: features!, outputs: outputs! };
}

/** Whether no object in a JSON structure has two keys equal but for case. */
function caseDistinct(structure: unknown): boolean {
  if (Array.isArray(structure)) return structure.every(caseDistinct);
  if (structure === null || typeof structure !== 'object') return true;
  const keys = Object.keys(structure);
  return new Set(keys.map((k) => k.toLowerCase())).size === keys.length && Object.values(structure).every(caseDistinct);
}
