/**
 * MLflow's scoring server (`mlflow models serve`): `POST /invocations` with a JSON body
 * of `dataframe_split`, `dataframe_records`, `instances` or `inputs` (records or
 * columns), or a `text/csv` body with a header row; answers `{"predictions": [...]}`
 * (one value per row for a single-output model, else one object per row). `GET /ping`
 * and `/health` for liveness, `/version`. The model is the server's default, or the one
 * named by the `x-loom-model` header or `?model=` (with optional `?version=`). Errors use
 * MLflow's shape, `{"error_code": "BAD_REQUEST", "message": ...}`.
 *
 * Usage: `await app.register(mlflowRoutes, { ctx, defaultModel: 'flights' })`
 */
import { performance } from 'node:perf_hooks';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { LoomError } from '../../core/errors.js';
import { useErrorFormat } from '../../http/error-handler.js';
import { Problems, coerceText, fromColumns, fromRecords, fromSplit, type CompiledSignature, type FeatureRows } from '../features.js';
import { logFailure, perRowValues, routeRequest, runRouted, toRecords, type InferenceContext } from '../inference.js';
import { invocationsQuery, invocationsRequest } from './protocol-schemas.js';
import { requestIdOf, versionParam } from './request-parts.js';

export interface MlflowRoutesOptions {
  ctx: InferenceContext;
  /** The model `/invocations` answers for when the request names none; default: the only one served. */
  defaultModel?: string;
}

const JSON_FORMATS = ['dataframe_split', 'dataframe_records', 'instances', 'inputs'] as const;

/** The model `/invocations` is asked for: the `x-loom-model` header, else `?model=`. */
export function invocationsModel(request: FastifyRequest): string | undefined {
  const header = request.headers['x-loom-model'];
  if (typeof header === 'string' && header) return header;
  const query = (request.query as { model?: unknown } | undefined)?.model;
  return typeof query === 'string' && query ? query : undefined;
}

export const mlflowRoutes: FastifyPluginAsync<MlflowRoutesOptions> = async (app, options) => {
  const { ctx } = options;
  useErrorFormat(app, 'mlflow-scoring');
  app.addContentTypeParser(['text/csv', 'application/csv'], { parseAs: 'string' }, (_request, body, done) => done(null, { csv: body as string }));

  const tags = ['mlflow-scoring'];
  app.get('/ping', { schema: { summary: 'Liveness (no credentials needed)', tags } }, async () => '\n');
  app.get('/health', { schema: { summary: 'Liveness (no credentials needed)', tags } }, async () => '\n');
  app.get('/version', { schema: { summary: "The server's version", tags, documented: { responseType: 'text/plain' } } }, async () => '0.1.0 (loom)');

  const invocations = { body: invocationsRequest, querystring: invocationsQuery, bodyTypes: ['text/csv'] };
  app.post('/invocations', { schema: { summary: "Predict in MLflow's scoring-server forms", description: 'The model is the server\'s default, the `x-loom-model` header or `?model=`.', tags, documented: invocations } }, async (request, reply) => {
    const started = performance.now();
    const names = ctx.pool.names();
    const name = invocationsModel(request) ?? options.defaultModel ?? (names.length === 1 ? names[0] : undefined);
    if (!name) {
      throw new LoomError('INVALID_ARGUMENT', `this server serves several models (${names.join(', ')}); name one with the x-loom-model header or ?model=`, { field: 'model' });
    }
    const version = versionParam((request.query as { version?: string } | undefined)?.version);
    const requestId = requestIdOf(request, reply);
    // Routed before the body is read, so an unknown model is a 404 whatever the body says.
    const route = routeRequest(ctx, request.principal, name, version, undefined, requestId);
    try {
      const answer = await runRouted(ctx, route, parseBody(request.body, route.model.compiled), 'mlflow', requestId, started);
      const { outputs, rows } = answer;
      return { predictions: outputs.length === 1 ? perRowValues(outputs[0]!, rows.rowCount) : toRecords(outputs, rows.rowCount) };
    } catch (error) {
      throw logFailure(ctx, route, requestId, 'mlflow', started, error);
    }
  });
};

/** The features of a body in any of MLflow's formats, read against the routed version's signature. */
function parseBody(body: unknown, compiled: CompiledSignature): FeatureRows {
  if (body !== null && typeof body === 'object' && 'csv' in body && typeof (body as { csv: unknown }).csv === 'string') {
    const table = parseCsv((body as { csv: string }).csv);
    const columns = table.header;
    const data = table.rows.map((row) => row.map((cell, i) => {
      const index = compiled.index.get(columns[i] ?? '');
      return index === undefined ? cell : coerceText(cell, compiled.inputs[index]!);
    }));
    return fromSplit({ columns, data }, compiled, 'csv');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new LoomError('INVALID_ARGUMENT', `body must be a JSON object with one of ${JSON_FORMATS.join(', ')}, or text/csv`, { field: 'body' });
  }
  let format: (typeof JSON_FORMATS)[number] | undefined;
  let count = 0;
  for (const key of JSON_FORMATS) {
    if (key in body) {
      format = key;
      count++;
    }
  }
  if (count !== 1) {
    const given = JSON_FORMATS.filter((key) => key in body);
    throw new LoomError('INVALID_ARGUMENT', `body must have exactly one of ${JSON_FORMATS.join(', ')}${given.length > 1 ? ` (it has ${given.join(', ')})` : ''}`, { field: 'body' });
  }
  const value = (body as Record<string, unknown>)[format!];
  switch (format!) {
    case 'dataframe_split':
      return fromSplit(value, compiled, 'dataframe_split');
    case 'dataframe_records':
    case 'instances':
      return fromRecords(value, compiled, format!);
    case 'inputs':
      return Array.isArray(value) ? fromRecords(value, compiled, 'inputs') : fromColumns(value, compiled, 'inputs');
  }
}

/** RFC 4180 CSV: a header row, quoted fields with "" escapes, CRLF or LF line ends. */
export function parseCsv(text: string): { header: string[]; rows: string[][] } {
  const records: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell === '') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      cell = '';
      if (row.length > 1 || row[0] !== '') records.push(row);
      row = [];
    } else cell += c;
  }
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    records.push(row);
  }
  const problems = new Problems();
  if (quoted) problems.add('csv', 'csv ends inside a quoted field');
  if (records.length === 0) problems.add('csv', 'csv is empty; send a header row of feature names, then rows');
  problems.throwIfAny();
  return { header: records[0]!, rows: records.slice(1) };
}
