/**
 * Structured logs and request ids for Loom's HTTP servers. Logs are pino JSON lines
 * (Fastify's own logger) on stdout, every line of a request carrying its `requestId`; the id is
 * the client's `x-request-id` when it is a safe one (at most 128 characters of letters,
 * digits and `._:@+=/-`), else generated, and every response echoes it in `x-request-id`.
 * Serving records the same id as the prediction log's `request_id`, and the platform API
 * records it in the audit entry's origin, so a line, a prediction and a change can be joined.
 *
 * Secrets never reach a line: Authorization, Cookie and token headers are redacted, and every
 * message, error and URL is scrubbed of bearer tokens, Loom tokens, JWTs, `token=`/`password=`
 * query values and URL passwords (`postgres://user:***@host`).
 *
 * Usage:
 *   const logger = createLogger({ level: config.logLevel });
 *   const app = await createHttpApp({ ..., log: { logger, requests: true } });
 */
import { randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { pino, stdSerializers, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../core/log-level.js';

export type { Logger };
export { LOG_LEVELS, logLevelSchema, type LogLevel } from '../core/log-level.js';

/** The header a request id comes in and goes back out in. */
export const REQUEST_ID_HEADER = 'x-request-id';


// Safe in a header, a log line and a file name; long enough for UUIDs, trace ids and ULIDs.
const REQUEST_ID = /^[A-Za-z0-9._:@+=/-]{1,128}$/;

/** Whether a client-sent id can be used as given. */
export function isValidRequestId(value: unknown): value is string {
  return typeof value === 'string' && REQUEST_ID.test(value);
}

/**
 * Fastify's `genReqId`: the client's `x-request-id` when valid, else a new id unique across
 * processes and restarts (a random per-process prefix and a counter: cheaper than a UUID per request).
 */
export function requestIdGenerator(): (request: { headers: Record<string, string | string[] | undefined> }) => string {
  const prefix = `${randomBytes(6).toString('base64url')}-`;
  let sequence = 0;
  return (request) => {
    const header = request.headers[REQUEST_ID_HEADER];
    return isValidRequestId(header) ? header : prefix + (sequence++).toString(36);
  };
}

/** Where a change came from, for the audit trail: the client address and the request id. */
export function originOf(request: Pick<FastifyRequest, 'ip' | 'id'>): string {
  return `${request.ip} request ${request.id}`;
}

const SECRET_PATTERNS: [RegExp, string][] = [
  // A password in a URL's user info: postgres://loom:secret@db → postgres://loom:[redacted]@db.
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:@/]*:)[^\s@/]+@/gi, '$1[redacted]@'],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 [redacted]'],
  [/\bloom_pat_[A-Za-z0-9_-]+/g, 'loom_pat_[redacted]'],
  [/\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, '[redacted jwt]'],
  [/([?&;](?:[a-z_]*token|password|passwd|secret|api_?key|sig|signature)=)[^&;\s#"]*/gi, '$1[redacted]'],
];

/** `text` with every secret this module knows the shape of replaced by `[redacted]`. */
export function scrubSecrets(text: string): string {
  let scrubbed = text;
  for (const [pattern, replacement] of SECRET_PATTERNS) scrubbed = scrubbed.replace(pattern, replacement);
  return scrubbed;
}

/** Header values never written, whatever logs a request's headers. */
const REDACTED_PATHS = ['authorization', 'cookie', 'x-loom-token', 'proxy-authorization', 'x-api-key'].flatMap((name) => [`req.headers["${name}"]`, `headers["${name}"]`]);

export interface LoggerOptions {
  level: LogLevel;
  /** Default stdout. */
  destination?: DestinationStream;
  /** Fields on every line, such as `{ server: 'model' }`. */
  base?: Record<string, unknown>;
}

/** A pino logger with Loom's redaction and serializers, for `createHttpApp` and the servers' own messages. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { pid: process.pid, ...options.base },
      redact: { paths: [...REDACTED_PATHS, 'res.headers["set-cookie"]'], censor: '[redacted]' },
      serializers: {
        // What a request line says: never its headers or body.
        req: (request: { method?: string; url?: string; ip?: string; socket?: { remoteAddress?: string } }) => ({
          method: request.method,
          url: scrubSecrets(request.url ?? ''),
          remoteAddress: request.ip ?? request.socket?.remoteAddress,
        }),
        res: (reply: { statusCode?: number }) => ({ statusCode: reply.statusCode }),
        err: (error: Error) => {
          const serialized = stdSerializers.err(error) as unknown as Record<string, unknown>;
          for (const key of ['message', 'stack'] as const) if (typeof serialized[key] === 'string') serialized[key] = scrubSecrets(serialized[key]);
          return serialized;
        },
      },
      hooks: {
        // Messages are scrubbed here, once, whatever called the logger.
        logMethod(args, method) {
          for (let i = 0; i < args.length; i++) if (typeof args[i] === 'string') args[i] = scrubSecrets(args[i] as string);
          return method.apply(this, args as Parameters<typeof method>);
        },
      },
    },
    options.destination,
  );
}
