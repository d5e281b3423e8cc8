/**
 * The metadata store interface. Two backends implement it (embedded SQLite and
 * PostgreSQL), and `store.contract.ts` is the one suite both must pass.
 * Write paths are batches; single-item helpers sit on top of them.
 */
import type {
  Artifact,
  ArtifactState,
  ArtifactType,
  CachedResult,
  Context,
  ContextType,
  Execution,
  ExecutionState,
  ExecutionUpdate,
  LineageDirection,
  LineageGraph,
  MetadataEvent,
  NewArtifact,
  NewArtifactType,
  NewContext,
  NewEvent,
  NewExecution,
  Page,
  PageRequest,
  PublishRequest,
  PublishResult,
} from './types.js';
import type { ExecutionLogPage, ExecutionLogRequest, NewExecutionLogLine } from './execution-log.js';

export interface ExecutionFilter extends PageRequest {
  contextId?: number;
  typeName?: string;
  states?: ExecutionState[];
}

export interface MetadataStore {
  /** Registers a type, or returns the existing one; fails with ALREADY_EXISTS if its properties differ. */
  putArtifactType(type: NewArtifactType): Promise<ArtifactType>;
  getArtifactType(name: string): Promise<ArtifactType | undefined>;

  /** Inserts artifacts in one transaction; properties must be declared by the type. */
  putArtifacts(artifacts: NewArtifact[]): Promise<Artifact[]>;
  getArtifacts(ids: number[]): Promise<Artifact[]>;
  listArtifacts(filter: PageRequest & { typeName?: string; contextId?: number }): Promise<Page<Artifact>>;
  setArtifactState(id: number, state: ArtifactState): Promise<void>;

  createExecution(execution: NewExecution): Promise<Execution>;
  updateExecution(id: number, update: ExecutionUpdate): Promise<Execution>;
  getExecution(id: number): Promise<Execution | undefined>;
  listExecutions(filter: ExecutionFilter): Promise<Page<Execution>>;

  /**
   * Appends lines to an execution's log, after the ones it has (redacted, the first 5,000
   * kept and the rest counted, each cut at 4,000 characters); NOT_FOUND for an unknown execution.
   */
  appendExecutionLog(executionId: number, lines: readonly NewExecutionLogLine[]): Promise<void>;
  /** A page of an execution's log, oldest first: lines after `afterSeq`, at most `limit`; NOT_FOUND for an unknown execution. */
  getExecutionLog(executionId: number, request?: ExecutionLogRequest): Promise<ExecutionLogPage>;

  putEvents(events: NewEvent[]): Promise<void>;
  getEvents(query: { executionIds?: number[]; artifactIds?: number[] }): Promise<MetadataEvent[]>;

  /** Creates a context, or returns the one with the same type and name. */
  putContext(context: NewContext): Promise<Context>;
  getContext(id: number): Promise<Context | undefined>;
  findContext(typeName: ContextType, name: string): Promise<Context | undefined>;
  listContexts(filter: PageRequest & { typeName?: ContextType }): Promise<Page<Context>>;
  updateContext(id: number, properties: Context['properties']): Promise<Context>;
  /** Links executions and artifacts to a context (idempotent). */
  addToContext(contextId: number, links: { executionIds?: number[]; artifactIds?: number[] }): Promise<void>;
  getContextsOfExecution(executionId: number): Promise<Context[]>;

  /**
   * Finishes an execution atomically: inserts its new output artifacts, the OUTPUT events,
   * the context links and the final state in one transaction, so a crash leaves either
   * all of it or none of it.
   */
  publishExecution(request: PublishRequest): Promise<PublishResult>;

  /** The newest COMPLETE execution with this cache key whose outputs are all LIVE, with its outputs. */
  findCachedExecution(cacheKey: string): Promise<CachedResult | undefined>;

  /** Artifacts and executions reachable from an artifact within `maxHops` execution hops. */
  lineage(artifactId: number, options: { direction: LineageDirection; maxHops: number }): Promise<LineageGraph>;

  close(): Promise<void>;
}
