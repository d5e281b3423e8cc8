/**
 * The monitoring history: every window's drift and quality figures, kept so they can be charted and
 * queried by time range without re-reading the prediction log. One interface, one Kysely
 * implementation on both backends (SQLite embedded, PostgreSQL server), one contract suite
 * (`history-store.contract.ts`). Recording a window again replaces its figures, so a
 * re-run of `loom monitor` over the same hours does not duplicate them.
 */
import type { Insertable, Kysely, Selectable, Transaction } from 'kysely';
import type { MonitorDriftTable, MonitorTables } from './history-tables.js';
import type { DriftRow } from './monitor.js';

/** One stored drift figure. */
export interface DriftHistoryRow extends Omit<DriftRow, 'window'> {
  model: string;
  version: number;
  windowKind: string;
  end: number;
  rows: number;
  recordedAt: number;
}

export interface DriftHistoryQuery {
  model: string;
  version?: number;
  /** Windows starting in [from, to), epoch ms. */
  from?: number;
  to?: number;
}

/** One stored quality figure: estimated from the scores (CBPE) or measured on the labelled rows. */
export interface QualityHistoryRow {
  model: string;
  version: number;
  windowKind: string;
  start: number;
  end: number;
  rows: number;
  labelled: number;
  kind: QualityKind;
  metric: string;
  /** Null when undefined on the window (e.g. AUC where the labels hold one class). */
  value: number | null;
  recordedAt: number;
}

export const QUALITY_KINDS = ['estimated', 'measured'] as const;
export type QualityKind = (typeof QUALITY_KINDS)[number];

export interface MonitorHistoryStore {
  /** Stores figures (a batch); figures of the same model, version, window kind and start are replaced. */
  recordDrift(rows: readonly Omit<DriftHistoryRow, 'recordedAt'>[], recordedAt?: number): Promise<void>;
  /** Figures by window start, oldest first. */
  driftHistory(query: DriftHistoryQuery): Promise<DriftHistoryRow[]>;
  /** Stores quality figures; figures of the same model, version, window kind and start are replaced. */
  recordQuality(rows: readonly Omit<QualityHistoryRow, 'recordedAt'>[], recordedAt?: number): Promise<void>;
  /** Quality figures by window start, oldest first. */
  qualityHistory(query: DriftHistoryQuery): Promise<QualityHistoryRow[]>;
}

type WindowOf = Pick<DriftHistoryRow, 'model' | 'version' | 'windowKind' | 'start'>;
/** The six columns both tables key and describe a window with. */
type WindowFields = WindowOf & Pick<DriftHistoryRow, 'end' | 'rows'>;
type WindowColumns = Pick<MonitorDriftTable, 'model_name' | 'model_version' | 'window_kind' | 'window_start' | 'window_end' | 'window_rows'>;
type HistoryTable = keyof MonitorTables;

export class KyselyMonitorHistory implements MonitorHistoryStore {
  constructor(private readonly db: Kysely<MonitorTables>) {}

  async recordDrift(rows: readonly Omit<DriftHistoryRow, 'recordedAt'>[], recordedAt = Date.now()): Promise<void> {
    await replaceWindows(this.db, 'monitor_drift', rows, (r) => ({
      ...windowColumns(r),
      against: r.against,
      feature: r.feature,
      measure: r.measure,
      value: r.value,
      threshold: r.threshold,
      exceeded: r.exceeded ? 1 : 0,
      recorded_at: recordedAt,
    }));
  }

  async driftHistory(query: DriftHistoryQuery): Promise<DriftHistoryRow[]> {
    const rows = await selectWindows(this.db, 'monitor_drift', query);
    return rows.map((r) => ({
      ...windowOf(r),
      against: r.against as DriftRow['against'],
      feature: r.feature,
      measure: r.measure,
      value: r.value === null ? null : Number(r.value),
      threshold: Number(r.threshold),
      exceeded: Number(r.exceeded) === 1,
      recordedAt: Number(r.recorded_at),
    }));
  }

  async recordQuality(rows: readonly Omit<QualityHistoryRow, 'recordedAt'>[], recordedAt = Date.now()): Promise<void> {
    await replaceWindows(this.db, 'monitor_quality', rows, (r) => ({
      ...windowColumns(r),
      labelled: r.labelled,
      kind: r.kind,
      metric: r.metric,
      value: r.value,
      recorded_at: recordedAt,
    }));
  }

  async qualityHistory(query: DriftHistoryQuery): Promise<QualityHistoryRow[]> {
    const rows = await selectWindows(this.db, 'monitor_quality', query);
    return rows.map((r) => ({
      ...windowOf(r),
      labelled: Number(r.labelled),
      kind: r.kind as QualityKind,
      metric: r.metric,
      value: r.value === null ? null : Number(r.value),
      recordedAt: Number(r.recorded_at),
    }));
  }
}

/** A window's six columns as both tables store them. */
function windowColumns(r: WindowFields): WindowColumns {
  return { model_name: r.model, model_version: r.version, window_kind: r.windowKind, window_start: r.start, window_end: r.end, window_rows: r.rows };
}

/** A stored row's window; numbers are converted because PostgreSQL returns bigint columns as strings. */
function windowOf(r: WindowColumns): WindowFields {
  return { model: r.model_name, version: Number(r.model_version), windowKind: r.window_kind, start: Number(r.window_start), end: Number(r.window_end), rows: Number(r.window_rows) };
}

/** One model's rows of a table, narrowed by version and window start, oldest first. */
async function selectWindows<T extends HistoryTable>(db: Kysely<MonitorTables>, table: T, query: DriftHistoryQuery): Promise<Selectable<MonitorTables[T]>[]> {
  let select = db.selectFrom(table as HistoryTable).selectAll().where('model_name', '=', query.model);
  if (query.version !== undefined) select = select.where('model_version', '=', query.version);
  if (query.from !== undefined) select = select.where('window_start', '>=', query.from);
  if (query.to !== undefined) select = select.where('window_start', '<', query.to);
  return (await select.orderBy('window_start').orderBy('id').execute()) as Selectable<MonitorTables[T]>[];
}

/** Writes a batch in one transaction, replacing the figures of every window it covers, 500 rows an insert. */
async function replaceWindows<T extends HistoryTable, R extends WindowOf>(
  db: Kysely<MonitorTables>,
  table: T,
  rows: readonly R[],
  toValues: (row: R) => Insertable<MonitorTables[T]>,
): Promise<void> {
  if (rows.length === 0) return;
  await db.transaction().execute(async (tx) => {
    await deleteWindows(tx, table, rows);
    for (let i = 0; i < rows.length; i += 500) {
      // Kysely types the values of a generic table name as a union of both tables' rows; toValues is typed per table.
      await tx.insertInto(table as HistoryTable).values(rows.slice(i, i + 500).map(toValues) as Insertable<MonitorTables[HistoryTable]>[]).execute();
    }
  });
}

/** Deletes the stored figures of each window the batch covers, so recording a window again replaces it. */
async function deleteWindows(tx: Transaction<MonitorTables>, table: 'monitor_drift' | 'monitor_quality', rows: readonly WindowOf[]): Promise<void> {
  const windows = new Map(rows.map((r) => [`${r.model}\u0000${r.version}\u0000${r.windowKind}\u0000${r.start}`, r]));
  for (const w of windows.values()) {
    await tx.deleteFrom(table).where('model_name', '=', w.model).where('model_version', '=', w.version).where('window_kind', '=', w.windowKind).where('window_start', '=', w.start).execute();
  }
}
