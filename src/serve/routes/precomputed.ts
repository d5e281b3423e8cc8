/**
 * Batch serving by key: predictions computed ahead by `loom predict --precompute` are
 * answered from the precomputed table, never from the model. A key that was not
 * precomputed is a 404, not a guess.
 *
 *   GET /v1/predictions/{model}                       → the table's manifest (key columns, count, version)
 *   GET /v1/predictions/{model}/{key}                 → { model_name, model_version, key, outputs }
 *   GET /v1/predictions/{model}?origin=SFO&hour=8...  → the same, the key built from named key columns
 *
 * The key is the key columns' values in their declared order joined by `|`, URL-encoded
 * as one path segment (`SFO%7CLAX%7C8`); see src/serve/batch/precomputed-key.ts.
 *
 * Every `reloadIntervalMs` the tables are checked against the metadata store and the
 * files: a new `loom predict --precompute` for a model is served from then on, with no
 * restart and no failed lookup during the switch.
 *
 * Usage: `await app.register(precomputedRoutes, { metadata, artifacts })`
 */
import type { FastifyPluginAsync } from 'fastify';
import { authorize } from '../../auth/authorize.js';
import { LoomError } from '../../core/errors.js';
import type { MetadataStore } from '../../metadata/store.js';
import type { ArtifactStore } from '../../store/artifact-store.js';
import { keyFromNamedValues } from '../batch/precomputed-key.js';
import { findPrecomputedTables, type PrecomputedTable, type PrecomputedTables } from '../batch/precomputed-table.js';

export interface PrecomputedRoutesOptions {
  /** Where to find `PrecomputedPredictions` artifacts (the project's metadata store). */
  metadata: MetadataStore;
  artifacts: ArtifactStore;
  /** Model names to serve tables for; default every model that has one. Tables are opened at registration. */
  models?: readonly string[];
  /** Already-open tables, instead of looking them up (the plugin closes them on close). */
  tables?: PrecomputedTables;
  /** How often to look for new or changed tables, in ms; default 2000; 0 never. */
  reloadIntervalMs?: number;
  /** Told when a changed table cannot be opened (the old one keeps answering); default a line on stderr. */
  onReloadError?: (model: string, error: Error) => void;
}

/** The key-lookup routes; closes its tables when the Fastify instance closes. */
export const precomputedRoutes: FastifyPluginAsync<PrecomputedRoutesOptions> = async (app, options) => {
  const tables =
    options.tables ?? (await findPrecomputedTables({ metadata: options.metadata, artifacts: options.artifacts, models: options.models }));
  const onReloadError = options.onReloadError ?? ((model, error) => process.stderr.write(`reloading precomputed predictions of ${model} failed (still serving the previous table): ${error.message}\n`));
  let reloading: Promise<unknown> | undefined;
  const interval = options.reloadIntervalMs ?? 2000;
  const timer =
    interval > 0
      ? setInterval(() => {
          reloading ??= tables
            .refresh()
            .then(({ failures }) => failures.forEach(({ model, error }) => onReloadError(model, error)))
            .catch((error: Error) => onReloadError('every model', error))
            .finally(() => (reloading = undefined));
        }, interval)
      : undefined;
  timer?.unref();
  app.addHook('onClose', async () => {
    clearInterval(timer);
    await reloading;
    tables.close();
  });

  const tableOf = (model: string): PrecomputedTable => {
    const table = tables.get(model);
    if (!table) {
      const served = tables.names();
      throw new LoomError('NOT_FOUND', `no precomputed predictions for model "${model}" (this server has them for: ${served.length ? served.join(', ') : 'none'})`, {
        field: 'model',
        fix: `run \`loom predict --model ${model} --input <data> --precompute --keys <columns>\`, then it is served within seconds`,
      });
    }
    return table;
  };

  const answer = (table: PrecomputedTable, key: string): string => {
    const outputs = table.lookup(key);
    if (outputs === undefined) {
      throw new LoomError('NOT_FOUND', `no precomputed prediction for key "${key}" of model "${table.manifest.modelName}"`, {
        field: 'key',
        fix: `a key is ${table.manifest.keyColumns.join('|')} (values joined by "|", URL-encoded); only combinations present when it was precomputed exist`,
      });
    }
    // The outputs are stored as JSON text; splicing them in avoids a parse and a stringify per request.
    return `{"model_name":${JSON.stringify(table.manifest.modelName)},"model_version":"${table.manifest.modelVersion}","key":${JSON.stringify(key)},"outputs":${outputs}}`;
  };

  const tags = ['precomputed'];
  app.get<{ Params: { model: string }; Querystring: Record<string, string> }>('/v1/predictions/:model', { schema: { summary: "A precomputed table's manifest, or one prediction by its named key columns (`?origin=SFO&hour=8`)", tags } }, async (request, reply) => {
    authorize(request.principal, 'predict', { model: request.params.model });
    const table = tableOf(request.params.model);
    const query = request.query ?? {};
    if (Object.keys(query).length === 0) {
      const { manifest } = table;
      return { model_name: manifest.modelName, model_version: String(manifest.modelVersion), key_columns: manifest.keyColumns, key_count: manifest.keyCount, outputs: manifest.outputs, source: table.uri };
    }
    for (const name of Object.keys(query)) {
      if (!table.manifest.keyColumns.includes(name)) {
        throw new LoomError('INVALID_ARGUMENT', `${name} is not a key column (key columns: ${table.manifest.keyColumns.join(', ')})`, { field: name });
      }
    }
    return reply.type('application/json').send(answer(table, keyFromNamedValues(query, table.manifest.keyColumns)));
  });

  app.get<{ Params: { model: string; key: string } }>('/v1/predictions/:model/:key', { schema: { summary: 'One precomputed prediction by its key (values joined by "|", URL-encoded)', tags } }, async (request, reply) => {
    authorize(request.principal, 'predict', { model: request.params.model });
    return reply.type('application/json').send(answer(tableOf(request.params.model), request.params.key));
  });
};
