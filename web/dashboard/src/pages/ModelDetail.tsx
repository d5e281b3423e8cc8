/**
 * One registered model: its versions, each alias with its history, moving an alias and
 * rolling it back (through the same API and checks as the CLI, showing the server's refusal),
 * and, for the selected version (`?version=N` in the URL), its evaluation with the model card
 * and its lineage.
 */
import { useState, type FormEvent } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { LOOM, MLFLOW, get, post, type AliasMove, type ModelVersion, type RegisteredModel } from '../api';
import { ErrorBox, Show, StateBadge, formatTime, useApi } from '../components/common';
import { AliasHistory, RollbackButton } from '../components/AliasRollback';
import { LineagePanel } from '../components/LineagePanel';
import { ModelEvaluation } from '../components/ModelEvaluation';

const quoted = (value: string) => `'${value.replace(/'/g, "\\'")}'`;

export function ModelDetail() {
  const { name = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const model = useApi((signal) => get<{ registered_model: RegisteredModel }>(`${MLFLOW}/registered-models/get`, { name }, signal), name);
  const versions = useApi(
    (signal) => get<{ model_versions?: ModelVersion[] }>(`${MLFLOW}/model-versions/search`, { filter: `name=${quoted(name)}`, max_results: 500 }, signal),
    name,
  );
  const aliases = model.data?.registered_model.aliases ?? [];
  const histories = useApi(
    (signal) => Promise.all(aliases.map((a) => get<{ moves: AliasMove[] }>(`${LOOM}/models/${encodeURIComponent(name)}/aliases/${encodeURIComponent(a.alias)}/history`, {}, signal))),
    JSON.stringify([name, aliases]),
  );
  // Every change made from this page reads all three again; what is on screen stays until each new answer replaces it.
  const reload = () => {
    histories.reload();
    model.reload();
    versions.reload();
  };
  const newest = Math.max(0, ...(versions.data?.model_versions ?? []).map((v) => Number(v.version)));
  const selected = params.get('version') ?? (aliases.find((a) => a.alias === 'champion')?.version || (newest ? String(newest) : ''));

  return (
    <>
      <p className="crumbs">
        <Link to="/models">Models</Link> /
      </p>
      <h1>{name}</h1>
      <Show loaded={model}>{({ registered_model: m }) => (m.description ? <p>{m.description}</p> : null)}</Show>
      <section aria-labelledby="aliases-h">
        <h2 id="aliases-h">Aliases</h2>
        {aliases.length === 0 && <p className="muted">No aliases yet.</p>}
        {aliases.map((a, i) => (
          <AliasCard key={a.alias} name={name} alias={a.alias} version={a.version} moves={histories.data?.[i]?.moves} onChange={reload} />
        ))}
        <AliasMoveForm name={name} versions={versions.data?.model_versions ?? []} onMoved={reload} />
      </section>
      <section aria-labelledby="versions-h">
        <h2 id="versions-h">Versions</h2>
        <Show loaded={versions}>
          {({ model_versions: items = [] }) => (
            <table>
              <thead>
                <tr>
                  <th scope="col">Version</th>
                  <th scope="col">Status</th>
                  <th scope="col">Stage</th>
                  <th scope="col">Aliases</th>
                  <th scope="col">Created</th>
                  <th scope="col">Lineage</th>
                </tr>
              </thead>
              <tbody>
                {items.map((v) => (
                  <tr key={v.version} aria-current={v.version === selected ? 'true' : undefined}>
                    <td>v{v.version}</td>
                    <td>
                      <StateBadge state={v.status} />
                    </td>
                    <td>{v.current_stage}</td>
                    <td>{v.aliases.join(', ') || '—'}</td>
                    <td>{formatTime(v.creation_timestamp)}</td>
                    <td>
                      <button type="button" className="link" onClick={() => setParams({ version: v.version })} aria-pressed={v.version === selected}>
                        Lineage of v{v.version}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Show>
      </section>
      {selected && <ModelEvaluation name={name} version={selected} description={versions.data?.model_versions?.find((v) => v.version === selected)?.description} />}
      {selected && <LineagePanel name={name} version={selected} aliases={aliases} />}
    </>
  );
}

function AliasCard({ name, alias, version, moves, onChange }: { name: string; alias: string; version: string; moves?: AliasMove[]; onChange(): void }) {
  return (
    <div className="card" data-alias={alias}>
      <h3>
        {alias} → v{version}
      </h3>
      <RollbackButton name={name} alias={alias} onDone={onChange} />
      {moves && <AliasHistory alias={alias} moves={moves} />}
    </div>
  );
}

function AliasMoveForm({ name, versions, onMoved }: { name: string; versions: ModelVersion[]; onMoved(): void }) {
  const [alias, setAlias] = useState('champion');
  const [version, setVersion] = useState('');
  const [error, setError] = useState<Error>();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    try {
      await post(`${MLFLOW}/registered-models/alias`, { name, alias, version: version || versions[0]?.version });
      onMoved();
    } catch (e) {
      setError(e as Error);
    }
  };
  return (
    <form className="alias-form" onSubmit={submit} aria-label="Move an alias">
      <label htmlFor="alias-name">Alias</label>
      <input id="alias-name" value={alias} onChange={(e) => setAlias(e.target.value)} size={12} />
      <label htmlFor="alias-version">to version</label>
      <select id="alias-version" value={version} onChange={(e) => setVersion(e.target.value)}>
        {versions.map((v) => (
          <option key={v.version} value={v.version}>
            v{v.version}
          </option>
        ))}
      </select>
      <button type="submit">Move alias</button>
      {error && <ErrorBox error={error} />}
    </form>
  );
}
