/**
 * The registry store interface; SQLite and PostgreSQL implement it and both pass
 * `store.contract.ts`. It shares the database with the metadata store.
 */
import type { Page, PageRequest } from '../metadata/types.js';
import type { AliasMove, ModelVersion, NewModelVersion, RegisteredModel } from './types.js';

export interface RegistryStore {
  /** Creates a model; ALREADY_EXISTS if the name is taken. */
  createRegisteredModel(model: { name: string; description?: string; tags?: Record<string, string> }): Promise<RegisteredModel>;
  /** Returns the model, creating it if needed. */
  ensureRegisteredModel(name: string): Promise<RegisteredModel>;
  getRegisteredModel(name: string): Promise<RegisteredModel | undefined>;
  listRegisteredModels(request: PageRequest): Promise<Page<RegisteredModel>>;

  /** Adds the next version number atomically, even with concurrent writers; NOT_FOUND if the model does not exist. */
  createModelVersion(version: NewModelVersion): Promise<ModelVersion>;
  getModelVersion(modelName: string, version: number): Promise<ModelVersion | undefined>;
  listModelVersions(modelName: string, request: PageRequest): Promise<Page<ModelVersion>>;

  /**
   * Points an alias at a version and records the move. NOT_FOUND for an unknown model or
   * version; FAILED_PRECONDITION for a version that is not READY.
   */
  setAlias(modelName: string, alias: string, version: number, who: { actor: string; reason: string }): Promise<AliasMove>;
  deleteAlias(modelName: string, alias: string, who: { actor: string; reason: string }): Promise<AliasMove>;
  getVersionByAlias(modelName: string, alias: string): Promise<ModelVersion | undefined>;
  /** Every move of an alias, newest first. */
  aliasHistory(modelName: string, alias: string): Promise<AliasMove[]>;

  close(): Promise<void>;
}
