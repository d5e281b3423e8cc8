/**
 * One dataset version: its splits and files, statistics as Facets shows them (a histogram
 * and quantiles per numeric feature, top values per string feature, the missing share), the
 * anomalies its validation found, and its quarantined rows; and, side by side with another version
 * (`?against=`), both versions' statistics and the drift of each feature as validation measures it.
 * The split and the other version are chosen in the URL.
 */
import { Link, useParams, useSearchParams } from 'react-router';
import { LOOM, get, type Bucket, type DatasetDetail as Detail, type DatasetDrift, type DatasetVersion, type FeatureStatistics } from '../api';
import { ErrorBox, Show, formatNumber, formatTime, useApi } from '../components/common';
import { DatasetModels } from '../components/DatasetModels';

export function DatasetDetail() {
  const { version = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const loaded = useApi((signal) => get<Detail>(`${LOOM}/datasets/${encodeURIComponent(version)}`, {}, signal), version);
  const against = params.get('against') ?? '';
  const others = useApi((signal) => get<{ versions: DatasetVersion[] }>(`${LOOM}/datasets`, { max_results: 200 }, signal), 'versions');
  const other = useApi((signal) => (against ? get<Detail>(`${LOOM}/datasets/${encodeURIComponent(against)}`, {}, signal) : Promise.resolve(undefined)), against);
  const choose = (changes: Record<string, string>) => {
    const next = new URLSearchParams(params);
    for (const [key, value] of Object.entries(changes)) {
      if (value) next.set(key, value);
      else next.delete(key);
    }
    setParams(next, { replace: true });
  };
  return (
    <>
      <p className="crumbs">
        <Link to="/datasets">Datasets</Link> /
      </p>
      <h1>Dataset version {version.slice(0, 12)}</h1>
      <DatasetModels version={version} />
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
                      <select id="split" value={split} onChange={(e) => choose({ split: e.target.value })}>
                        {splits.map((s) => (
                          <option key={s}>{s}</option>
                        ))}
                      </select>
                      <span className="muted">{stats?.rowCount.toLocaleString('en')} rows</span>
                      <label htmlFor="against">Compare with</label>
                      <select id="against" value={against} onChange={(e) => choose({ against: e.target.value })}>
                        <option value="">no other version</option>
                        {(others.data?.versions ?? [])
                          .filter((o) => o.version !== v.version)
                          .map((o) => (
                            <option key={o.version} value={o.version}>
                              {o.version.slice(0, 12)} ({formatTime(o.createdAt)})
                            </option>
                          ))}
                      </select>
                    </div>
                    {against && split && <DriftTable version={v.version} against={against} split={split} />}
                    {other.error && <ErrorBox error={other.error} />}
                    <div className="features">
                      {stats?.features.map((f) => {
                        const theirs = other.data?.statistics.splits[split!];
                        return <FeatureCard key={f.name} feature={f} rows={stats.rowCount} other={theirs && { feature: theirs.features.find((o) => o.name === f.name), rows: theirs.rowCount, label: against.slice(0, 12) }} />;
                      })}
                    </div>
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

/** The drift of each feature between this version and the other, as the validate step measures it. */
function DriftTable({ version, against, split }: { version: string; against: string; split: string }) {
  const drift = useApi((signal) => get<DatasetDrift>(`${LOOM}/datasets/${encodeURIComponent(version)}/drift`, { against, split }, signal), JSON.stringify([version, against, split]));
  return (
    <Show loaded={drift}>
      {(d) => (
        <table>
          <caption>
            Drift of {split} against {d.against.slice(0, 12)}
          </caption>
          <thead>
            <tr>
              <th scope="col">Feature</th>
              <th scope="col">Measure</th>
              <th scope="col">Value</th>
              <th scope="col">Threshold</th>
              <th scope="col">Verdict</th>
            </tr>
          </thead>
          <tbody>
            {d.features.map((c) => (
              <tr key={c.feature}>
                <th scope="row">{c.feature}</th>
                <td>{c.measure}</td>
                <td className="num">{c.value === null ? 'inconclusive' : formatNumber(c.value)}</td>
                <td className="num">{formatNumber(c.threshold)}</td>
                <td>
                  <span className={`badge ${c.exceeded ? 'state-failed' : 'state-complete'}`}>{c.inconclusive ? 'inconclusive' : c.exceeded ? 'drifted' : 'within threshold'}</span>
                  {c.note && <span className="small"> {c.note}</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Show>
  );
}

/** A feature's statistics; with `other`, the other version's beside them. */
function FeatureCard({ feature, rows, other }: { feature: FeatureStatistics; rows: number; other?: { feature?: FeatureStatistics; rows: number; label: string } }) {
  if (!other) return <FeatureFacts feature={feature} rows={rows} />;
  return (
    <div className="card feature">
      <div className="columns">
        <FeatureFacts feature={feature} rows={rows} suffix="this version" />
        {other.feature ? <FeatureFacts feature={other.feature} rows={other.rows} suffix={other.label} /> : <p className="muted">Not in {other.label}.</p>}
      </div>
    </div>
  );
}

function FeatureFacts({ feature: f, rows, suffix }: { feature: FeatureStatistics; rows: number; suffix?: string }) {
  const missing = rows > 0 ? (100 * f.missing) / rows : 0;
  const id = `f-${f.name}${suffix ? `-${suffix.replace(/\W/g, '')}` : ''}`;
  const of = suffix ? ` (${suffix})` : '';
  return (
    <article className={suffix ? 'feature' : 'card feature'} aria-labelledby={id}>
      <h3 id={id}>
        {f.name} <span className="muted small">{f.type}{of}</span>
      </h3>
      <p className="small">
        missing {missing.toFixed(1)}%{f.string && ` · ${f.string.unique.toLocaleString('en')} unique`}
      </p>
      {f.numeric && (
        <>
          <Histogram buckets={f.numeric.histogram} label={`Histogram of ${f.name}${of}`} />
          <p className="small">
            mean {formatNumber(f.numeric.mean)} · std {formatNumber(f.numeric.std)} · min {formatNumber(f.numeric.min)} · median {formatNumber(f.numeric.median)} · max {formatNumber(f.numeric.max)}
          </p>
          <p className="small">{f.numeric.quantiles.map((q) => `p${Math.round(q.q * 100)} ${formatNumber(q.value)}`).join(' · ')}</p>
        </>
      )}
      {f.string && <TopValues values={f.string.topValues.slice(0, 8)} label={`Top values of ${f.name}${of}`} />}
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
