/**
 * What one request may cost a Loom server: body sizes, JSON nesting and how long a client
 * may take. Every server takes a `Partial<HttpLimits>` over its defaults, so a deployment
 * can tighten or loosen them without code.
 *
 * Usage: `createHttpApp({ limits: { uploadBytes: 64 * MIB }, ... })`
 */
import type { Server } from 'node:http';
import type { FastifyHttpOptions } from 'fastify';
import { z } from 'zod';
import { parseInput } from '../core/validation.js';

export const MIB = 1024 * 1024;

export interface HttpLimits {
  /** Largest parsed body (JSON, CSV), in bytes; larger gets 413. */
  bodyBytes: number;
  /** Largest streamed upload (a run artifact's file), in bytes; larger gets 413. */
  uploadBytes: number;
  /** Deepest nesting of arrays and objects in a JSON body; deeper gets 400 before any parsing. */
  jsonDepth: number;
  /** Headers and body must have arrived within this, in ms (a client trickling a body is cut off with 408). */
  requestTimeoutMs: number;
  /** The headers must have arrived within this, in ms. */
  headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this, in ms. */
  keepAliveTimeoutMs: number;
  /** A connection with no traffic at all is closed after this, in ms. */
  idleTimeoutMs: number;
}

const limitsSchema = z
  .object({
    bodyBytes: z.number().int().min(1024),
    uploadBytes: z.number().int().min(1),
    jsonDepth: z.number().int().min(1).max(10_000),
    requestTimeoutMs: z.number().int().min(1),
    headersTimeoutMs: z.number().int().min(1),
    keepAliveTimeoutMs: z.number().int().min(1),
    idleTimeoutMs: z.number().int().min(1),
  })
  .refine((limits) => limits.headersTimeoutMs <= limits.requestTimeoutMs, { message: 'headersTimeoutMs must not exceed requestTimeoutMs', path: ['headersTimeoutMs'] });

/**
 * Defaults for the model server: prediction bodies are small and fast, so a client gets
 * 30 s for a whole request. JSON deeper than 64 is no tensor or MLflow request Loom takes.
 */
export const MODEL_SERVER_LIMITS: HttpLimits = {
  bodyBytes: 10 * MIB,
  uploadBytes: 10 * MIB,
  jsonDepth: 64,
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 60_000,
};

/** Defaults for the platform API: log-batch bodies can be large and artifact uploads larger, so more time. */
export const PLATFORM_LIMITS: HttpLimits = {
  bodyBytes: 32 * MIB,
  uploadBytes: 256 * MIB,
  jsonDepth: 64,
  requestTimeoutMs: 300_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 60_000,
};

/** The defaults with the given overrides, checked (INVALID_ARGUMENT naming the limit). */
export function resolveLimits(defaults: HttpLimits, overrides: Partial<HttpLimits> = {}): HttpLimits {
  const merged = { ...defaults, ...Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined)) };
  return parseInput(limitsSchema, merged, { what: 'HTTP limits', fix: 'give sizes in bytes and times in ms, each a positive whole number' });
}

/** The Fastify (and Node HTTP server) options that enforce the limits. */
export function serverOptionsOf(limits: HttpLimits): FastifyHttpOptions<Server> {
  return {
    bodyLimit: limits.bodyBytes,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionTimeout: limits.idleTimeoutMs,
    http: {
      headersTimeout: limits.headersTimeoutMs,
      // Node checks the request and header timeouts on this interval (default 30 s, far coarser than the limits).
      connectionsCheckingInterval: Math.max(25, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
    },
  };
}
