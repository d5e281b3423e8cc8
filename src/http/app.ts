/**
 * One way to make a Loom HTTP app: Fastify with the server's limits (body sizes, JSON
 * depth, timeouts) and the shared plugins: the one error handler (route plugins pick their
 * protocol's shape with `useErrorFormat`), JSON bodies with bounded nesting, CORS (off
 * unless origins are given), the request principal, and per-principal rate limits (when
 * given), and load shedding (when given: 503 with Retry-After while overloaded). A malformed URL is answered 400 in the same shape. Every response carries the
 * request's id in `x-request-id` (request-log.ts); with `log`, the app logs pino JSON lines
 * tagged with it, else nothing (tests). Building never listens (`listenOn` does), so tests can `inject`.
 *
 * Usage:
 *   const app = await createHttpApp({ limits, errorFormat: 'mlflow', anonymousName: 'mlflow-api' });
 *   await app.register(async (scope) => { useErrorFormat(scope, 'mlflow-scoring'); scope.post('/invocations', ...) });
 */
import Fastify, { LogController, type FastifyError, type FastifyInstance } from 'fastify';
import type { LoadShedding, RateLimit } from '../auth/settings.js';
import { corsPlugin } from './cors.js';
import { errorHandlerPlugin, replyWithError, type ErrorHandlerOptions } from './error-handler.js';
import { jsonBodyPlugin } from './json-body.js';
import { loadSheddingPlugin } from './load-shedding.js';
import { serverOptionsOf, type HttpLimits } from './limits.js';
import { openApiPlugin, type OpenApiOptions } from './openapi.js';
import { principalPlugin, type PrincipalOptions } from './principal.js';
import { REQUEST_ID_HEADER, requestIdGenerator, type Logger } from './request-log.js';
import { rateLimitPlugin } from './rate-limit.js';
import { zodValidatorCompiler } from './validation.js';

export interface HttpAppOptions extends ErrorHandlerOptions {
  limits: HttpLimits;
  /** The principal of a request that names none, on an open server. */
  anonymousName: string;
  /** Authentication (from `createRequestSecurity`); without it the app runs open. */
  security?: PrincipalOptions['security'];
  /** Where the app logs (`createLogger`); none: silent. */
  log?: {
    logger: Logger;
    /** A line per request received and answered; off where it would cost more than the work (serving). */
    requests: boolean;
  };
  /** Browser origins allowed to call the app (CORS); none: CORS off. */
  corsOrigins?: readonly string[];
  /** Requests per principal and window; none: unlimited. */
  rateLimit?: RateLimit;
  /** The title and description of the app's `/openapi.json`; default "Loom". */
  openApi?: OpenApiOptions;
  /** Refuse new requests (503, Retry-After) while the server is overloaded; none: never. */
  loadShedding?: LoadShedding;
}

export async function createHttpApp(options: HttpAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.log ? { loggerInstance: options.log.logger } : { logger: false }),
    logController: new LogController({ disableRequestLogging: !options.log?.requests, requestIdLogLabel: 'requestId' }),
    genReqId: requestIdGenerator(),
    // Answered 503 while draining, so a load balancer moves on.
    return503OnClosing: true,
    ...serverOptionsOf(options.limits),
    // Before routing: a malformed URL (bad percent-encoding) or an overlong path parameter.
    frameworkErrors: (error: FastifyError, request, reply) => replyWithError(request, reply.header(REQUEST_ID_HEADER, request.id), error, options.errorFormat).reply,
  });
  // First of all hooks, so the answer of any later failure (a 401, a 404, a 413) carries it too.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    done();
  });
  // A client that breaks HTTP itself (a bad request line, headers too large, a timeout) gets
  // Fastify's plain 400/431/408 and is disconnected: there is no route to shape it for.
  await app.register(errorHandlerPlugin, { errorFormat: options.errorFormat, onError: options.onError });
  // Before body parsing and the principal: a refusal must cost next to nothing.
  if (options.loadShedding) await app.register(loadSheddingPlugin, options.loadShedding);
  await app.register(jsonBodyPlugin, { maxDepth: options.limits.jsonDepth });
  // CORS before the principal: a preflight carries no credentials and is answered first.
  await app.register(corsPlugin, { origins: options.corsOrigins ?? [] });
  await app.register(principalPlugin, { anonymousName: options.anonymousName, security: options.security });
  // After the principal, whose hook runs first, so the limit is counted per authenticated principal.
  if (options.rateLimit) await app.register(rateLimitPlugin, options.rateLimit);
  // Routes declare their zod schemas in Fastify's `schema` option: checked by the one zod
  // adapter, typed through the type provider, and listed in /openapi.json (openapi.ts), which
  // must see every route, so it comes before them.
  app.setValidatorCompiler(zodValidatorCompiler());
  await app.register(openApiPlugin, options.openApi ?? { title: 'Loom' });
  return app;
}
