/**
 * What the servers expose to whom, as the platform config carries it: authentication
 * (`auth:` in the config file) and browser access and request rates (`http:`); the config
 * module validates with these schemas. See docs/security.md.
 */
import { z } from 'zod';
import { jwtSettingsSchema } from './jwt.js';

export const authSettingsSchema = z
  .object({
    /** Every request needs a token or a JWT. Without it a server runs open, which only loopback may. */
    required: z.boolean().default(false),
    /** Run open on a non-loopback address anyway (warned about at start). */
    insecureOpen: z.boolean().default(false),
    /** An identity provider's JWTs are accepted too. */
    jwt: jwtSettingsSchema.optional(),
    /**
     * How long the model server trusts a token it verified before asking the database again
     * (default 30): a revoked token may pass for this long. 0: every request reads the database.
     */
    tokenCacheSeconds: z.number().int().min(0).max(3600).optional(),
  })
  .strict();
export type AuthSettings = z.output<typeof authSettingsSchema>;

/** At most `max` requests per `windowMs` per principal (per API token, JWT subject, or client address when anonymous). */
export const rateLimitSchema = z
  .object({
    max: z.number().int().min(1),
    windowMs: z.number().int().min(1).max(86_400_000).default(60_000),
  })
  .strict();
export type RateLimit = z.output<typeof rateLimitSchema>;

/** Refusing new requests (503, Retry-After) while a server is overloaded (src/http/load-shedding.ts). */
export const loadSheddingSchema = z
  .object({
    /** Requests in progress at once (per process: per worker under `loom serve --workers N`). */
    maxInFlight: z.number().int().min(1),
    /** Mean event-loop delay over the last second, in ms, above which new requests are refused; 0: not checked. */
    maxEventLoopDelayMs: z.number().int().min(0),
    /** What `Retry-After` tells a refused client, in seconds. */
    retryAfterSeconds: z.number().int().min(1).max(3600),
  })
  .strict();
export type LoadShedding = z.output<typeof loadSheddingSchema>;

/** `http.loadShedding.server|serve`: `false` (off), or overrides of some of the defaults. */
const loadSheddingSettingSchema = z.union([z.literal(false), loadSheddingSchema.partial()]);
export type LoadSheddingSetting = z.output<typeof loadSheddingSettingSchema>;

/** A browser origin: scheme, host and optional port, nothing more (`https://app.example.com`). */
const originSchema = z.string().regex(/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$|^https?:\/\/\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/, 'an origin such as https://app.example.com (no path, no trailing slash)');

export const httpSettingsSchema = z
  .object({
    /** Web pages from these origins may call the servers from a browser (CORS); none by default, so CORS is off. */
    corsOrigins: z.array(originSchema).default([]),
    /** Request rate limits per principal, for `loom server` and `loom serve`; none by default. */
    rateLimit: z.object({ server: rateLimitSchema.optional(), serve: rateLimitSchema.optional() }).strict().default({}),
    /** Load shedding of `loom server` and `loom serve` (each worker): on with its defaults unless `false`; see docs/security.md. */
    loadShedding: z.object({ server: loadSheddingSettingSchema.optional(), serve: loadSheddingSettingSchema.optional() }).strict().default({}),
  })
  .strict();
export type HttpSettings = z.output<typeof httpSettingsSchema>;
