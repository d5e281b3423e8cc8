/**
 * The registry as one principal sees it: every write is authorized, recorded in the audit
 * log with the state before and after, and made under the principal's own name (any actor
 * a caller passes is replaced by the authenticated subject, so no record carries a
 * free-text claim). Reads pass through. Both servers and the CLI wrap the platform's
 * registry in it once per request or command.
 *
 * Usage: `const registry = new GuardedRegistry(db.registry, { principal, address: request.ip, audit })`
 */
import { LoomError } from '../core/errors.js';
import type { Page, PageRequest } from '../metadata/types.js';
import type { RegistryStore } from '../registry/store.js';
import type {
  Actor,
  AliasMove,
  AliasMoveRequest,
  ModelFilter,
  ModelTombstone,
  ModelVersion,
  ModelVersionUpdate,
  NewModelVersion,
  RegisteredModel,
  VersionFilter,
  VersionChange,
  VersionUse,
} from '../registry/types.js';
import { recordChange, type ChangeContext, type ChangeOutcome, type ChangeSpec } from './record-change.js';

export class GuardedRegistry implements RegistryStore {
  constructor(
    private readonly inner: RegistryStore,
    private readonly context: ChangeContext,
  ) {}

  private change<T>(spec: ChangeSpec, run: () => Promise<T>, outcome?: ChangeOutcome<T>): Promise<T> {
    return recordChange(this.context, spec, run, outcome);
  }

  /** The caller's reason, under the authenticated subject's name. */
  private as(who: Actor | undefined): Actor {
    return { actor: this.context.principal.subject, reason: typeof who?.reason === 'string' ? who.reason : '' };
  }

  private model(name: string, action: string, permission: 'write' | 'model.admin' = 'write'): ChangeSpec {
    return { action, permission, model: name, target: name, before: () => this.inner.getRegisteredModel(name) };
  }

  private version(name: string, version: number, action: string, permission: 'write' | 'model.admin' = 'write'): ChangeSpec {
    return { action, permission, model: name, target: `${name} v${version}`, before: () => this.inner.getModelVersion(name, version) };
  }

  private alias(name: string, alias: string, action: string, who: Actor | undefined): ChangeSpec {
    return { action, permission: 'alias.move', model: name, alias, target: `${name}@${alias}`, reason: this.as(who).reason, before: async () => ({ version: (await this.inner.getVersionByAlias(name, alias))?.version ?? null }) };
  }

  createRegisteredModel(model: { name: string; description?: string; tags?: Record<string, string> }): Promise<RegisteredModel> {
    return this.change({ action: 'model.create', permission: 'write', model: model.name, target: model.name }, () => this.inner.createRegisteredModel(model));
  }

  async ensureRegisteredModel(name: string): Promise<RegisteredModel> {
    // Only a model that does not exist yet is a change worth recording.
    return (await this.inner.getRegisteredModel(name)) ?? this.change({ action: 'model.create', permission: 'write', model: name, target: name }, () => this.inner.ensureRegisteredModel(name));
  }

  getRegisteredModel(name: string): Promise<RegisteredModel | undefined> {
    return this.inner.getRegisteredModel(name);
  }

  getRegisteredModels(names: string[]): Promise<RegisteredModel[]> {
    return this.inner.getRegisteredModels(names);
  }

  listRegisteredModels(request: PageRequest & { filter?: ModelFilter }): Promise<Page<RegisteredModel>> {
    return this.inner.listRegisteredModels(request);
  }

  updateRegisteredModel(name: string, update: { description?: string }): Promise<RegisteredModel> {
    return this.change(this.model(name, 'model.update'), () => this.inner.updateRegisteredModel(name, update));
  }

  renameRegisteredModel(name: string, newName: string): Promise<RegisteredModel> {
    return this.change({ ...this.model(name, 'model.rename', 'model.admin'), target: `${name} -> ${newName}` }, () => this.inner.renameRegisteredModel(name, newName));
  }

  deleteRegisteredModel(name: string, who?: Actor): Promise<ModelTombstone> {
    // The tombstone (versions, alias history, requests) is the entry's "before"; "after" says who deleted it when.
    return this.change({ action: 'model.delete', permission: 'model.admin', model: name, target: name, reason: this.as(who).reason }, () => this.inner.deleteRegisteredModel(name, this.as(who)), (tombstone) => ({
      before: tombstone,
      after: { deletedAt: tombstone.deletedAt, deletedBy: tombstone.deletedBy },
    }));
  }

  modelTombstones(name: string): Promise<ModelTombstone[]> {
    return this.inner.modelTombstones(name);
  }

  setRegisteredModelTag(name: string, key: string, value: string): Promise<RegisteredModel> {
    return this.change(this.model(name, 'model.tag-set'), () => this.inner.setRegisteredModelTag(name, key, value));
  }

  deleteRegisteredModelTag(name: string, key: string): Promise<RegisteredModel> {
    return this.change(this.model(name, 'model.tag-delete'), () => this.inner.deleteRegisteredModelTag(name, key));
  }

  setApprovalRule(name: string, aliases: string[]): Promise<RegisteredModel> {
    return this.change(this.model(name, 'model.approval-rule', 'model.admin'), () => this.inner.setApprovalRule(name, aliases));
  }

  createModelVersion(version: NewModelVersion): Promise<ModelVersion> {
    return this.change({ action: 'version.create', permission: 'write', model: version.modelName, target: `${version.modelName} (new version)` }, () => this.inner.createModelVersion(version));
  }

  getModelVersion(modelName: string, version: number): Promise<ModelVersion | undefined> {
    return this.inner.getModelVersion(modelName, version);
  }

  listModelVersions(modelName: string, request: PageRequest): Promise<Page<ModelVersion>> {
    return this.inner.listModelVersions(modelName, request);
  }

  searchModelVersions(request: PageRequest & { filter?: VersionFilter }): Promise<Page<ModelVersion>> {
    return this.inner.searchModelVersions(request);
  }

  latestVersions(modelName: string): Promise<ModelVersion[]> {
    return this.inner.latestVersions(modelName);
  }

  latestVersionsOf(modelNames: string[]): Promise<Map<string, ModelVersion[]>> {
    return this.inner.latestVersionsOf(modelNames);
  }

  updateModelVersion(modelName: string, version: number, update: ModelVersionUpdate): Promise<ModelVersion> {
    return this.change(this.version(modelName, version, 'version.update'), () => this.inner.updateModelVersion(modelName, version, update));
  }

  setModelVersionTag(modelName: string, version: number, key: string, value: string): Promise<ModelVersion> {
    return this.change(this.version(modelName, version, 'version.tag-set'), () => this.inner.setModelVersionTag(modelName, version, key, value));
  }

  deleteModelVersionTag(modelName: string, version: number, key: string): Promise<ModelVersion> {
    return this.change(this.version(modelName, version, 'version.tag-delete'), () => this.inner.deleteModelVersionTag(modelName, version, key));
  }

  archiveModelVersion(modelName: string, version: number, who?: Actor): Promise<ModelVersion> {
    return this.change({ ...this.version(modelName, version, 'version.archive'), reason: this.as(who).reason }, () => this.inner.archiveModelVersion(modelName, version, this.as(who)));
  }

  restoreModelVersion(modelName: string, version: number, who?: Actor): Promise<ModelVersion> {
    return this.change({ ...this.version(modelName, version, 'version.restore'), reason: this.as(who).reason }, () => this.inner.restoreModelVersion(modelName, version, this.as(who)));
  }

  versionChanges(modelName: string): Promise<VersionChange[]> {
    return this.inner.versionChanges(modelName);
  }

  deleteModelVersion(modelName: string, version: number, who?: Actor): Promise<void> {
    return this.change({ ...this.version(modelName, version, 'version.delete', 'model.admin'), reason: this.as(who).reason }, () => this.inner.deleteModelVersion(modelName, version, this.as(who)), () => ({
      after: { deleted: true, deletedBy: this.context.principal.subject },
    }));
  }

  isVersionInUse(modelName: string, version: number): Promise<VersionUse> {
    return this.inner.isVersionInUse(modelName, version);
  }

  setAlias(modelName: string, alias: string, version: number, who: Actor): Promise<AliasMove> {
    return this.change(this.alias(modelName, alias, 'alias.set', who), () => this.inner.setAlias(modelName, alias, version, this.as(who)));
  }

  deleteAlias(modelName: string, alias: string, who: Actor): Promise<AliasMove> {
    return this.change(this.alias(modelName, alias, 'alias.delete', who), () => this.inner.deleteAlias(modelName, alias, this.as(who)));
  }

  getVersionByAlias(modelName: string, alias: string): Promise<ModelVersion | undefined> {
    return this.inner.getVersionByAlias(modelName, alias);
  }

  aliasHistory(modelName: string, alias: string): Promise<AliasMove[]> {
    return this.inner.aliasHistory(modelName, alias);
  }

  rollbackAlias(modelName: string, alias: string, who: Actor): Promise<AliasMove> {
    return this.change(this.alias(modelName, alias, 'alias.rollback', who), () => this.inner.rollbackAlias(modelName, alias, this.as(who)));
  }

  requestAliasMove(modelName: string, alias: string, version: number, who: Actor): Promise<AliasMoveRequest> {
    return this.change({ action: 'alias.request', permission: 'write', model: modelName, alias, target: `${modelName}@${alias}`, reason: this.as(who).reason }, () =>
      this.inner.requestAliasMove(modelName, alias, version, this.as(who)),
    );
  }

  async approveAliasMove(requestId: number, who: Actor): Promise<{ request: AliasMoveRequest; move: AliasMove }> {
    const request = await this.requestOrNotFound(requestId);
    if (this.context.principal.source === 'open') {
      // An open server's caller is a claim, not a person: a second claim is not a second person.
      throw new LoomError('PERMISSION_DENIED', `approving request ${requestId} needs an authenticated principal; this caller is unauthenticated (${this.context.principal.subject})`, {
        fix: 'approve with a token of your own (`loom login`, or Authorization: Bearer <token>), or from the command line on the project as yourself',
      });
    }
    return this.change(
      { action: 'alias.approve', permission: 'alias.approve', model: request.modelName, alias: request.alias, target: `${request.modelName}@${request.alias}`, reason: this.as(who).reason, before: async () => request },
      () => this.inner.approveAliasMove(requestId, this.as(who)),
    );
  }

  async rejectAliasMove(requestId: number, who: Actor): Promise<AliasMoveRequest> {
    const request = await this.requestOrNotFound(requestId);
    // The requester may withdraw; anyone else needs the right to approve.
    const own = request.requestedBy.toLowerCase() === this.context.principal.subject.toLowerCase();
    return this.change(
      { action: 'alias.reject', permission: own ? 'write' : 'alias.approve', model: request.modelName, alias: request.alias, target: `${request.modelName}@${request.alias}`, reason: this.as(who).reason, before: async () => request },
      () => this.inner.rejectAliasMove(requestId, this.as(who)),
    );
  }

  getAliasRequest(requestId: number): Promise<AliasMoveRequest | undefined> {
    return this.inner.getAliasRequest(requestId);
  }

  listAliasRequests(modelName: string, options?: { pendingOnly?: boolean }): Promise<AliasMoveRequest[]> {
    return this.inner.listAliasRequests(modelName, options);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private async requestOrNotFound(requestId: number): Promise<AliasMoveRequest> {
    const request = await this.inner.getAliasRequest(requestId);
    if (!request) throw new LoomError('NOT_FOUND', `no alias move request ${requestId}`, { field: 'requestId', fix: 'list requests with `loom models requests <name>`' });
    return request;
  }
}
