/**
 * What each online server serves: the live deployment of every model (primary, canary share,
 * shadow, the traffic split in words) and its history; for the model chosen (`?model=`, else
 * the first deployed) its canary decisions, its traffic, errors and latency per version and role over
 * time (`?traffic=hourly|daily`) and its shadow's answers against the served ones; and each alias a deployment serves with its history and a
 * rollback (confirmed, through the same API route and checks as `loom models rollback`).
 */
import { Link, useSearchParams } from 'react-router';
import { LOOM, MLFLOW, get, type AliasMove, type Deployment, type ModelVersion } from '../api';
import { AliasHistory, RollbackButton } from '../components/AliasRollback';
import { Show, formatTime, useApi } from '../components/common';
import { CanaryDecisions, DeploymentTrafficSection, trafficSplit } from '../components/DeploymentTraffic';
import { ShadowResultsSection } from '../components/ShadowResults';

/** The `name@alias` references of a deployment (pinned `name@3` ones have no alias to roll back), once each. */
function servedAliases(deployments: Deployment[]): { name: string; alias: string }[] {
  const refs = deployments.flatMap((d) => [d.primary, d.canary?.ref, d.shadow]).filter((r): r is string => !!r);
  const unique = [...new Set(refs)].map((ref) => /^(.+)@([A-Za-z][\w-]*)$/.exec(ref)).filter((m): m is RegExpExecArray => m !== null);
  return unique.map((m) => ({ name: m[1]!, alias: m[2]! }));
}

/** The model whose decisions and traffic are shown: the one in the URL, else the first deployed. */
function focused(model: string, deployments: Deployment[] | undefined): string | undefined {
  return model || deployments?.[0]?.modelName;
}

export function Deployments() {
  const [params, setParams] = useSearchParams();
  const model = params.get('model') ?? '';
  const trafficWindow = params.get('traffic') === 'hourly' ? 'hourly' : 'daily';
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
                  <th scope="col">Traffic split</th>
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
                    <td>{trafficSplit(d)}</td>
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
      {focused(model, live.data?.deployments) && (
        <>
          <CanaryDecisions model={focused(model, live.data?.deployments)!} />
          <DeploymentTrafficSection
            model={focused(model, live.data?.deployments)!}
            window={trafficWindow}
            onWindow={(window) => {
              const next = new URLSearchParams(params);
              next.set('traffic', window);
              setParams(next);
            }}
          />
          <ShadowResultsSection model={focused(model, live.data?.deployments)!} window={trafficWindow} />
        </>
      )}
      {live.data && servedAliases(live.data.deployments).length > 0 && (
        <section aria-labelledby="served-h">
          <h2 id="served-h">Served aliases</h2>
          {servedAliases(live.data.deployments).map((a) => (
            <ServedAlias key={`${a.name}@${a.alias}`} name={a.name} alias={a.alias} />
          ))}
        </section>
      )}
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

/** One served alias: the version it holds now, its moves, and its rollback. */
function ServedAlias({ name, alias }: { name: string; alias: string }) {
  const key = JSON.stringify([name, alias]);
  const current = useApi((signal) => get<{ model_version: ModelVersion }>(`${MLFLOW}/registered-models/alias`, { name, alias }, signal), key);
  const history = useApi((signal) => get<{ moves: AliasMove[] }>(`${LOOM}/models/${encodeURIComponent(name)}/aliases/${encodeURIComponent(alias)}/history`, {}, signal), key);
  return (
    <div className="card" data-alias={`${name}@${alias}`}>
      <h3>
        {name}@{alias} → {current.data ? `v${current.data.model_version.version}` : current.error ? 'unset' : '…'}
      </h3>
      <RollbackButton
        name={name}
        alias={alias}
        onDone={() => {
          // The same alias read again: what is on screen stays until each new answer replaces it.
          current.reload();
          history.reload();
        }}
      />
      <Show loaded={history}>{({ moves }) => <AliasHistory alias={`${name}@${alias}`} moves={moves} />}</Show>
    </div>
  );
}
