/**
 * Cross-origin browser access (CORS), off unless origins are configured: without them no
 * `Access-Control-Allow-*` header is ever sent, so a web page from another origin cannot
 * read any answer (and preflighted requests fail). With them, only those exact origins may,
 * sending `Authorization` (a bearer token is never sent by a browser on its own, so cookies
 * and credentials mode stay off). Registered before the principal plugin: a preflight
 * carries no token and is answered before authentication.
 *
 * Usage: `await app.register(corsPlugin, { origins: ['https://app.example.com'] })`
 */
import cors from '@fastify/cors';
import fp from 'fastify-plugin';

export interface CorsOptions {
  /** Exact origins allowed (`https://host[:port]`); empty: CORS off. */
  origins: readonly string[];
}

export const corsPlugin = fp<CorsOptions>(
  async (app, { origins }) => {
    if (origins.length === 0) return;
    await app.register(cors, {
      origin: [...origins],
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      // inference-header-content-length: the KServe V2 binary tensor extension, both ways.
      allowedHeaders: ['authorization', 'content-type', 'x-request-id', 'inference-header-content-length'],
      exposedHeaders: ['retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'x-model-version', 'inference-header-content-length'],
      credentials: false,
      maxAge: 600,
    });
  },
  { name: 'loom-cors', fastify: '5.x' },
);
