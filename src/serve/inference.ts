/**
 * One inference, whatever the protocol: route the request to a version (primary or
 * canary), check its features against that version's signature, run it through the
 * version's micro-batcher, time it, log it, and hand a copy to the shadow if there is
 * one. Protocol routes only parse their envelope and format the answer.
 *
 * Usage: `const answer = await runInference(ctx, { principal: request.principal, name, protocol: 'v2', parse: (c) => fromRecords(body.instances, c, 'instances') });`
 */
import { performance } from 'node:perf_hooks';
import { authorize } from '../auth/authorize.js';
import type { Principal } from '../auth/types.js';
import { LoomError } from '../core/errors.js';
import { httpProblemOf } from '../http/errors.js';
import type { PredictionOutput } from './batcher.js';
import type { CompiledSignature, FeatureRows } from './features.js';
import type { ServingMetrics } from './metrics.js';
import type { LoadedModel } from './model-loader.js';
import type { ModelPool, Route } from './model-pool.js';
import type { PredictionLog, PredictionRole } from './prediction-log.js';

export interface InferenceContext {
  pool: ModelPool;
  metrics: ServingMetrics;
  log?: PredictionLog;
}

export interface InferenceRequest {
  /** Who asks: needs the `predict` permission on the model. */
  principal: Principal;
  name: string;
  version?: number;
  /** TF Serving's label (an alias the server loaded). */
  label?: string;
  /** The client's id (header or body); the canary split hashes it. */
  requestId?: string;
  protocol: string;
  /** Turns the request body into features for the chosen version; throws InvalidRequestError. */
  parse(compiled: CompiledSignature): FeatureRows;
}

export interface InferenceAnswer {
  model: LoadedModel;
  rows: FeatureRows;
  outputs: PredictionOutput[];
  requestId: string;
}

let sequence = 0;
const idPrefix = `${process.pid.toString(36)}-${Date.now().toString(36)}-`;

/**
 * Routes once (an unknown model or version is a 404 before the body is looked at), parses
 * the features against the routed version, runs them, and logs. Protocol routes use the
 * two steps below directly, which needs no per-request closure.
 */
export async function runInference(ctx: InferenceContext, request: InferenceRequest): Promise<InferenceAnswer> {
  const started = performance.now();
  const route = routeRequest(ctx, request.principal, request.name, request.version, request.label, request.requestId);
  return runRouted(ctx, route, request.parse(route.model.compiled), request.protocol, request.requestId, started);
}

/**
 * Step 1: the version that answers (canary split by `requestId`), or NOT_FOUND naming what
 * is served; PERMISSION_DENIED first when the principal may not predict with the model.
 * Every prediction passes here, whatever its protocol, so this is the one place it is checked.
 */
export function routeRequest(ctx: InferenceContext, principal: Principal, name: string, version: number | undefined, label: string | undefined, requestId: string | undefined): Route {
  authorize(principal, 'predict', { model: name });
  return label !== undefined ? ctx.pool.routeLabel(name, label) : ctx.pool.route(name, version, requestId);
}

/**
 * Step 2: runs `rows` (parsed against `route.model.compiled`) through the version's
 * micro-batcher, times it from `started`, logs it, and hands the shadow a copy. The
 * primary and the shadow are both counted in before the first await, so a swap in
 * between never closes either under the request.
 */
export async function runRouted(ctx: InferenceContext, route: Route, rows: FeatureRows, protocol: string, clientId: string | undefined, started: number): Promise<InferenceAnswer> {
  const model = route.model;
  const shadow = route.shadow !== undefined && route.shadow !== model && sameInputs(route.shadow.compiled, model.compiled) ? route.shadow : undefined;
  model.acquire();
  shadow?.acquire();
  let outputs: PredictionOutput[];
  try {
    outputs = await model.batcher.run(rows);
  } catch (error) {
    shadow?.release();
    throw error;
  } finally {
    model.release();
  }
  const latencyMs = performance.now() - started;
  (model.metrics ?? ctx.metrics.model(model.name, model.version.version)).observe(latencyMs / 1000);
  const requestId = clientId ?? `${idPrefix}${sequence++}`;
  if (ctx.log) {
    ctx.log.record({
      requestId,
      modelName: model.name,
      modelVersion: model.version.version,
      role: route.role,
      protocol,
      inputNames: model.compiled.names,
      rows,
      outputs,
      latencyMs,
      at: Date.now(),
    });
  }
  if (shadow) shadowCopy(ctx, shadow, rows, requestId, protocol);
  return { model, rows, outputs, requestId };
}

/** A failed request's one log row carries no features (one shared name list: the log's packer keys name lists by identity). */
const NO_FEATURES: FeatureRows = { rowCount: 1, columns: [] };
const NO_INPUTS: readonly string[] = [];

/**
 * Logs a request that failed after it was routed (a body its version cannot read, a run
 * that failed) as one row with its HTTP status and error code and no features or outputs,
 * so failures show per version and role beside the answers (monitoring's reader leaves
 * them out). Returns `error` for the caller to rethrow. Only failing requests come here:
 * the answered ones pay nothing for it.
 */
export function logFailure(ctx: InferenceContext, route: { model: LoadedModel; role: PredictionRole }, requestId: string | undefined, protocol: string, started: number, error: unknown): unknown {
  if (ctx.log) {
    const { status, code } = httpProblemOf(error);
    ctx.log.record({
      requestId: requestId ?? `${idPrefix}${sequence++}`,
      modelName: route.model.name,
      modelVersion: route.model.version.version,
      role: route.role,
      protocol,
      inputNames: NO_INPUTS,
      rows: NO_FEATURES,
      outputs: [],
      latencyMs: performance.now() - started,
      at: Date.now(),
      failure: { status, code },
    });
  }
  return error;
}

/** Whether a shadow can take the primary's feature columns as they are (same inputs, same order and types). */
function sameInputs(a: CompiledSignature, b: CompiledSignature): boolean {
  if (a === b) return true;
  return a.inputs.length === b.inputs.length && a.inputs.every((input, i) => input.name === b.inputs[i]!.name && input.type === b.inputs[i]!.type && input.perRow === b.inputs[i]!.perRow);
}

/**
 * Runs the shadow (already acquired by the caller) on the same rows after the answer has
 * gone, and logs its answer (it is never returned). A failing shadow never affects the request.
 */
function shadowCopy(ctx: InferenceContext, shadow: LoadedModel, rows: FeatureRows, requestId: string, protocol: string): void {
  const started = performance.now();
  shadow.batcher.run(rows).then(
    (outputs) => {
      shadow.release();
      ctx.log?.record({
        requestId,
        modelName: shadow.name,
        modelVersion: shadow.version.version,
        role: 'shadow',
        protocol,
        inputNames: shadow.compiled.names,
        rows,
        outputs,
        latencyMs: performance.now() - started,
        at: Date.now(),
      });
    },
    (error: unknown) => {
      shadow.release();
      ctx.metrics.error(shadow.name, 500);
      logFailure(ctx, { model: shadow, role: 'shadow' }, requestId, protocol, started, error);
    },
  );
}

/** The outputs a client asked for, in its order; INVALID_ARGUMENT naming each unknown one. */
export function pickOutputs<T extends { name: string }>(outputs: readonly T[], names: readonly string[] | undefined, field: string): readonly T[] {
  if (!names || names.length === 0) return outputs;
  return names.map((name, index) => {
    const output = outputs.find((candidate) => candidate.name === name);
    if (!output) {
      throw new LoomError('INVALID_ARGUMENT', `${field}[${index}] "${name}" is not an output of this model (outputs: ${outputs.map((o) => o.name).join(', ')})`, { field: `${field}[${index}].name` });
    }
    return output;
  });
}


/** The records form of an answer: one object per row, each output under its name (a number when one value per row). */
export function toRecords(outputs: readonly { name: string; data: readonly unknown[] }[], rowCount: number): Record<string, unknown>[] {
  const records: Record<string, unknown>[] = new Array(rowCount);
  for (let row = 0; row < rowCount; row++) records[row] = {};
  for (const output of outputs) {
    const perRow = rowCount > 0 ? output.data.length / rowCount : 0;
    for (let row = 0; row < rowCount; row++) {
      records[row]![output.name] = perRow === 1 ? output.data[row] : output.data.slice(row * perRow, (row + 1) * perRow);
    }
  }
  return records;
}

/** One output's values per row: a scalar each when one value per row, else arrays (TF Serving and MLflow single-output answers). */
export function perRowValues(output: PredictionOutput, rowCount: number): unknown[] {
  const perRow = rowCount > 0 ? output.data.length / rowCount : 0;
  if (perRow === 1) return output.data;
  return Array.from({ length: rowCount }, (_, row) => output.data.slice(row * perRow, (row + 1) * perRow));
}
