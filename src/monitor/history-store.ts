/**
 * The monitoring history: every window's drift and quality figures, kept so they can be charted and
 * queried by time range without re-reading the prediction log. One interface, one Kysely
 * implementation on both backends (SQLite embedded, PostgreSQL server), one contract suite
 * (`history-store.contract.ts`). Recording a window again replaces its figures, so a
 * re-run of `loom monitor` over the same hours does not duplicate them.
 */
import type { Kysely, Transaction } from 'kysely';
import type { MonitorTables } from './history-tables.js';
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

export class KyselyMonitorHistory implements MonitorHistoryStore {
  constructor(private readonly db: Kysely<MonitorTables>) {}

  async recordDrift(rows: readonly Omit<DriftHistoryRow, 'recordedAt'>[], recordedAt = Date.now()): Promise<void> {
    if (rows.length === 0) return;
    await this.db.transaction().execute(async (tx) => {
      await deleteWindows(tx, 'monitor_drift', rows);
      for (let i = 0; i < rows.length; i += 500) {
        await tx
          .insertInto('monitor_drift')
          .values(
            rows.slice(i, i + 500).map((r) => ({
              model_name: r.model,
              model_version: r.version,
              window_kind: r.windowKind,
              window_start: r.start,
              window_end: r.end,
              window_rows: r.rows,
              against: r.against,
              feature: r.feature,
              measure: r.measure,
              value: r.value,
              threshold: r.threshold,
              exceeded: r.exceeded ? 1 : 0,
              recorded_at: recordedAt,
            })),
          )
          .execute();
      }
    });
  }

  async driftHistory(query: DriftHistoryQuery): Promise<DriftHistoryRow[]> {
    let select = this.db.selectFrom('monitor_drift').selectAll().where('model_name', '=', query.model);
    if (query.version !== undefined) select = select.where('model_version', '=', query.version);
    if (query.from !== undefined) select = select.where('window_start', '>=', query.from);
    if (query.to !== undefined) select = select.where('window_start', '<', query.to);
    const rows = await select.orderBy('window_start').orderBy('id').execute();
    return rows.map((r) => ({
      model: r.model_name,
      version: Number(r.model_version),
      windowKind: r.window_kind,
      start: Number(r.window_start),
      end: Number(r.window_end),
      rows: Number(r.window_rows),
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
    if (rows.length === 0) return;
    await this.db.transaction().execute(async (tx) => {
      await deleteWindows(tx, 'monitor_quality', rows);
      for (let i = 0; i < rows.length; i += 500) {
        await tx
          .insertInto('monitor_quality')
          .values(
            rows.slice(i, i + 500).map((r) => ({
              model_name: r.model,
              model_version: r.version,
              window_kind: r.windowKind,
              window_start: r.start,
              window_end: r.end,
              window_rows: r.rows,
              labelled: r.labelled,
              kind: r.kind,
              metric: r.metric,
              value: r.value,
              recorded_at: recordedAt,
            })),
          )
          .execute();
      }
    });
  }

  async qualityHistory(query: DriftHistoryQuery): Promise<QualityHistoryRow[]> {
    let select = this.db.selectFrom('monitor_quality').selectAll().where('model_name', '=', query.model);
    if (query.version !== undefined) select = select.where('model_version', '=', query.version);
    if (query.from !== undefined) select = select.where('window_start', '>=', query.from);
    if (query.to !== undefined) select = select.where('window_start', '<', query.to);
    const rows = await select.orderBy('window_start').orderBy('id').execute();
    return rows.map((r) => ({
      model: r.model_name,
      version: Number(r.model_version),
      windowKind: r.window_kind,
      start: Number(r.window_start),
      end: Number(r.window_end),
      rows: Number(r.window_rows),
      labelled: Number(r.labelled),
      kind: r.kind as QualityKind,
      metric: r.metric,
      value: r.value === null ? null : Number(r.value),
      recordedAt: Number(r.recorded_at),
    }));
  }
}

/** Deletes the stored figures of each window the batch covers, so recording a window again replaces it. */
async function deleteWindows(tx: Transaction<MonitorTables>, table: 'monitor_drift' | 'monitor_quality', rows: readonly WindowOf[]): Promise<void> {
  const windows = new Map(rows.map((r) => [`${r.model}\u0000${r.version}\u0000${r.windowKind}\u0000${r.start}`, r]));
  for (const w of windows.values()) {
    await tx.deleteFrom(table).where('model_name', '=', w.model).where('model_version', '=', w.version).where('window_kind', '=', w.windowKind).where('window_start', '=', w.start).execute();
  }
}
