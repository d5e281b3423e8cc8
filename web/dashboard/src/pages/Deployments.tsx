/** What each online server serves: the live deployment of every model (primary, canary share, shadow) and its history. */
import { Link, useSearchParams } from 'react-router';
import { LOOM, get, type Deployment } from '../api';
import { Show, formatTime, useApi } from '../components/common';

export function Deployments() {
  const [params, setParams] = useSearchParams();
  const model = params.get('model') ?? '';
  const live = useApi((signal) => get<{ deployments: Deployment[] }>(`${LOOM}/deployments`, {}, signal), 'deployments');
  const history = useApi(
    (signal) => (model ? get<{ deployments: Deployment[] }>(`${LOOM}/deployments/${encodeURIComponent(model)}/history`, {}, signal) : Promise.resolve({ deployments: [] })),
    model,
  );
  return (
    <>
      <h1>Deployments</h1>
      <Show loaded={live}>
        {({ deployments }) =>
          deployments.length === 0 ? (
            <p className="muted">No deployments: `loom deploy` records one (a server started with `loom serve --model` serves without one).</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Model</th>
                  <th scope="col">Primary</th>
                  <th scope="col">Canary</th>
                  <th scope="col">Shadow</th>
                  <th scope="col">Since</th>
                  <th scope="col">By</th>
                  <th scope="col">History</th>
                </tr>
              </thead>
              <tbody>
                {deployments.map((d) => (
                  <tr key={d.id}>
                    <td>
                      <Link to={`/models/${encodeURIComponent(d.modelName)}`}>{d.modelName}</Link>
                    </td>
                    <td>{d.primary}</td>
                    <td>{d.canary ? `${d.canary.ref} (${Math.round(d.canary.weight * 100)}%, ${d.split})` : '—'}</td>
                    <td>{d.shadow ?? '—'}</td>
                    <td>{formatTime(d.createdAt)}</td>
                    <td>{d.actor}</td>
                    <td>
                      <button type="button" className="link" onClick={() => setParams({ model: d.modelName })}>
                        history of {d.modelName}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Show>
      {model && (
        <section aria-labelledby="history-h">
          <h2 id="history-h">History of {model}</h2>
          <Show loaded={history}>
            {({ deployments }) => (
              <table>
                <thead>
                  <tr>
                    <th scope="col">Id</th>
                    <th scope="col">Primary</th>
                    <th scope="col">Canary</th>
                    <th scope="col">Shadow</th>
                    <th scope="col">When</th>
                    <th scope="col">Who</th>
                    <th scope="col">Why</th>
                  </tr>
                </thead>
                <tbody>
                  {deployments.map((d) => (
                    <tr key={d.id}>
                      <td>{d.id}</td>
                      <td>{d.primary}</td>
                      <td>{d.canary ? `${d.canary.ref} (${Math.round(d.canary.weight * 100)}%)` : '—'}</td>
                      <td>{d.shadow ?? '—'}</td>
                      <td>{formatTime(d.createdAt)}</td>
                      <td>{d.actor}</td>
                      <td>{d.reason}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </Show>
        </section>
      )}
    </>
  );
}
