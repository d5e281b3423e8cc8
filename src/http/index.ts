/**
 * Loom's shared HTTP infrastructure, for `loom serve` and `loom server` alike: the app
 * factory with limits and one error handler (`createHttpApp`), per-protocol error shapes
 * (`useErrorFormat`), the one zod adapter for requests (`parseRequest`), the request
 * principal, CORS, rate limits and load shedding, `/metrics`, `/openapi.json` from the routes' schemas, structured logs with request ids, and listening on a port.
 */
export { createHttpApp, type HttpAppOptions } from './app.js';
export { corsPlugin, type CorsOptions } from './cors.js';
export { errorHandlerPlugin, replyWithError, useErrorFormat, type ErrorHandlerOptions } from './error-handler.js';
export { INTERNAL_MESSAGE, httpProblemOf, type HttpFieldProblem, type HttpProblem } from './errors.js';
export { ERROR_FORMATS, MLFLOW_ERROR_CODE, kserveErrorBody, mlflowErrorBody, mlflowScoringErrorBody, type ErrorFormat, type KserveErrorBody, type MlflowErrorBody } from './formats.js';
export { boundedJsonParser, jsonBodyPlugin, jsonDepthExceeds } from './json-body.js';
export { MIB, MODEL_SERVER_LIMITS, PLATFORM_LIMITS, resolveLimits, type HttpLimits } from './limits.js';
export { metricsPlugin, type MetricsOptions } from './metrics.js';
export { isPublicPath, openPrincipal, principalPlugin, type Principal, type PrincipalOptions } from './principal.js';
export { LOAD_SHEDDING_DEFAULTS, loadSheddingPlugin, resolveLoadShedding } from './load-shedding.js';
export { rateLimitKey, rateLimitPlugin } from './rate-limit.js';
export { LOG_LEVELS, REQUEST_ID_HEADER, createLogger, isValidRequestId, logLevelSchema, originOf, requestIdGenerator, scrubSecrets, type LogLevel, type Logger, type LoggerOptions } from './request-log.js';
export { OPENAPI_PATH, buildOpenApiDocument, jsonSchemaOf, openApiPath, openApiPlugin, type DocumentedParts, type DocumentedRoute, type OpenApiOptions } from './openapi.js';
export { parseRequest, zodValidatorCompiler, type ZodFastifyInstance, type ZodTypeProvider } from './validation.js';
