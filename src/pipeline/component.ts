/**
 * A component is one step's definition: its spec (typed inputs, outputs and parameters)
 * and its executor, a function from a plain-data context (input artifacts, output
 * directories, parameters) and the services its launcher binds to files in its output
 * directories and typed properties. The step runner (step-runner.ts) does everything
 * else: resolving inputs, caching, retries, moving outputs into the artifact store and
 * recording it all. Executors never touch the metadata store.
 *
 * Usage:
 *   export const statisticsComponent = defineComponent({
 *     name: 'statistics', version: '1', description: '...',
 *     inputs: { examples: { type: Examples } },
 *     outputs: { statistics: ExampleStatistics },
 *     parameters: z.object({}),
 *     async execute({ inputs, outputs, parameters }, services) { ...; return { properties: { statistics: {...} } }; },
 *   });
 */
import type { z } from 'zod';
import type { ErrorCode } from '../core/errors.js';
import type { JsonObject } from '../core/json.js';
import type { Progress } from '../core/progress.js';
import type { RegistryStore } from '../registry/store.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import type { TrackingLogger } from '../tracking/logger.js';
import type { ArtifactTypeDef, PropertiesOf } from './artifact-types.js';

export interface InputDef {
  type: ArtifactTypeDef;
  /** An optional input may resolve to nothing (a baseline model when no champion exists). */
  optional?: boolean;
}

/** An input artifact as an executor sees it. */
export interface InputArtifact {
  id: number;
  uri: string;
  /** A local directory with the artifact's files; read only. */
  path: string;
  fingerprint: string;
  properties: JsonObject;
}

export type ResolvedInputs<I extends Record<string, InputDef>> = {
  [K in keyof I as I[K]['optional'] extends true ? never : K]: InputArtifact;
} & {
  // An optional input may be left out altogether (tests and callers outside a pipeline).
  [K in keyof I as I[K]['optional'] extends true ? K : never]?: InputArtifact | undefined;
};

/**
 * Which step this is, for records an executor makes outside the metadata store (the
 * registry's version notes the pipeline run that pushed it).
 */
export interface StepRunInfo {
  /** The pipeline run's id (its context name). */
  runId: string;
  pipelineName: string;
  stepName: string;
  executionId: number;
}

/**
 * Everything an executor is told, as plain data (JSON): a launcher may ship it to another
 * process or machine. Live objects (stores, loggers, servers) are never here; they are
 * the `ExecutorServices` the launcher binds where the step runs.
 */
export interface ExecutorContext<I extends Record<string, InputDef>, O extends Record<string, ArtifactTypeDef>, P> {
  inputs: ResolvedInputs<I>;
  /** One empty staging directory per output; write the artifact's files there. */
  outputs: { [K in keyof O]: string };
  parameters: P;
  /** Absent when a test calls the executor directly. */
  run?: StepRunInfo;
  /**
   * Where a long step keeps checkpoints: `dir` survives a crash of this step (same inputs and
   * parameters give the same dir) and is removed when the step completes; `resumeFrom` names a
   * directory holding the checkpoint to continue from, when there is one.
   */
  checkpoints?: { dir: string; resumeFrom?: string };
}

/** What the launcher binds where the step runs; nothing here reaches the metadata store. */
export interface ExecutorServices {
  registry: RegistryStore;
  artifacts: ArtifactStore;
  progress: Progress;
  log(message: string): void;
  /**
   * Live metrics for `loom track watch`: a tracking run for this step attempt, tagged with
   * the pipeline run and execution. Absent when an executor runs outside a launcher.
   */
  tracking?: TrackingLogger;
  /**
   * An MLflow tracking endpoint for this step's tracking run, for programs that log with an
   * MLflow client (`MLFLOW_TRACKING_URI=uri`, `MLFLOW_RUN_ID=runId`); absent when the
   * launcher was given none.
   */
  mlflowEndpoint?(): Promise<{ uri: string; runId: string }>;
}

/**
 * A verdict that is not a crash: the outputs are published (a failed validation keeps its
 * anomalies), then the step fails with this error.
 */
export interface StepFailure {
  code: ErrorCode;
  message: string;
  fix?: string;
}

export interface ExecutorResult<O extends Record<string, ArtifactTypeDef>> {
  /** Properties of each output artifact, as its type's schema declares them (checked at publish). */
  properties: { [K in keyof O]: PropertiesOf<O[K]> };
  /**
   * Outputs written outside the artifact store (a batch job's Parquet file or table): their
   * URI and content fingerprint. Their staging directories are discarded.
   */
  external?: { [K in keyof O]?: { uri: string; fingerprint: string } };
  /** Properties of the execution itself. */
  executionProperties?: JsonObject;
  failure?: StepFailure;
}

export interface ComponentDef<
  I extends Record<string, InputDef> = Record<string, InputDef>,
  O extends Record<string, ArtifactTypeDef> = Record<string, ArtifactTypeDef>,
  P extends z.ZodType = z.ZodType,
> {
  name: string;
  /** Bump when the executor's behaviour changes: it is part of every cache key. */
  version: string;
  description: string;
  inputs: I;
  outputs: O;
  /** Validated before the step runs; defaults apply. */
  parameters: P;
  execute(context: ExecutorContext<I, O, z.output<P>>, services: ExecutorServices): Promise<ExecutorResult<O>>;
  /**
   * A fingerprint of state outside the inputs that the result depends on: a source file
   * read by path, a schema file the user edits. It is recorded after each execution; a
   * cached result is reused only while the fingerprint is still the same.
   */
  externalFingerprint?(parameters: z.output<P>): Promise<string>;
}

/** Identity at run time; gives the executor its types from the spec. */
export function defineComponent<
  I extends Record<string, InputDef>,
  O extends Record<string, ArtifactTypeDef>,
  P extends z.ZodType,
>(def: ComponentDef<I, O, P>): ComponentDef<I, O, P> {
  return def;
}
