/**
 * Where a model version came from, from data snapshot to the registered version: the data
 * snapshots link to their dataset pages, the steps list what they read and wrote, and the
 * code versions say which commit ran.
 */
import { Link } from 'react-router';
import { LOOM, get, type Lineage } from '../api';
import { Show, StateBadge, formatDuration, useApi } from './common';

export function LineagePanel({ name, version }: { name: string; version: string }) {
  const lineage = useApi((signal) => get<Lineage>(`${LOOM}/models/${encodeURIComponent(name)}/lineage`, { version }, signal), `${name}@${version}`);
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
                <strong>{e.step}</strong> <StateBadge state={e.state} />
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
          </ol>
        )}
      </Show>
    </section>
  );
}
