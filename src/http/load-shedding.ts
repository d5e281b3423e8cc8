/**
 * Load shedding: when a server has more work than it can answer in time, it refuses new
 * requests at once (503 UNAVAILABLE in the route's protocol shape, with `Retry-After`)
 * instead of letting every client wait. Two signals, checked before authentication and
 * routing so that a refusal costs next to nothing:
 *
 * - requests in progress: more than `maxInFlight` at once (a request counts from its
 *   headers until its response is finished or its connection closed);
 * - the event loop's mean delay over the last second above `maxEventLoopDelayMs`
 *   (`@fastify/under-pressure`): handlers that block the loop, which the count cannot see.
 *
 * Probes (health, readiness, metrics) are never refused nor counted; readiness asks
 * `app.loadShedding.pressure()` and answers 503 while it names a reason, so a load
 * balancer sends the work elsewhere while liveness stays up (no restart of a busy server).
 *
 * Usage: `await app.register(loadSheddingPlugin, { maxInFlight: 256, maxEventLoopDelayMs: 1000, retryAfterSeconds: 2 })`
 */
import underPressure from '@fastify/under-pressure';
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { LoadShedding, LoadSheddingSetting } from '../auth/settings.js';
import { LoomError } from '../core/errors.js';
import { isPublicPath } from './principal.js';

/** The defaults: enough in flight for any real team, refused long before a client's 10 s timeout. */
export const LOAD_SHEDDING_DEFAULTS: LoadShedding = { maxInFlight: 256, maxEventLoopDelayMs: 1000, retryAfterSeconds: 2 };

/** The settings a server runs with: undefined (off) for `false`, else the defaults under what the config gives. */
export function resolveLoadShedding(setting: LoadSheddingSetting | undefined): LoadShedding | undefined {
  if (setting === false) return undefined;
  return { ...LOAD_SHEDDING_DEFAULTS, ...Object.fromEntries(Object.entries(setting ?? {}).filter(([, value]) => value !== undefined)) };
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Load shedding's state, for readiness probes; absent when the server sheds no load. */
    loadShedding?: {
      /** Why new requests are being refused right now, or undefined when they are not. */
      pressure(): string | undefined;
      /** `Retry-After` of a refusal, in seconds. */
      retryAfterSeconds: number;
    };
  }
}

export const loadSheddingPlugin = fp<LoadShedding>(
  async (app, options) => {
    let inFlight = 0;
    const busy = () => (inFlight >= options.maxInFlight ? `${inFlight} requests in progress (at most ${options.maxInFlight})` : undefined);
    const refuse = (reply: FastifyReply, reason: string) => {
      reply.header('retry-after', String(options.retryAfterSeconds));
      return new LoomError('UNAVAILABLE', `the server is overloaded (${reason}) and refused this request before doing any of it`, {
        fix: `retry after ${options.retryAfterSeconds} s (the Retry-After header); if this persists, add capacity (more workers or servers) or raise http.loadShedding in loom.config.json`,
        retryable: true,
      });
    };
    let loopDelayed: () => string | undefined = () => undefined;
    if (options.maxEventLoopDelayMs > 0) {
      await app.register(underPressure, {
        maxEventLoopDelay: options.maxEventLoopDelayMs,
        // Probes pass (resolving lets the request through); others are refused in the route's shape.
        // An Infinity delay is under-pressure's "no sample since the last reading" (a fresh
        // worker whose start-up outran the histogram's timer): no measure, so no refusal. A loop
        // that was truly blocked leaves a sample as long as the block, which is finite.
        pressureHandler: (request: FastifyRequest, reply: FastifyReply, type: string, value: number | undefined) =>
          isPublicPath(request.url) || (type === underPressure.TYPE_EVENT_LOOP_DELAY && !Number.isFinite(value))
            ? Promise.resolve()
            : Promise.reject(refuse(reply, `event loop delayed ${Math.round(value ?? 0)} ms`)),
      });
      loopDelayed = () => {
        const delay = app.memoryUsage().eventLoopDelay;
        return Number.isFinite(delay) && delay > options.maxEventLoopDelayMs ? `event loop delayed ${Math.round(delay)} ms` : undefined;
      };
    }
    app.decorate('loadShedding', { pressure: () => busy() ?? loopDelayed(), retryAfterSeconds: options.retryAfterSeconds });
    app.addHook('onRequest', (request, reply, done) => {
      if (isPublicPath(request.url)) return done();
      const reason = busy();
      if (reason) return done(refuse(reply, reason));
      inFlight += 1;
      // Released once, by whichever comes first: the response's 'close' (sent, or its client went
      // away), or the connection's (a pipelined request queued behind one that ended the
      // connection never gets a response, so its 'close' never comes and it would count forever).
      const socket = request.raw.socket;
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        inFlight -= 1;
        reply.raw.off('close', release);
        socket?.off('close', release);
      };
      reply.raw.once('close', release);
      socket?.once('close', release);
      done();
    });
  },
  { name: 'loom-load-shedding', fastify: '5.x' },
);
