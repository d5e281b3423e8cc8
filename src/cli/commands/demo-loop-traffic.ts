/**
 * Live traffic for `loom demo --loop`: real flights of one month of 2001 sent to a model
 * server one request per flight (each with its own request id, so a label can be joined
 * to it), and their true outcomes sent back later through `POST /v1/feedback`.
 *
 * Usage: `const batch = await replayMonth(server.url, source, { month: 3, rows: 2000, tag: 'b2' });`
 *        later `await sendLabels(server.url, 'flights', batch);`
 */
import { LoomError } from '../../core/errors.js';
import { queryRows, readSource, withDuckDB } from '../../data/duckdb.js';

/** One replayed request: the id the server logged it under and the flight's true outcome. */
export interface ReplayedRequest {
  requestId: string;
  delayed: boolean;
}

export interface ReplayedBatch {
  month: number;
  requests: ReplayedRequest[];
  /** When the first request was sent and after the last answer, ms since the epoch. */
  from: number;
  to: number;
  /** Requests the server answered with an error (none is expected). */
  failed: number;
}

/** Requests in flight at once: enough to keep the server busy, few enough for a small machine. */
const CONCURRENCY = 8;

/** `rows` flights of `month`, in a fixed pseudo-random order (the same on every run), sent as live requests. */
export async function replayMonth(serverUrl: string, source: string, options: { month: number; rows: number; tag: string; model?: string }): Promise<ReplayedBatch> {
  const flights = await withDuckDB((db) =>
    queryRows(
      db,
      `SELECT strftime(date, '%Y-%m-%dT%H:%M') AS date, distance::INTEGER AS distance, origin, destination, delay > 15 AS delayed
       FROM ${readSource(source)} WHERE month(date) = ${Math.trunc(options.month)} AND delay IS NOT NULL
       ORDER BY md5(concat_ws('|', date, distance, origin, destination, delay)) LIMIT ${Math.trunc(options.rows)}`,
    ),
  );
  if (flights.length === 0) throw new LoomError('NOT_FOUND', `the flights file has no rows for month ${options.month} of 2001`, { field: 'source', fix: 'use a file that covers the months the loop replays (flights-3m.parquet covers January to June 2001)' });
  const model = options.model ?? 'flights';
  const requests: ReplayedRequest[] = [];
  let failed = 0;
  let next = 0;
  const from = Date.now();
  const worker = async () => {
    while (next < flights.length) {
      const i = next++;
      const { delayed, ...features } = flights[i]!;
      const requestId = `${options.tag}-${i}`;
      const response = await fetch(`${serverUrl}/v2/models/${model}/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: requestId, instances: [{ ...features, distance: Number(features.distance) }] }),
      });
      const body = (await response.json()) as { id?: string };
      if (!response.ok || body.id !== requestId) failed++;
      else requests.push({ requestId, delayed: Boolean(delayed) });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { month: options.month, requests, from, to: Date.now() + 1, failed };
}

/** Labels per feedback request (the route takes at most 10,000). */
const LABELS_PER_POST = 5_000;

/** The batch's true outcomes, as a client that learns them later posts them; the ids the server did not know. */
export async function sendLabels(serverUrl: string, model: string, batch: ReplayedBatch): Promise<{ accepted: number; unknown: number }> {
  let accepted = 0;
  let unknown = 0;
  for (let i = 0; i < batch.requests.length; i += LABELS_PER_POST) {
    const labels = batch.requests.slice(i, i + LABELS_PER_POST).map((r) => ({ request_id: r.requestId, label: r.delayed ? 1 : 0 }));
    const response = await fetch(`${serverUrl}/v1/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, labels }) });
    const body = (await response.json()) as { accepted?: number; unknown?: number; error?: unknown };
    if (!response.ok) throw new LoomError('UNAVAILABLE', `the model server refused the labels (${response.status}): ${JSON.stringify(body.error ?? body)}`);
    accepted += body.accepted ?? 0;
    unknown += body.unknown ?? 0;
  }
  return { accepted, unknown };
}
