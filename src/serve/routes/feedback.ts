/**
 * Labels that arrive after the prediction: `POST /v1/feedback` takes a batch of true
 * outcomes by the request id serving returned (the `x-request-id` header, the V2 `id`).
 *
 *   POST /v1/feedback
 *   {"model": "flights", "labels": [{"request_id": "…", "label": 1, "observed_at": 1733480000000}, …]}
 *   → {"accepted": 2, "unknown": 1, "unknown_ids": ["…"]}
 *
 * A label is a number or a boolean (true is 1); one of another type refuses the batch with
 * 400 naming the field (`labels[3].label`), and nothing of it is stored. A request id the
 * model's prediction log does not hold is counted and listed (the first 100), not an error:
 * its label is stored all the same, since the prediction may still be on its way to the
 * log (another worker's, or a file not yet finished), and the quality join matches it once
 * the prediction is there. Labels go to the label store, shared by every serving process.
 *
 * Usage: `startModelServer({ ..., plugins: [feedbackPlugin({ labels: platform.labels, log: { kind: 'parquet', dir } })] })`
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { zodValidatorCompiler, type ZodTypeProvider } from '../../http/validation.js';
import { z } from 'zod';
import { labelValueSchema, type LabelStore } from '../../monitor/label-store.js';
import { loggedRequestIds } from '../../monitor/logged-request-ids.js';
import type { PredictionLogLocation } from '../../monitor/prediction-log-reader.js';
import type { InferenceContext } from '../inference.js';

/** Most labels in one request: a larger batch is split by the sender. */
export const MAX_FEEDBACK_LABELS = 10_000;
/** Unknown ids listed in the answer (all are counted). */
const LISTED_UNKNOWN = 100;

export const feedbackBody = z.object({
  model: z.string().min(1).max(200),
  labels: z
    .array(
      z.object({
        request_id: z.string().min(1).max(200),
        label: labelValueSchema,
        /** Epoch milliseconds or an ISO-8601 time. */
        observed_at: z.union([z.number().int().nonnegative(), z.iso.datetime({ offset: true }).transform((s) => Date.parse(s))]).optional(),
      }),
    )
    .min(1)
    .max(MAX_FEEDBACK_LABELS),
});

export interface FeedbackRoutesOptions {
  labels: LabelStore;
  /** Which of these request ids the model's prediction log holds (after making what serving has answered readable). */
  loggedRequestIds(model: string, requestIds: readonly string[]): Promise<Set<string>>;
}

export const feedbackRoutes: FastifyPluginAsync<FeedbackRoutesOptions> = async (scope, options) => {
  const app = scope.withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(zodValidatorCompiler({ fix: 'send {"model": "<name>", "labels": [{"request_id": "<id from the prediction>", "label": 0 or 1 or a number}]}' }));
  app.post('/v1/feedback', { schema: { summary: 'Labels for served predictions, by request id', tags: ['monitoring'], body: feedbackBody } }, async (request) => {
    const body = request.body;
    const ids = body.labels.map((l) => l.request_id);
    const logged = await options.loggedRequestIds(body.model, ids);
    const { written } = await options.labels.putLabels(
      body.labels.map((l) => ({ requestId: l.request_id, modelName: body.model, label: l.label, observedAt: l.observed_at })),
      'feedback',
    );
    const unknown = [...new Set(ids.filter((id) => !logged.has(id)))];
    return { accepted: written, unknown: unknown.length, unknown_ids: unknown.slice(0, LISTED_UNKNOWN) };
  });
};

export interface FeedbackPluginOptions {
  labels: LabelStore;
  /** Where this server's prediction log is read. */
  log: PredictionLogLocation;
  /** Finishes the log's current Parquet file (the Parquet sink's `rotate`), so what serving answered is readable. */
  finishFile?: () => Promise<unknown>;
}

/**
 * The feedback route as a model-server plugin. Before looking ids up it hands the
 * server's queued log rows to the writer; when ids are still missing and the log is
 * Parquet, it finishes the current file once and looks again, so a label sent right after
 * its prediction is not reported unknown. (Another worker's unfinished file is not seen:
 * those ids are reported unknown, and their labels are stored all the same.)
 */
export function feedbackPlugin(options: FeedbackPluginOptions): (app: FastifyInstance, ctx: InferenceContext) => Promise<void> {
  return async (app, ctx) => {
    const lookup = async (model: string, ids: readonly string[]): Promise<Set<string>> => {
      await ctx.log?.flush();
      const found = await loggedRequestIds(options.log, model, ids);
      if (found.size === new Set(ids).size || !options.finishFile) return found;
      await options.finishFile();
      return loggedRequestIds(options.log, model, ids);
    };
    await app.register(feedbackRoutes, { labels: options.labels, loggedRequestIds: lookup });
  };
}
