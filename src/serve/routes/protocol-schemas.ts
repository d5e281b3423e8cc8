/**
 * The request and answer shapes of the serving protocols, for `/openapi.json` only
 * (`schema.documented` in the routes): the handlers check inference bodies by hand, every
 * problem collected, and against the model's compiled signature, without a per-element zod
 * pass on the hot path. These say what a client may send; the handlers are the authority.
 */
import { z } from 'zod';
import { V2_DATATYPE } from '../features.js';

const datatype = z.enum(Object.values(V2_DATATYPE) as [string, ...string[]]);
const parameters = z.record(z.string(), z.unknown()).optional();

/** A V2 tensor; with Triton's binary extension its `data` comes after the JSON (`parameters.binary_data_size`). */
const v2Tensor = z.object({ name: z.string().min(1), shape: z.array(z.number().int().min(0)), datatype, data: z.array(z.unknown()).optional(), parameters });

/** KServe V2 inference: tensors (`inputs`), or Loom's records form (`instances`: one object of raw features per row). */
export const v2InferRequest = z.object({
  id: z.string().optional(),
  inputs: z.array(v2Tensor).optional(),
  instances: z.array(z.record(z.string(), z.unknown())).optional(),
  outputs: z.array(z.object({ name: z.string(), parameters })).optional(),
  parameters,
});

export const v2InferResponse = z.object({
  model_name: z.string(),
  model_version: z.string(),
  id: z.string(),
  outputs: z.array(v2Tensor).optional(),
  predictions: z.array(z.record(z.string(), z.unknown())).optional(),
});

const tensorMetadata = z.object({ name: z.string(), datatype, shape: z.array(z.number().int()) });
export const v2ModelMetadata = z.object({ name: z.string(), versions: z.array(z.string()), platform: z.string(), inputs: z.array(tensorMetadata), outputs: z.array(tensorMetadata), parameters });

/** TF Serving's predict: row format (`instances`) or columnar (`inputs`: `{feature: [values]}`, or rows). */
export const tfServingPredictRequest = z.object({
  instances: z.array(z.record(z.string(), z.unknown())).optional(),
  inputs: z.union([z.record(z.string(), z.array(z.unknown())), z.array(z.record(z.string(), z.unknown()))]).optional(),
  signature_name: z.string().optional(),
});

/** MLflow's scoring server: exactly one of the four JSON forms (or a `text/csv` body with a header row). */
export const invocationsRequest = z.object({
  dataframe_split: z.object({ columns: z.array(z.string()), data: z.array(z.array(z.unknown())), index: z.array(z.unknown()).optional() }).optional(),
  dataframe_records: z.array(z.record(z.string(), z.unknown())).optional(),
  instances: z.array(z.record(z.string(), z.unknown())).optional(),
  inputs: z.union([z.record(z.string(), z.array(z.unknown())), z.array(z.record(z.string(), z.unknown()))]).optional(),
});

/** `/invocations` names its model by `?model=` (or the `x-loom-model` header) and a version by `?version=`. */
export const invocationsQuery = z.object({ model: z.string().optional(), version: z.string().regex(/^\d+$/).optional() });
