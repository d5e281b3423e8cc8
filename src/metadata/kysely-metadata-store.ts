/**
 * The one MetadataStore implementation, over Kysely, so SQLite and PostgreSQL run the
 * same queries. The backends differ only in how the Kysely instance is built
 * (`platform/sqlite-backend.ts`, `platform/postgres-backend.ts`); `platform/` wires it all together.
 *
 * Usage: `const { metadata } = await openPlatform(loadConfig())`
 */
import { LoomError } from '../core/errors.js';
import { canonicalJson } from '../core/json.js';
import type { Selectable } from 'kysely';
import type { EventTable, MetadataKysely } from './db-schema.js';
import * as executionLog from './execution-log.js';
import type { ExecutionLogPage, ExecutionLogRequest, NewExecutionLogLine } from './execution-log.js';
import * as executions from './executions.js';
import { lineage } from './lineage.js';
import {
  checkedArtifactState,
  inIdOrder,
  selectArtifacts,
  toArtifact,
  toArtifactType,
  toContext,
  toEvent,
  toExecution,
} from './metadata-rows.js';
import { findCachedExecution, publishExecution } from './publish.js';
import {
  chunks,
  IN_LIST_CHUNK,
  idAfterToken,
  pageSizeOf,
  requireIdList,
  requireName,
  requireObject,
  requireOneOf,
  toPage,
  unique,
} from './query-helpers.js';
import type { ExecutionFilter, MetadataStore } from './store.js';
import {
  CONTEXT_TYPES,
  PROPERTY_KINDS,
  type Artifact,
  type ArtifactState,
  type ArtifactType,
  type CachedResult,
  type Context,
  type ContextType,
  type Execution,
  type ExecutionUpdate,
  type LineageDirection,
  type LineageGraph,
  type MetadataEvent,
  type NewArtifact,
  type NewArtifactType,
  type NewContext,
  type NewEvent,
  type NewExecution,
  type Page,
  type PageRequest,
  type PublishRequest,
  type PublishResult,
} from './types.js';
import { insertArtifacts, insertContextLinks, insertEvents } from './writes.js';

export class KyselyMetadataStore implements MetadataStore {
  /**
   * @param db the shared query builder (the registry store may use the same one)
   * @param onClose what `close()` does; `openPlatform` passes the shared database's close
   */
  constructor(
    private readonly db: MetadataKysely,
    private readonly onClose: () => Promise<void>,
  ) {}

  async putArtifactType(type: NewArtifactType): Promise<ArtifactType> {
    const name = requireName(type.name, 'name');
    const declared = requireObject(type.properties, 'properties');
    for (const [prop, kind] of Object.entries(declared)) requireOneOf(kind, PROPERTY_KINDS, `properties.${prop}`);
    const properties = canonicalJson(declared);
    await this.db
      .insertInto('artifact_type')
      .values({ name, description: type.description ?? '', properties })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    const row = await this.db.selectFrom('artifact_type').selectAll().where('name', '=', name).executeTakeFirstOrThrow();
    const existing = JSON.parse(row.properties) as Record<string, string>;
    // Types evolve as MLMD's do with can_add_fields and can_omit_fields: a newer declaration may
    // add properties (old artifacts simply lack them) and may leave some out; a kind may not change.
    for (const [prop, kind] of Object.entries(declared)) {
      if (existing[prop] !== undefined && existing[prop] !== kind) {
        throw new LoomError('ALREADY_EXISTS', `artifact type "${name}" declares property "${prop}" as ${existing[prop]}, not ${kind}`, {
          fix: 'a property keeps its kind; give the changed property a new name (this database was written by a Loom whose declaration differs)',
        });
      }
    }
    const merged = canonicalJson({ ...existing, ...declared });
    if (merged !== canonicalJson(existing)) {
      await this.db.updateTable('artifact_type').set({ properties: merged }).where('id', '=', row.id).execute();
      return toArtifactType({ ...row, properties: merged });
    }
    return toArtifactType(row);
  }

  async getArtifactType(name: string): Promise<ArtifactType | undefined> {
    const row = await this.db.selectFrom('artifact_type').selectAll().where('name', '=', name).executeTakeFirst();
    return row && toArtifactType(row);
  }

  async putArtifacts(artifacts: NewArtifact[]): Promise<Artifact[]> {
    if (artifacts.length === 0) return [];
    return this.db.transaction().execute((trx) => insertArtifacts(trx, artifacts, Date.now(), 'artifacts'));
  }

  async getArtifacts(ids: number[]): Promise<Artifact[]> {
    const wanted = unique(requireIdList(ids, 'ids'));
    const found: Artifact[] = [];
    for (const part of chunks(wanted, IN_LIST_CHUNK)) {
      found.push(...(await selectArtifacts(this.db).where('artifact.id', 'in', part).execute()).map(toArtifact));
    }
    return inIdOrder(ids, found);
  }

  /** Artifacts oldest first, optionally of one type or in one context. */
  async listArtifacts(filter: PageRequest & { typeName?: string; contextId?: number }): Promise<Page<Artifact>> {
    const size = pageSizeOf(filter);
    const after = idAfterToken(filter);
    let query = selectArtifacts(this.db);
    if (after !== undefined) query = query.where('artifact.id', '>', after);
    if (filter.typeName !== undefined) query = query.where('artifact_type.name', '=', filter.typeName);
    if (filter.contextId !== undefined) {
      const contextId = filter.contextId;
      query = query.where('artifact.id', 'in', (eb) =>
        eb.selectFrom('attribution').select('artifact_id').where('context_id', '=', contextId),
      );
    }
    const rows = await query.orderBy('artifact.id').limit(size + 1).execute();
    return toPage(rows, size, (r) => r.id, toArtifact);
  }

  async setArtifactState(id: number, state: ArtifactState): Promise<void> {
    const result = await this.db
      .updateTable('artifact')
      .set({ state: checkedArtifactState(state, 'state') })
      .where('id', '=', id)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw new LoomError('NOT_FOUND', `no artifact with id ${id}`);
  }

  async createExecution(execution: NewExecution): Promise<Execution> {
    return executions.createExecution(this.db, execution, Date.now());
  }

  async updateExecution(id: number, update: ExecutionUpdate): Promise<Execution> {
    return this.db.transaction().execute((trx) => executions.updateExecution(trx, id, update));
  }

  async getExecution(id: number): Promise<Execution | undefined> {
    const row = await this.db.selectFrom('execution').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toExecution(row);
  }

  async listExecutions(filter: ExecutionFilter): Promise<Page<Execution>> {
    return executions.listExecutions(this.db, filter);
  }

  async appendExecutionLog(executionId: number, lines: readonly NewExecutionLogLine[]): Promise<void> {
    await executionLog.appendExecutionLog(this.db, executionId, lines, Date.now());
  }

  async getExecutionLog(executionId: number, request?: ExecutionLogRequest): Promise<ExecutionLogPage> {
    return executionLog.getExecutionLog(this.db, executionId, request);
  }

  async putEvents(events: NewEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.db.transaction().execute((trx) => insertEvents(trx, events, Date.now()));
  }

  /** Events touching any of the given executions or artifacts, oldest first. */
  async getEvents(query: { executionIds?: number[]; artifactIds?: number[] }): Promise<MetadataEvent[]> {
    const executionIds = unique(requireIdList(query.executionIds ?? [], 'executionIds'));
    const artifactIds = unique(requireIdList(query.artifactIds ?? [], 'artifactIds'));
    // An event can match on both sides; keying by id keeps it once.
    const byId = new Map<number, Selectable<EventTable>>();
    const sides = [
      ['execution_id', executionIds],
      ['artifact_id', artifactIds],
    ] as const;
    for (const [column, ids] of sides) {
      for (const part of chunks(ids, IN_LIST_CHUNK)) {
        const rows = await this.db.selectFrom('event').selectAll().where(column, 'in', part).execute();
        for (const row of rows) byId.set(row.id, row);
      }
    }
    return [...byId.values()].sort((a, b) => a.id - b.id).map(toEvent);
  }

  async putContext(context: NewContext): Promise<Context> {
    const typeName = requireOneOf(context.typeName, CONTEXT_TYPES, 'typeName');
    const name = requireName(context.name, 'name');
    await this.db
      .insertInto('context')
      .values({
        type_name: typeName,
        name,
        properties: canonicalJson(requireObject(context.properties, 'properties')),
        created_at: Date.now(),
      })
      .onConflict((oc) => oc.columns(['type_name', 'name']).doNothing())
      .execute();
    return (await this.findContext(typeName, name))!;
  }

  async getContext(id: number): Promise<Context | undefined> {
    const row = await this.db.selectFrom('context').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toContext(row);
  }

  async findContext(typeName: ContextType, name: string): Promise<Context | undefined> {
    const row = await this.db
      .selectFrom('context')
      .selectAll()
      .where('type_name', '=', typeName)
      .where('name', '=', name)
      .executeTakeFirst();
    return row && toContext(row);
  }

  /** Contexts newest first. */
  async listContexts(filter: PageRequest & { typeName?: ContextType }): Promise<Page<Context>> {
    const size = pageSizeOf(filter);
    const before = idAfterToken(filter);
    let query = this.db.selectFrom('context').selectAll();
    if (before !== undefined) query = query.where('id', '<', before);
    if (filter.typeName !== undefined) query = query.where('type_name', '=', filter.typeName);
    const rows = await query.orderBy('id', 'desc').limit(size + 1).execute();
    return toPage(rows, size, (r) => r.id, toContext);
  }

  /** Replaces a context's properties. */
  async updateContext(id: number, properties: Context['properties']): Promise<Context> {
    const row = await this.db
      .updateTable('context')
      .set({ properties: canonicalJson(requireObject(properties, 'properties')) })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    if (!row) throw new LoomError('NOT_FOUND', `no context with id ${id}`);
    return toContext(row);
  }

  async addToContext(contextId: number, links: { executionIds?: number[]; artifactIds?: number[] }): Promise<void> {
    requireIdList(links.executionIds ?? [], 'executionIds');
    requireIdList(links.artifactIds ?? [], 'artifactIds');
    await this.db.transaction().execute((trx) => insertContextLinks(trx, [contextId], links));
  }

  async getContextsOfExecution(executionId: number): Promise<Context[]> {
    const rows = await this.db
      .selectFrom('context')
      .innerJoin('association', 'association.context_id', 'context.id')
      .selectAll('context')
      .where('association.execution_id', '=', executionId)
      .orderBy('context.id')
      .execute();
    return rows.map(toContext);
  }

  async publishExecution(request: PublishRequest): Promise<PublishResult> {
    return this.db.transaction().execute((trx) => publishExecution(trx, request, Date.now()));
  }

  async findCachedExecution(cacheKey: string): Promise<CachedResult | undefined> {
    return findCachedExecution(this.db, requireName(cacheKey, 'cacheKey'));
  }

  async lineage(artifactId: number, options: { direction: LineageDirection; maxHops: number }): Promise<LineageGraph> {
    return lineage(this.db, artifactId, options);
  }

  async close(): Promise<void> {
    await this.onClose();
  }
}
