/**
 * Where a model version came from and where it went, from data snapshot to deployment, each
 * node a link: the data snapshots open their dataset pages (which link back to the models made
 * from them), each step opens its pipeline run at that step, and the deployments serving the
 * version open the deployments page. The code versions say which commit ran.
 */
import { Link } from 'react-router';
import { LOOM, get, type Deployment, type Lineage } from '../api';
import { Show, StateBadge, formatDuration, useApi } from './common';

/** The version a deployment's model reference (`flights`, `flights@champion`, `flights@3`) serves, by the model's aliases now. */
function servedVersion(ref: string, aliases: { alias: string; version: string }[]): string | undefined {
  const qualifier = ref.includes('@') ? ref.slice(ref.lastIndexOf('@') + 1) : 'champion';
  return /^\d+$/.test(qualifier) ? qualifier : aliases.find((a) => a.alias === qualifier)?.version;
}

export function LineagePanel({ name, version, aliases }: { name: string; version: string; aliases: { alias: string; version: string }[] }) {
  const lineage = useApi((signal) => get<Lineage>(`${LOOM}/models/${encodeURIComponent(name)}/lineage`, { version }, signal), `${name}@${version}`);
  const deployments = useApi((signal) => get<{ deployments: Deployment[] }>(`${LOOM}/deployments`, {}, signal), 'deployments');
  const serving = (deployments.data?.deployments ?? [])
    .filter((d) => d.modelName === name)
    .flatMap((d) => [
      { role: 'primary', ref: d.primary },
      ...(d.canary ? [{ role: `canary ${Math.round(d.canary.weight * 100)}%`, ref: d.canary.ref }] : []),
      ...(d.shadow ? [{ role: 'shadow', ref: d.shadow }] : []),
    ])
    .filter((r) => servedVersion(r.ref, aliases) === version);
  return (
    <section aria-labelledby="lineage-h">
      <h2 id="lineage-h">Lineage of v{version}</h2>
      <Show loaded={lineage}>
        {(l) => (
          <ol className="flow">
            {l.dataSnapshots.map((d) => (
              <li key={d.artifactId} className="node data">
                <span className="kind">data snapshot</span>
                <Link to={`/datasets/${d.contentHash}`}>{d.contentHash.slice(0, 12)}</Link>
                <span className="muted">{d.source}</span>
              </li>
            ))}
            {[...l.executions].reverse().map((e) => (
              <li key={e.id} className="node step">
                <span className="kind">step</span>
                <strong>{e.runId ? <Link to={`/pipelines/${encodeURIComponent(e.runId)}?step=${encodeURIComponent(e.step)}`}>{e.step}</Link> : e.step}</strong> <StateBadge state={e.state} />
                <span className="muted">
                  {e.component} · {formatDuration(e.durationMs)}
                </span>
                <span className="muted small">out: {e.outputs.join(', ') || '—'}</span>
              </li>
            ))}
            <li className="node model">
              <span className="kind">model</span>
              <strong>
                {l.model.name} v{l.model.version}
              </strong>
              <span className="muted small">{l.codeVersions.map((c) => `${c.commit?.slice(0, 10) ?? 'no commit'}${c.dirty ? ' (dirty)' : ''}`).join(', ')}</span>
            </li>
            {serving.length > 0 && (
              <li className="node deployment">
                <span className="kind">deployment</span>
                <Link to="/deployments">served by {name}</Link>
                <span className="muted small">{serving.map((s) => `${s.role} (${s.ref})`).join(', ')}</span>
              </li>
            )}
          </ol>
        )}
      </Show>
    </section>
  );
}
