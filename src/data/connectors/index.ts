/** Picks the connector for a source spec: one loader per kind of source. */
import type { SourceSpec } from '../source-spec.js';
import type { DataSource } from './connector.js';
import { FileDataSource } from './file-source.js';
import { PostgresDataSource } from './postgres-source.js';

export type { DataSource, LoadContext, LoadedSource, BadRowReason } from './connector.js';
export { BAD_ROW_REASONS } from './connector.js';

export function connectorFor(spec: SourceSpec): DataSource {
  switch (spec.kind) {
    case 'file':
      return new FileDataSource(spec);
    case 'postgres':
      return new PostgresDataSource(spec);
  }
}
