/**
 * The registry store interface; SQLite and PostgreSQL implement it and both pass
 * `store.contract.ts`. It shares the database with the metadata store.
 *
 * Rules every backend keeps: an alias points only at a READY, unarchived version; alias
 * moves are atomic and recorded (who, when, why, and how); an alias listed in a model's
 * `approvalRequiredFor` moves only through an approved request; a version an alias or the
 * live deployment still uses cannot be archived or deleted. A refused change changes nothing.
 * Nothing is erased: deleting marks rows deleted (who, when) and hides them.
 */
import type { Page, PageRequest } from '../metadata/types.js';
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
  VersionChange,
  VersionFilter,
  VersionUse,
} from './types.js';

export interface RegistryStore {
  /** Creates a model; ALREADY_EXISTS if the name is taken. */
  createRegisteredModel(model: { name: string; description?: string; tags?: Record<string, string> }): Promise<RegisteredModel>;
  /** Returns the model, creating it if needed. */
  ensureRegisteredModel(name: string): Promise<RegisteredModel>;
  getRegisteredModel(name: string): Promise<RegisteredModel | undefined>;
  /** Several models by name in one query, in name order; unknown names are left out. */
  getRegisteredModels(names: string[]): Promise<RegisteredModel[]>;
  /** Models in name order, optionally filtered by name. */
  listRegisteredModels(request: PageRequest & { filter?: ModelFilter }): Promise<Page<RegisteredModel>>;
  updateRegisteredModel(name: string, update: { description?: string }): Promise<RegisteredModel>;
  /**
   * Renames a model, keeping its versions, aliases and history; ALREADY_EXISTS if the new name is taken.
   * FAILED_PRECONDITION while the model has an approval rule: consumers resolve `name@alias`,
   * so a rename would free the protected name for a model without the rule.
   */
  renameRegisteredModel(name: string, newName: string): Promise<RegisteredModel>;
  /**
   * Deletes a model: it and its versions are marked deleted by `who` (without it, actor
   * "unknown") and vanish from every listing and lookup, while their rows, alias moves and
   * requests stay (`modelTombstones`). The name is free for a new model at once, as in
   * MLflow. Returns the tombstone; FAILED_PRECONDITION while an alias is set or the live
   * deployment pins one of its versions.
   */
  deleteRegisteredModel(name: string, who?: Actor): Promise<ModelTombstone>;
  /** The models once deleted under this name, newest first, with their whole history. */
  modelTombstones(name: string): Promise<ModelTombstone[]>;
  setRegisteredModelTag(name: string, key: string, value: string): Promise<RegisteredModel>;
  /** NOT_FOUND if the model has no such tag. */
  deleteRegisteredModelTag(name: string, key: string): Promise<RegisteredModel>;
  /** Sets which aliases need an approved request to move (empty list: none). */
  setApprovalRule(name: string, aliases: string[]): Promise<RegisteredModel>;

  /** Adds the next version number atomically, even with concurrent writers; NOT_FOUND if the model does not exist. */
  createModelVersion(version: NewModelVersion): Promise<ModelVersion>;
  getModelVersion(modelName: string, version: number): Promise<ModelVersion | undefined>;
  listModelVersions(modelName: string, request: PageRequest): Promise<Page<ModelVersion>>;
  /** Versions across models, newest first. */
  searchModelVersions(request: PageRequest & { filter?: VersionFilter }): Promise<Page<ModelVersion>>;
  /** The newest active version and the newest archived one (MLflow's latest per stage), newest first. */
  latestVersions(modelName: string): Promise<ModelVersion[]>;
  /** `latestVersions` of several models in one query: model name -> its latest versions (unknown names and models without versions are left out). */
  latestVersionsOf(modelNames: string[]): Promise<Map<string, ModelVersion[]>>;
  /** Changes the description, or the status of a PENDING_REGISTRATION version (to READY or FAILED_REGISTRATION). */
  updateModelVersion(modelName: string, version: number, update: ModelVersionUpdate): Promise<ModelVersion>;
  setModelVersionTag(modelName: string, version: number, key: string, value: string): Promise<ModelVersion>;
  deleteModelVersionTag(modelName: string, version: number, key: string): Promise<ModelVersion>;
  /**
   * Archives a version (MLflow stage `Archived`), recording who and why in `versionChanges`
   * (without `who`, as actor "unknown"); FAILED_PRECONDITION while it is in use.
   */
  archiveModelVersion(modelName: string, version: number, who?: Actor): Promise<ModelVersion>;
  /** Brings an archived version back, recorded like an archive. */
  restoreModelVersion(modelName: string, version: number, who?: Actor): Promise<ModelVersion>;
  /** Who archived or restored which version of the model, and why, newest first; NOT_FOUND for an unknown model. */
  versionChanges(modelName: string): Promise<VersionChange[]>;
  /**
   * Deletes a version: marked deleted by `who`, it vanishes from lookups and listings while
   * its row stays (and its number is never reused); FAILED_PRECONDITION while it is in use.
   */
  deleteModelVersion(modelName: string, version: number, who?: Actor): Promise<void>;
  /** What still uses a version: the aliases on it and the live deployment's references that pin it by number. */
  isVersionInUse(modelName: string, version: number): Promise<VersionUse>;

  /**
   * Points an alias at a version and records the move. NOT_FOUND for an unknown model or
   * version; FAILED_PRECONDITION for a version that is not READY or is archived, or an
   * alias that needs approval.
   */
  setAlias(modelName: string, alias: string, version: number, who: Actor): Promise<AliasMove>;
  /** Removes an alias, recording the move; FAILED_PRECONDITION for an alias that needs approval. */
  deleteAlias(modelName: string, alias: string, who: Actor): Promise<AliasMove>;
  getVersionByAlias(modelName: string, alias: string): Promise<ModelVersion | undefined>;
  /** Every move of an alias, newest first. */
  aliasHistory(modelName: string, alias: string): Promise<AliasMove[]>;
  /**
   * Moves an alias back to its previous holder: undoes the last move that was not itself
   * undone, so repeated rollbacks walk further back. Holders that were deleted, archived
   * or are not READY are skipped. FAILED_PRECONDITION when there is none to go back to, or
   * the alias needs approval (then request a move to the version instead).
   */
  rollbackAlias(modelName: string, alias: string, who: Actor): Promise<AliasMove>;

  /** Asks for a move of an alias that needs approval; the version is checked now and again on approval. */
  requestAliasMove(modelName: string, alias: string, version: number, who: Actor): Promise<AliasMoveRequest>;
  /** Approves a pending request and moves the alias in the same transaction; the approver must not be the requester. */
  approveAliasMove(requestId: number, who: Actor): Promise<{ request: AliasMoveRequest; move: AliasMove }>;
  rejectAliasMove(requestId: number, who: Actor): Promise<AliasMoveRequest>;
  /** One request by id, or undefined. */
  getAliasRequest(requestId: number): Promise<AliasMoveRequest | undefined>;
  /** A model's requests, newest first; `pendingOnly` leaves out decided ones. */
  listAliasRequests(modelName: string, options?: { pendingOnly?: boolean }): Promise<AliasMoveRequest[]>;

  close(): Promise<void>;
}
