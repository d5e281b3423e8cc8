/**
 * TensorFlow Serving's REST API: `POST /v1/models/{m}[/versions/{v}|/labels/{l}]:predict`
 * with `instances` (row format: one object of raw features per row) or `inputs`
 * (columnar: `{feature: [values]}`, or rows), answering `predictions` or `outputs`
 * the way TF Serving does (one named output: its values; several: keyed by name);
 * `GET /v1/models/{m}[/versions/{v}|/labels/{l}]` for version status and `.../metadata`
 * for the signature. A label is an alias the server loaded (`flights@champion` → `champion`).
 *
 * Usage: `await app.register(tfServingRoutes, { ctx })`
 */
import { performance } from 'node:perf_hooks';
import type { FastifyPluginAsync } from 'fastify';
import { LoomError } from '../../core/errors.js';
import type { TensorSpec } from '../../registry/types.js';
import { fromColumns, fromRecords } from '../features.js';
import { logFailure, perRowValues, routeRequest, runRouted, toRecords, type InferenceContext } from '../inference.js';
import type { LoadedModel } from '../model-loader.js';
import { tfServingPredictRequest } from './protocol-schemas.js';
import { decodeSegment, requestIdOf, requireObject, versionParam } from './request-parts.js';

export interface TfServingRoutesOptions {
  ctx: InferenceContext;
}

/** A parsed `/v1/models/...` path. */
interface ModelPath {
  name: string;
  version?: number;
  label?: string;
  verb?: string;
  metadata: boolean;
}

const TF_DTYPE: Record<TensorSpec['type'], string> = { float32: 'DT_FLOAT', float64: 'DT_DOUBLE', int64: 'DT_INT64', int32: 'DT_INT32', string: 'DT_STRING', bool: 'DT_BOOL' };

function parsePath(rest: string): ModelPath {
  const colon = rest.lastIndexOf(':');
  const verb = colon >= 0 ? rest.slice(colon + 1) : undefined;
  const parts = (colon >= 0 ? rest.slice(0, colon) : rest).split('/').map(decodeSegment);
  const bad = () => new LoomError('NOT_FOUND', `no TF Serving route /v1/models/${rest}`, { fix: 'use /v1/models/{model}[/versions/{v}|/labels/{l}][:predict|/metadata]' });
  const name = parts[0];
  if (!name) throw bad();
  const path: ModelPath = { name, verb, metadata: false };
  let i = 1;
  if (parts[i] === 'versions' && parts[i + 1] !== undefined) {
    path.version = versionParam(parts[i + 1]);
    i += 2;
  } else if (parts[i] === 'labels' && parts[i + 1]) {
    path.label = parts[i + 1];
    i += 2;
  }
  if (parts[i] === 'metadata' && verb === undefined) {
    path.metadata = true;
    i++;
  }
  if (i !== parts.length) throw bad();
  return path;
}

export const tfServingRoutes: FastifyPluginAsync<TfServingRoutesOptions> = async (app, options) => {
  const { ctx } = options;
  const pool = ctx.pool;
  const modelAt = (path: ModelPath): LoadedModel =>
    (path.label !== undefined ? pool.routeLabel(path.name, path.label) : pool.route(path.name, path.version)).model;

  const tags = ['tf-serving'];
  const forms = 'The path is `{model}[/versions/{v}|/labels/{alias}]`';
  app.get<{ Params: { '*': string } }>('/v1/models/*', { schema: { summary: 'Model version status, or `.../metadata` for the signature', description: `${forms}, then optionally \`/metadata\`.`, tags } }, async (request) => {
    const path = parsePath(request.params['*']);
    const model = modelAt(path);
    if (path.metadata) return metadata(model);
    const versions = path.version !== undefined || path.label !== undefined ? [model.version.version] : pool.versions(path.name);
    const status = versions.map((version) => ({ version: String(version), state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }));
    // A version an alias moved to that could not load is reported the way TF Serving reports a failed load.
    if (path.version === undefined) {
      for (const slot of pool.status(path.name)) {
        if (slot.lastSwapError) status.push({ version: String(slot.lastSwapError.version), state: 'END', status: { error_code: 'FAILED_PRECONDITION', error_message: slot.lastSwapError.message } });
      }
    }
    return { model_version_status: status };
  });

  app.post<{ Params: { '*': string } }>('/v1/models/*', { schema: { summary: 'Predict (`{model}...:predict`)', description: `${forms}:predict.`, tags, documented: { body: tfServingPredictRequest } } }, async (request, reply) => {
    const path = parsePath(request.params['*']);
    if (path.verb !== 'predict') {
      throw new LoomError('NOT_FOUND', `TF Serving verb ":${path.verb ?? ''}" is not served; use :predict`, { fix: `POST /v1/models/${path.name}:predict` });
    }
    const started = performance.now();
    const requestId = requestIdOf(request, reply);
    // Routed before the body is read, so an unknown model is a 404 whatever the body says.
    const route = routeRequest(ctx, request.principal, path.name, path.version, path.label, requestId);
    try {
      const { instances, inputs } = requireObject(request.body);
      if ((instances === undefined) === (inputs === undefined)) {
        throw new LoomError('INVALID_ARGUMENT', 'body: send either "instances" (row format) or "inputs" (columnar format), not both or neither', { field: 'body' });
      }
      const compiled = route.model.compiled;
      const parsed =
        instances !== undefined ? fromRecords(instances, compiled, 'instances') : Array.isArray(inputs) ? fromRecords(inputs, compiled, 'inputs') : fromColumns(inputs, compiled, 'inputs');
      const answer = await runRouted(ctx, route, parsed, 'tfserving', requestId, started);
      const { outputs, rows } = answer;
      if (instances !== undefined) {
        return { predictions: outputs.length === 1 ? perRowValues(outputs[0]!, rows.rowCount) : toRecords(outputs, rows.rowCount) };
      }
      if (outputs.length === 1) return { outputs: perRowValues(outputs[0]!, rows.rowCount) };
      return { outputs: Object.fromEntries(outputs.map((output) => [output.name, perRowValues(output, rows.rowCount)])) };
    } catch (error) {
      throw logFailure(ctx, route, requestId, 'tfserving', started, error);
    }
  });
};

/** TF Serving's GetModelMetadata answer: the signature as a `serving_default` signature_def. */
function metadata(model: LoadedModel) {
  const tensor = (spec: TensorSpec) => [spec.name, { dtype: TF_DTYPE[spec.type], tensor_shape: { dim: spec.shape.map((size) => ({ size: String(size), name: '' })), unknown_rank: false }, name: spec.name }];
  return {
    model_spec: { name: model.name, signature_name: '', version: String(model.version.version) },
    metadata: {
      signature_def: {
        signature_def: {
          serving_default: {
            inputs: Object.fromEntries(model.signature.inputs.map(tensor)),
            outputs: Object.fromEntries(model.signature.outputs.map(tensor)),
            method_name: 'tensorflow/serving/predict',
          },
        },
      },
    },
  };
}
