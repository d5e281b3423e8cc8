/**
 * The one LabelStore implementation, over Kysely, on the Loom database (its own table,
 * `prediction_label`). Writes are multi-row upserts in chunks, in one transaction.
 *
 * Usage: `new KyselyLabelStore(db)` (`openPlatform` builds it as `platform.labels`).
 */
import { parseInput } from '../core/validation.js';
import { newLabelSchema, type LabelQuery, type LabelStore, type LabelValue, type NewLabel, type StoredLabel } from './label-store.js';
import type { LabelKysely, PredictionLabelTable } from './label-tables.js';

/** Rows per INSERT: 6 parameters each stays far under both dialects' limits. */
const CHUNK = 1000;

function toStored(row: PredictionLabelTable): StoredLabel {
  // PostgreSQL returns bigint columns as strings.
  return { requestId: row.request_id, modelName: row.model_name, label: Number(row.label), observedAt: Number(row.observed_at), receivedAt: Number(row.received_at), source: row.source };
}

export class KyselyLabelStore implements LabelStore {
  constructor(private readonly db: LabelKysely) {}

  async putLabels(labels: readonly NewLabel[], source: string): Promise<{ written: number }> {
    const valid = parseInput(newLabelSchema.array(), labels, { what: 'the labels', fix: 'give each label a requestId, a modelName and a number or boolean label' });
    const now = Date.now();
    // One row per request id, the last given winning: an upsert may not touch a row twice in one statement.
    const rows = new Map<string, PredictionLabelTable>();
    for (const label of valid) {
      rows.set(label.requestId, { request_id: label.requestId, model_name: label.modelName, label: label.label, observed_at: label.observedAt ?? now, received_at: now, source });
    }
    const all = [...rows.values()];
    if (all.length === 0) return { written: 0 };
    await this.db.transaction().execute(async (trx) => {
      for (let i = 0; i < all.length; i += CHUNK) {
        await trx
          .insertInto('prediction_label')
          .values(all.slice(i, i + CHUNK))
          .onConflict((oc) =>
            oc.column('request_id').doUpdateSet((eb) => ({
              model_name: eb.ref('excluded.model_name'),
              label: eb.ref('excluded.label'),
              observed_at: eb.ref('excluded.observed_at'),
              received_at: eb.ref('excluded.received_at'),
              source: eb.ref('excluded.source'),
            })),
          )
          .execute();
      }
    });
    return { written: all.length };
  }

  async getLabels(requestIds: readonly string[]): Promise<Map<string, StoredLabel>> {
    const found = new Map<string, StoredLabel>();
    const unique = [...new Set(requestIds)];
    for (let i = 0; i < unique.length; i += CHUNK) {
      const rows = await this.db.selectFrom('prediction_label').selectAll().where('request_id', 'in', unique.slice(i, i + CHUNK)).execute();
      for (const row of rows) found.set(row.request_id, toStored(row));
    }
    return found;
  }

  async countLabels(model: string): Promise<number> {
    const [{ labels }] = await this.db.selectFrom('prediction_label').select((eb) => eb.fn.countAll<number | string>().as('labels')).where('model_name', '=', model).execute();
    return Number(labels);
  }

  async listLabels(query: LabelQuery): Promise<StoredLabel[]> {
    let select = this.db.selectFrom('prediction_label').selectAll().where('model_name', '=', query.model);
    if (query.from !== undefined) select = select.where('observed_at', '>=', query.from);
    if (query.to !== undefined) select = select.where('observed_at', '<', query.to);
    const rows = await select.orderBy('observed_at').orderBy('request_id').execute();
    return rows.map(toStored);
  }

  async labelValues(model: string): Promise<LabelValue[]> {
    const rows = await this.db.selectFrom('prediction_label').select(['request_id', 'label']).where('model_name', '=', model).execute();
    // PostgreSQL may return the double as a string (as toStored reads it).
    return rows.map((row) => ({ requestId: row.request_id, label: Number(row.label) }));
  }
}
