/**
 * The one LabelStore implementation, over Kysely, on the Loom database (its own table,
 * `prediction_label`). Writes are multi-row upserts in chunks, in one transaction (a load's
 * batches too, however many).
 *
 * Usage: `new KyselyLabelStore(db)` (`openPlatform` builds it as `platform.labels`).
 */
import { parseInput } from '../core/validation.js';
import { newLabelSchema, type LabelQuery, type LabelStore, type LabelValue, type NewLabel, type StoredLabel } from './label-store.js';
import type { Transaction } from 'kysely';
import type { LabelKysely, LabelTables, PredictionLabelTable } from './label-tables.js';

/** Rows per INSERT: 6 parameters each stays far under both dialects' limits. */
const CHUNK = 1000;

function toStored(row: PredictionLabelTable): StoredLabel {
  // PostgreSQL returns bigint columns as strings.
  return { requestId: row.request_id, modelName: row.model_name, label: Number(row.label), observedAt: Number(row.observed_at), receivedAt: Number(row.received_at), source: row.source };
}

/** A batch's rows, checked, one per request id (the last given winning: an upsert may not touch a row twice in one statement). */
function labelRows(labels: readonly NewLabel[], source: string, now: number): PredictionLabelTable[] {
  const valid = parseInput(newLabelSchema.array(), labels, { what: 'the labels', fix: 'give each label a requestId, a modelName and a number or boolean label' });
  const rows = new Map<string, PredictionLabelTable>();
  for (const label of valid) {
    rows.set(label.requestId, { request_id: label.requestId, model_name: label.modelName, label: label.label, observed_at: label.observedAt ?? now, received_at: now, source });
  }
  return [...rows.values()];
}

/** Upserts rows in statements of CHUNK rows, in the caller's transaction. */
async function upsertLabels(trx: Transaction<LabelTables>, rows: readonly PredictionLabelTable[]): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) {
    await trx
      .insertInto('prediction_label')
      .values(rows.slice(i, i + CHUNK))
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
}

export class KyselyLabelStore implements LabelStore {
  constructor(private readonly db: LabelKysely) {}

  async putLabels(labels: readonly NewLabel[], source: string): Promise<{ written: number }> {
    // Checked before the transaction: a refused batch takes no write lock.
    const rows = labelRows(labels, source, Date.now());
    if (rows.length > 0) await this.db.transaction().execute((trx) => upsertLabels(trx, rows));
    return { written: rows.length };
  }

  async putLabelBatches(batches: AsyncIterable<readonly NewLabel[]>, source: string): Promise<{ written: number }> {
    // One time for the whole load, as for one batch.
    const now = Date.now();
    let written = 0;
    await this.db.transaction().execute(async (trx) => {
      for await (const batch of batches) {
        const rows = labelRows(batch, source, now);
        await upsertLabels(trx, rows);
        written += rows.length;
      }
    });
    return { written };
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
