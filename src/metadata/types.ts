/**
 * The ML Metadata model (as in TFX's MLMD): typed artifacts, executions of components,
 * events linking them, and contexts (a pipeline, one run of it) grouping both.
 */
import type { JsonObject } from '../core/json.js';
import type { ProcessOwner } from '../core/process-owner.js';

export const ARTIFACT_STATES = ['PENDING', 'LIVE', 'MARKED_FOR_DELETION', 'DELETED'] as const;
export type ArtifactState = (typeof ARTIFACT_STATES)[number];

// SKIPPED: the step's condition did not hold (as in Kubeflow Pipelines).
export const EXECUTION_STATES = ['NEW', 'RUNNING', 'COMPLETE', 'FAILED', 'CACHED', 'SKIPPED', 'CANCELED'] as const;
export type ExecutionState = (typeof EXECUTION_STATES)[number];

export const EVENT_TYPES = ['INPUT', 'OUTPUT'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const CONTEXT_TYPES = ['pipeline', 'pipeline_run'] as const;
export type ContextType = (typeof CONTEXT_TYPES)[number];

export const PROPERTY_KINDS = ['STRING', 'INT', 'DOUBLE', 'BOOL', 'JSON'] as const;
export type PropertyKind = (typeof PROPERTY_KINDS)[number];

export interface ArtifactType {
  id: number;
  name: string;
  description: string;
  /** Declared property names and kinds; an artifact of this type may only carry these. */
  properties: Record<string, PropertyKind>;
}
export type NewArtifactType = Omit<ArtifactType, 'id'>;

export interface Artifact {
  id: number;
  typeName: string;
  /** Where the content lives, as the artifact store names it (`loom-artifact://sha256/...`). */
  uri: string;
  /** Content hash; equal content gives an equal fingerprint. */
  fingerprint: string;
  state: ArtifactState;
  properties: JsonObject;
  createdAt: number;
}
export type NewArtifact = Pick<Artifact, 'typeName' | 'uri' | 'fingerprint'> &
  Partial<Pick<Artifact, 'state' | 'properties'>>;

/** The code an execution ran: the git commit and whether the work tree had changes. */
export interface CodeVersion {
  commit: string | null;
  dirty: boolean;
}

export interface Execution {
  id: number;
  /** The component's name, e.g. `transform`. */
  typeName: string;
  /** The step's name inside its pipeline, e.g. `transform` or `train-2`. */
  stepName: string;
  state: ExecutionState;
  parameters: JsonObject;
  codeVersion: CodeVersion;
  /** The fingerprint of component version, parameters and inputs; equal keys may reuse outputs. */
  cacheKey: string | null;
  /** Attempt number, from 1; a retried step records its last attempt. */
  attempts: number;
  error: string | null;
  properties: JsonObject;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  /**
   * The process that ran it (set when it became RUNNING), so one killed mid-step is found
   * and marked FAILED by the next command (`failAbandonedWork`). Null for executions that never ran.
   */
  owner: ProcessOwner | null;
}
/** Without an `owner`, an execution created or moved to RUNNING is owned by the writing process. */
export type NewExecution = Pick<Execution, 'typeName' | 'stepName' | 'parameters' | 'codeVersion'> &
  Partial<Pick<Execution, 'state' | 'cacheKey' | 'properties' | 'startedAt' | 'attempts' | 'owner'>>;
export type ExecutionUpdate = Partial<
  Pick<Execution, 'state' | 'error' | 'properties' | 'startedAt' | 'endedAt' | 'attempts' | 'cacheKey'>
>;

export interface MetadataEvent {
  artifactId: number;
  executionId: number;
  type: EventType;
  /** The input or output name on the component (`examples`, `model`). */
  name: string;
  createdAt: number;
}
export type NewEvent = Omit<MetadataEvent, 'createdAt'>;

export interface Context {
  id: number;
  typeName: ContextType;
  name: string;
  properties: JsonObject;
  createdAt: number;
}
export type NewContext = Pick<Context, 'typeName' | 'name'> & Partial<Pick<Context, 'properties'>>;

export interface Page<T> {
  items: T[];
  /** Pass back to get the next page; absent on the last page. */
  nextPageToken?: string;
}
export interface PageRequest {
  pageSize?: number;
  pageToken?: string;
}

/** What `lineage()` returns: every artifact, execution and event within the hop limit. */
export interface LineageGraph {
  artifacts: Artifact[];
  executions: Execution[];
  events: MetadataEvent[];
}
export type LineageDirection = 'upstream' | 'downstream';

/** One output of a finishing execution: a new artifact or one that already exists. */
export interface PublishedOutput {
  name: string;
  artifact: NewArtifact | { id: number };
}
export interface PublishRequest {
  executionId: number;
  /** FAILED publishes the outputs of a step whose verdict failed it (a validation with errors). */
  state: Extract<ExecutionState, 'COMPLETE' | 'CACHED' | 'FAILED'>;
  outputs: PublishedOutput[];
  /** Why a FAILED execution failed. */
  error?: string;
  /** Contexts the execution and its outputs belong to. */
  contextIds: number[];
  properties?: JsonObject;
  endedAt: number;
}
export interface PublishResult {
  execution: Execution;
  outputs: { name: string; artifact: Artifact }[];
}
export interface CachedResult {
  execution: Execution;
  outputs: { name: string; artifact: Artifact }[];
}
