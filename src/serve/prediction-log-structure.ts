/**
 * The columnar layout of a spool's features and outputs, known while writing instead of
 * found by reading the spool back. The Parquet writer's layout is what DuckDB's
 * `json_group_structure` gives over every row of the spool (prediction-log-parquet.ts); finding
 * it costs a full parse of the spool before the parse that writes the file, about half the
 * conversion. The log's worker sees every value as it writes the spool, so it tracks the
 * same structure here, for the cases whose rules are known (each verified against DuckDB
 * 1.5): integers that are all ≥ 0 are UBIGINT, all < 0 BIGINT, of both signs HUGEINT;
 * numbers with a fraction make the field DOUBLE; text VARCHAR; booleans BOOLEAN; nulls
 * (and non-finite numbers, written as null) add nothing. Anything else (arrays, mixed text
 * and numbers, integers beyond 2^53, a field only ever null) makes it unknown, and the spool
 * is converted the slower way, as before.
 *
 * Usage: `const structure = new SpoolStructure(); structure.add(packedStructure(packed)); structure.columns()`
 */
import { sqlIdent } from '../data/duckdb.js';
import { PackedRecordCursor, type PackedRecords } from './prediction-log-layout.js';

export type Kind = 'UBIGINT' | 'BIGINT' | 'HUGEINT' | 'DOUBLE' | 'VARCHAR' | 'BOOLEAN' | 'NULL';

/** Field name → kind, in first-seen order, for features and outputs; undefined when some value has no known kind. */
export type BatchStructure = { features: Map<string, Kind>; outputs: Map<string, Kind> } | undefined;

const INTEGERS = new Set<Kind>(['UBIGINT', 'BIGINT', 'HUGEINT']);

/** Two kinds of one field merged as DuckDB merges them; undefined when the rule is not known here. */
function merge(a: Kind, b: Kind): Kind | undefined {
  if (a === b || b === 'NULL') return a;
  if (a === 'NULL') return b;
  if (INTEGERS.has(a) && INTEGERS.has(b)) return 'HUGEINT';
  if ((a === 'DOUBLE' && INTEGERS.has(b)) || (b === 'DOUBLE' && INTEGERS.has(a))) return 'DOUBLE';
  return undefined;
}

/** A value's kind as its JSON text in the spool reads (see prediction-log-pack.ts `json`). */
function kindOf(value: unknown): Kind | undefined {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'string') return 'VARCHAR';
  if (typeof value === 'boolean') return 'BOOLEAN';
  if (typeof value !== 'number') return undefined;
  if (!Number.isFinite(value)) return 'NULL';
  if (!Number.isInteger(value)) return 'DOUBLE';
  if (!Number.isSafeInteger(value)) return undefined;
  return value >= 0 ? 'UBIGINT' : 'BIGINT';
}

/** Merges `kind` into `fields[name]`; false when the merge is unknown. */
function addKind(fields: Map<string, Kind>, name: string, kind: Kind | undefined): boolean {
  if (kind === undefined) return false;
  const before = fields.get(name);
  const merged = before === undefined ? kind : merge(before, kind);
  if (merged === undefined) return false;
  fields.set(name, merged);
  return true;
}

/** The structure of one packed batch (the layout of `PackedRecords`: see prediction-log-pack.ts). */
export function packedStructure(packed: PackedRecords): BatchStructure {
  const features = new Map<string, Kind>();
  const outputs = new Map<string, Kind>();
  const { body } = packed;
  // Each input-name list's kinds, per column, merged over the batch's records in an array
  // rather than a map per value (merging is associative: the same kinds as value by value).
  // Its names enter `features` at the list's first record with rows, so fields keep the order they are first seen in.
  const listKinds: (Kind[] | undefined)[] = [];
  // The merged kind of `length` values from `start`, one per row, into `kind`; undefined when unknown (a column with several values per row is an array).
  const columnKind = (kind: Kind | undefined, start: number, length: number, rowCount: number): Kind | undefined => {
    if (length !== rowCount) return undefined;
    for (let i = start; i < start + length && kind !== undefined; i++) {
      const next = kindOf(body[i]);
      kind = next === undefined ? undefined : merge(kind, next);
    }
    return kind;
  };
  for (const record = new PackedRecordCursor(packed); record.next(); ) {
    const { rowCount } = record;
    if (rowCount === 0) continue;
    let kinds = listKinds[record.namesIndex];
    if (!kinds) {
      kinds = listKinds[record.namesIndex] = packed.names[record.namesIndex]!.map(() => 'NULL' as Kind);
      for (const name of packed.names[record.namesIndex]!) if (!features.has(name)) features.set(name, 'NULL');
    }
    for (let c = 0; c < record.columnCount; c++) {
      const kind = columnKind(kinds[c], record.columnStarts[c]!, record.columnLengths[c]!, rowCount);
      if (kind === undefined) return undefined;
      kinds[c] = kind;
    }
    for (let o = 0; o < record.outputCount; o++) {
      const name = record.outputNames[o]!;
      const kind = columnKind(outputs.get(name) ?? 'NULL', record.outputStarts[o]!, record.outputLengths[o]!, rowCount);
      if (kind === undefined) return undefined;
      outputs.set(name, kind);
    }
  }
  for (const [index, kinds] of listKinds.entries()) {
    if (!kinds) continue;
    const names = packed.names[index]!;
    for (let c = 0; c < kinds.length; c++) if (!addKind(features, names[c]!, kinds[c])) return undefined;
  }
  return { features, outputs };
}

/** A spool's structure, batch by batch. */
export class SpoolStructure {
  private readonly features = new Map<string, Kind>();
  private readonly outputs = new Map<string, Kind>();
  private known = true;

  /** Merges a batch's structure; an unknown batch makes the whole spool unknown. */
  add(batch: BatchStructure): void {
    if (!this.known) return;
    if (!batch) {
      this.known = false;
      return;
    }
    for (const [target, source] of [[this.features, batch.features], [this.outputs, batch.outputs]] as const) {
      for (const [name, kind] of source) {
        if (!addKind(target, name, kind)) {
          this.known = false;
          return;
        }
      }
    }
  }

  /**
   * Whether a batch merges into this structure with every field's kind still known and no
   * two field names equal but for case (DuckDB's STRUCT fields, which a columnar spool's
   * frames are read into, do not keep both) nor empty (no SQL identifier names it). Nothing is merged.
   */
  fits(batch: BatchStructure): boolean {
    if (!this.known || !batch) return false;
    for (const [target, source] of [[this.features, batch.features], [this.outputs, batch.outputs]] as const) {
      const lower = new Set([...target.keys()].map((name) => name.toLowerCase()));
      for (const [name, kind] of source) {
        if (name === '') return false;
        const before = target.get(name);
        if (before === undefined) {
          if (lower.has(name.toLowerCase())) return false;
          lower.add(name.toLowerCase());
        } else if (merge(before, kind) === undefined) return false;
      }
    }
    return true;
  }

  /** Every field seen, in first-seen order, with its kind; undefined when some kind is unknown. */
  fields(): { features: [string, Kind][]; outputs: [string, Kind][] } | undefined {
    return this.known ? { features: [...this.features], outputs: [...this.outputs] } : undefined;
  }

  /**
   * The DuckDB types of `features` and `outputs` for reading the spool straight into the
   * columnar layout; undefined when unknown, or when the layout falls back to JSON text
   * anyway (no fields, a field only ever null, names equal but for case).
   */
  columns(): { features: string; outputs: string } | undefined {
    if (!this.known) return undefined;
    const type = (fields: Map<string, Kind>) => {
      const names = [...fields.keys()];
      if (names.length === 0 || [...fields.values()].includes('NULL')) return undefined;
      if (new Set(names.map((n) => n.toLowerCase())).size !== names.length) return undefined;
      return `STRUCT(${names.map((n) => `${sqlIdent(n)} ${fields.get(n)}`).join(', ')})`;
    };
    const [features, outputs] = [type(this.features), type(this.outputs)];
    return features && outputs ? { features, outputs } : undefined;
  }
}
