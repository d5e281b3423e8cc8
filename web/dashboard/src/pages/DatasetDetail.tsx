/**
 * One dataset version: its splits and files, statistics as Facets shows them (a histogram
 * and quantiles per numeric feature, top values per string feature, the missing share), the
 * anomalies its validation found, and its quarantined rows. The split is chosen in the URL.
 */
import { Link, useParams, useSearchParams } from 'react-router';
import { LOOM, get, type Bucket, type DatasetDetail as Detail, type FeatureStatistics } from '../api';
import { Show, formatNumber, formatTime, useApi } from '../components/common';

export function DatasetDetail() {
  const { version = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const loaded = useApi((signal) => get<Detail>(`${LOOM}/datasets/${encodeURIComponent(version)}`, {}, signal), version);
  return (
    <>
      <p className="crumbs">
        <Link to="/datasets">Datasets</Link> /
      </p>
      <h1>Dataset version {version.slice(0, 12)}</h1>
      <Show loaded={loaded}>
        {({ version: v, statistics }) => {
          const splits = Object.keys(statistics.splits);
          const split = params.get('split') ?? (splits.includes('train') ? 'train' : splits[0]);
          const stats = split ? statistics.splits[split] : undefined;
          const anomalies = statistics.anomalies.flatMap((r) => r.anomalies.map((a) => ({ ...a, split: r.split })));
          return (
            <>
              <dl className="facts">
                <dt>Source</dt>
                <dd className="small">{v.source}</dd>
                <dt>Rows</dt>
                <dd>
                  {Object.entries(v.rowCounts)
                    .map(([s, n]) => `${s} ${n.toLocaleString('en')}`)
                    .join(', ')}
                </dd>
                <dt>Bad rows</dt>
                <dd>{v.badRows}</dd>
                <dt>Created</dt>
                <dd>{formatTime(v.createdAt)}</dd>
                <dt>Made by</dt>
                <dd>{v.madeBy?.runId ? <Link to={`/pipelines/${encodeURIComponent(v.madeBy.runId)}`}>{v.madeBy.runId}</Link> : '—'}</dd>
              </dl>
              <section aria-labelledby="anomalies-h">
                <h2 id="anomalies-h">Anomalies</h2>
                {statistics.anomalies.length === 0 ? (
                  <p className="muted">This version's statistics were never validated.</p>
                ) : anomalies.length === 0 ? (
                  <p>No anomalies: the data matches the schema.</p>
                ) : (
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">Split</th>
                        <th scope="col">Feature</th>
                        <th scope="col">Severity</th>
                        <th scope="col">Anomaly</th>
                        <th scope="col">Details</th>
                      </tr>
                    </thead>
                    <tbody>
                      {anomalies.map((a, i) => (
                        <tr key={i}>
                          <td>{a.split ?? '—'}</td>
                          <td>{a.feature}</td>
                          <td>
                            <span className={`badge severity-${a.severity.toLowerCase()}`}>{a.severity}</span>
                          </td>
                          <td>{a.short}</td>
                          <td className="small">{a.long}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
              </section>
              <section aria-labelledby="stats-h">
                <h2 id="stats-h">Statistics</h2>
                {splits.length === 0 ? (
                  <p className="muted">No statistics step has read this version.</p>
                ) : (
                  <>
                    <div className="filter">
                      <label htmlFor="split">Split</label>
                      <select id="split" value={split} onChange={(e) => setParams({ split: e.target.value }, { replace: true })}>
                        {splits.map((s) => (
                          <option key={s}>{s}</option>
                        ))}
                      </select>
                      <span className="muted">{stats?.rowCount.toLocaleString('en')} rows</span>
                    </div>
                    <div className="features">{stats?.features.map((f) => <FeatureCard key={f.name} feature={f} rows={stats.rowCount} />)}</div>
                  </>
                )}
              </section>
              {v.quarantines.length > 0 && (
                <section aria-labelledby="quarantine-h">
                  <h2 id="quarantine-h">Quarantined rows</h2>
                  <pre className="params">{JSON.stringify(v.quarantines[0]!.sample.slice(0, 10), null, 2)}</pre>
                </section>
              )}
            </>
          );
        }}
      </Show>
    </>
  );
}

function FeatureCard({ feature: f, rows }: { feature: FeatureStatistics; rows: number }) {
  const missing = rows > 0 ? (100 * f.missing) / rows : 0;
  return (
    <article className="card feature" aria-labelledby={`f-${f.name}`}>
      <h3 id={`f-${f.name}`}>
        {f.name} <span className="muted small">{f.type}</span>
      </h3>
      <p className="small">
        missing {missing.toFixed(1)}%{f.string && ` · ${f.string.unique.toLocaleString('en')} unique`}
      </p>
      {f.numeric && (
        <>
          <Histogram buckets={f.numeric.histogram} label={`Histogram of ${f.name}`} />
          <p className="small">
            mean {formatNumber(f.numeric.mean)} · std {formatNumber(f.numeric.std)} · min {formatNumber(f.numeric.min)} · median {formatNumber(f.numeric.median)} · max {formatNumber(f.numeric.max)}
          </p>
          <p className="small">{f.numeric.quantiles.map((q) => `p${Math.round(q.q * 100)} ${formatNumber(q.value)}`).join(' · ')}</p>
        </>
      )}
      {f.string && <TopValues values={f.string.topValues.slice(0, 8)} label={`Top values of ${f.name}`} />}
      {f.timestamp && (
        <p className="small">
          {f.timestamp.min} – {f.timestamp.max}
        </p>
      )}
    </article>
  );
}

function Histogram({ buckets, label }: { buckets: Bucket[]; label: string }) {
  const max = Math.max(1, ...buckets.map((b) => b.count));
  const width = 260;
  const bar = width / Math.max(1, buckets.length);
  return (
    <svg width={width} height={70} role="img" aria-label={`${label}: ${buckets.map((b) => `${formatNumber(b.low)} to ${formatNumber(b.high)}: ${b.count}`).join('; ')}`}>
      {buckets.map((b, i) => {
        const h = (60 * b.count) / max;
        return <rect key={i} x={i * bar + 1} y={64 - h} width={bar - 2} height={h} className="bar" />;
      })}
      <line x1="0" x2={width} y1="64.5" y2="64.5" stroke="#8c959f" />
    </svg>
  );
}

function TopValues({ values, label }: { values: { value: string; count: number }[]; label: string }) {
  const max = Math.max(1, ...values.map((v) => v.count));
  return (
    <table className="top-values" aria-label={label}>
      <tbody>
        {values.map((v) => (
          <tr key={v.value}>
            <th scope="row">{v.value}</th>
            <td>
              <span className="hbar" style={{ width: `${(80 * v.count) / max}px` }} />
              {v.count.toLocaleString('en')}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
