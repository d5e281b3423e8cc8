/**
 * The monitoring history: every window's drift figures, kept so they can be charted and
 * queried by time range without re-reading the prediction log. One interface, one Kysely
 * implementation on both backends (SQLite embedded, PostgreSQL server), one contract suite
 * (`history-store.contract.ts`). Recording a window again replaces its figures, so a
 * re-run of `loom monitor` over the same hours does not duplicate them.
 */
import type { Kysely } from 'kysely';
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

export interface MonitorHistoryStore {
  /** Stores figures (a batch); figures of the same model, version, window kind and start are replaced. */
  recordDrift(rows: readonly Omit<DriftHistoryRow, 'recordedAt'>[], recordedAt?: number): Promise<void>;
  /** Figures by window start, oldest first. */
  driftHistory(query: DriftHistoryQuery): Promise<DriftHistoryRow[]>;
}

export class KyselyMonitorHistory implements MonitorHistoryStore {
  constructor(private readonly db: Kysely<MonitorTables>) {}

  async recordDrift(rows: readonly Omit<DriftHistoryRow, 'recordedAt'>[], recordedAt = Date.now()): Promise<void> {
    if (rows.length === 0) return;
    const windows = new Map(rows.map((r) => [`${r.model}\u0000${r.version}\u0000${r.windowKind}\u0000${r.start}`, r]));
    await this.db.transaction().execute(async (tx) => {
      for (const w of windows.values()) {
        await tx.deleteFrom('monitor_drift').where('model_name', '=', w.model).where('model_version', '=', w.version).where('window_kind', '=', w.windowKind).where('window_start', '=', w.start).execute();
      }
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
}
