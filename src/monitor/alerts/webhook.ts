/**
 * Delivering an alert to a webhook: one JSON POST, retried with exponential back-off on a
 * network error, a timeout, a 429 or a 5xx, then given up and reported failed. It never
 * throws: a receiver that is down is a recorded outcome, not a crash of the monitor.
 *
 * Usage: `const outcome = await deliverWebhook(action, evidence);`
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { JsonObject } from '../../core/json.js';
import { durationMs, type AlertAction } from './rules.js';

export interface WebhookOutcome {
  delivered: boolean;
  attempts: number;
  /** The last HTTP status, or the last error's message. */
  detail: string;
}

/** The first retry's wait; each later one waits twice as long. */
export const WEBHOOK_FIRST_RETRY_MS = 1_000;

export async function deliverWebhook(
  action: Extract<AlertAction, { type: 'webhook' }>,
  evidence: JsonObject,
  options: { firstRetryMs?: number } = {},
): Promise<WebhookOutcome> {
  const body = JSON.stringify(evidence);
  let wait = options.firstRetryMs ?? WEBHOOK_FIRST_RETRY_MS;
  let detail = '';
  for (let attempt = 1; attempt <= action.retries + 1; attempt++) {
    try {
      const response = await fetch(action.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'loom-monitor' },
        body,
        signal: AbortSignal.timeout(durationMs(action.timeout)),
      });
      await response.body?.cancel();
      detail = `HTTP ${response.status}`;
      if (response.ok) return { delivered: true, attempts: attempt, detail };
      // A 4xx other than 429 will not change on a retry: the receiver refuses the payload.
      if (response.status < 500 && response.status !== 429) return { delivered: false, attempts: attempt, detail };
    } catch (error) {
      detail = (error as Error).name === 'TimeoutError' ? `timed out after ${action.timeout}` : (error as Error).message;
    }
    if (attempt <= action.retries) {
      await sleep(wait);
      wait *= 2;
    }
  }
  return { delivered: false, attempts: action.retries + 1, detail };
}
