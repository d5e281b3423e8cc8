/**
 * The label store: true outcomes that arrive after the prediction (`POST /v1/feedback`,
 * `loom monitor labels load`), keyed by the request id serving returned. One interface,
 * one Kysely implementation on both backends (`kysely-label-store.ts`), one contract suite
 * (`label-store.contract.ts`). Serving and the loader may run in many processes: they all
 * write through the database, and every write is a batch.
 *
 * Usage: `await platform.labels.putLabels([{ requestId, modelName: 'flights', label: 1 }], 'feedback')`
 */
import { z } from 'zod';

/** A label as senders give it: booleans are 0/1. */
export const labelValueSchema = z.union([z.number(), z.boolean()]).transform((v) => (typeof v === 'boolean' ? Number(v) : v));

/** One label to store. */
export const newLabelSchema = z.object({
  requestId: z.string().min(1).max(200),
  modelName: z.string().min(1).max(200),
  label: labelValueSchema,
  /** When the outcome was observed (epoch ms); default: when it was received. */
  observedAt: z.number().int().nonnegative().optional(),
});
export type NewLabel = z.input<typeof newLabelSchema>;

/** A stored label. */
export interface StoredLabel {
  requestId: string;
  modelName: string;
  label: number;
  observedAt: number;
  receivedAt: number;
  source: string;
}

/** A label's request id and value (`LabelStore.labelValues`). */
export type LabelValue = Pick<StoredLabel, 'requestId' | 'label'>;

/** Labels with a time range, for a model; times are epoch ms, the range [from, to). */
export interface LabelQuery {
  model: string;
  from?: number;
  to?: number;
}

export interface LabelStore {
  /**
   * Writes a batch in one transaction. A request id labelled again takes the newer label
   * (a corrected outcome replaces the old one). Answers how many rows were written.
   */
  putLabels(labels: readonly NewLabel[], source: string): Promise<{ written: number }>;
  /**
   * Writes batches as they come, all in one transaction: every batch, or (a batch refused, the
   * iterable throwing) none of them; what a load too large to hold in memory writes through.
   * Each batch is checked as `putLabels` checks one (a refusal's field is relative to its batch,
   * `[3].label`); a request id given again, in a later batch or the same one, takes the later label.
   * Answers the rows written, a request id counted once per batch it is in.
   */
  putLabelBatches(batches: AsyncIterable<readonly NewLabel[]>, source: string): Promise<{ written: number }>;
  /** The labels of these request ids that exist (any model). */
  getLabels(requestIds: readonly string[]): Promise<Map<string, StoredLabel>>;
  /** How many labels `model` has (all time): tells a reader whether to read them whole or look ids up. */
  countLabels(model: string): Promise<number>;
  /** A model's labels observed in the range, oldest first. */
  listLabels(query: LabelQuery): Promise<StoredLabel[]>;
  /**
   * A model's labels as request id and value only, in no set order: what a bulk join by
   * request id needs (online quality's), without the sort and the fields of `listLabels`.
   */
  labelValues(model: string): Promise<LabelValue[]>;
}
