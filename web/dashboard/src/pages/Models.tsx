/** Registered models with their aliases and newest version. */
import { Link } from 'react-router';
import { MLFLOW, get, type RegisteredModel } from '../api';
import { Show, formatTime, useApi } from '../components/common';

export function Models() {
  const loaded = useApi((signal) => get<{ registered_models?: RegisteredModel[] }>(`${MLFLOW}/registered-models/search`, { max_results: 1000 }, signal), 'models');
  return (
    <>
      <h1>Models</h1>
      <Show loaded={loaded}>
        {({ registered_models: models = [] }) =>
          models.length === 0 ? (
            <p className="muted">No registered models yet: a pipeline's push step registers them.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Model</th>
                  <th scope="col">Aliases</th>
                  <th scope="col">Newest version</th>
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {models.map((m) => (
                  <tr key={m.name}>
                    <td>
                      <Link to={`/models/${encodeURIComponent(m.name)}`}>{m.name}</Link>
                    </td>
                    <td>{(m.aliases ?? []).map((a) => `${a.alias} → v${a.version}`).join(', ') || '—'}</td>
                    <td>{Math.max(0, ...(m.latest_versions ?? []).map((v) => Number(v.version))) || '—'}</td>
                    <td>{formatTime(m.last_updated_timestamp)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Show>
    </>
  );
}
