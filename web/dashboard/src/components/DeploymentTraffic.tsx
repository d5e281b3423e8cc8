/**
 * How a deployed model is doing: its traffic, errors and latency per version and serving role over time
 * (from the prediction log, `/api/loom/deployments/:name/traffic`) and the canary decisions taken
 * on it (`/canary-decisions`: both sides' figures and the outcome). The Deployments page shows
 * them for the model chosen.
 */
import { useMemo } from 'react';
import { LOOM, get, type CanaryDecisionRecord, type DeploymentTraffic, type TrafficSeries } from '../api';
import { LineChart, type Series } from './Chart';
import { Show, formatNumber, formatTime, useApi } from './common';

export const seconds = (ms: number[]) => ms.map((t) => t / 1000);
const nameOf = (s: TrafficSeries) => `v${s.version} ${s.role}`;
export const percent = (share: number) => `${Math.round(share * 1000) / 10}%`;
/** A window without a figure (every request failed) is a gap in a chart and a dash in a table. */
export const gapped = (values: (number | null)[]) => values.map((v) => v ?? NaN);
const orDash = (value: number | null) => (value === null ? '—' : formatNumber(value));

/** The share of requests each side answers, in words: "primary 80% / canary 20% (split by hash)". */
export function trafficSplit(d: { canary: { weight: number } | null; shadow: string | null; split: string }): string {
  const split = d.canary ? `primary ${percent(1 - d.canary.weight)} / canary ${percent(d.canary.weight)} (split by ${d.split})` : 'primary 100%';
  return d.shadow ? `${split}; shadow gets a copy of every request` : split;
}

export function DeploymentTrafficSection({ model, window, onWindow }: { model: string; window: 'hourly' | 'daily'; onWindow(window: 'hourly' | 'daily'): void }) {
  const traffic = useApi((signal) => get<DeploymentTraffic>(`${LOOM}/deployments/${encodeURIComponent(model)}/traffic`, { window }, signal), JSON.stringify([model, window]));
  return (
    <section aria-labelledby="traffic-h">
      <h2 id="traffic-h">Traffic and latency of {model}</h2>
      <div className="filter">
        <label htmlFor="traffic-window">Window</label>
        <select id="traffic-window" value={window} onChange={(e) => onWindow(e.target.value as 'hourly' | 'daily')}>
          <option value="daily">daily</option>
          <option value="hourly">hourly</option>
        </select>
      </div>
      <p className="muted">
        From the prediction log: the requests each version answered in each role, their latency as the server timed them, and the requests that failed once they reached the version
        (4xx: a body it could not read; 5xx: a failed run). Requests refused before that (an unknown model, no permission) are counted only in{' '}
        <code>loom_serve_request_errors_total</code> on each server&apos;s <code>/metrics</code>.
      </p>
      <Show loaded={traffic}>{(t) => (t.series.length === 0 ? <p className="muted">No logged traffic for {model}.</p> : <TrafficCharts traffic={t} />)}</Show>
    </section>
  );
}

function TrafficCharts({ traffic }: { traffic: DeploymentTraffic }) {
  const charts = useMemo(() => {
    const requests = traffic.series.map((s): Series => ({ label: nameOf(s), x: seconds(s.starts), y: s.requests }));
    const latency = traffic.series.flatMap((s): Series[] => [
      { label: `${nameOf(s)} p50`, x: seconds(s.starts), y: gapped(s.p50) },
      { label: `${nameOf(s)} p95`, x: seconds(s.starts), y: gapped(s.p95) },
    ]);
    const errors = traffic.series.map((s): Series => ({ label: nameOf(s), x: seconds(s.starts), y: s.errorShare.map((share) => share * 100) }));
    return { requests, latency, errors };
  }, [traffic]);
  const rows = traffic.series.flatMap((s) => s.starts.map((start, i) => ({ s, start, i }))).sort((a, b) => a.start - b.start || nameOf(a.s).localeCompare(nameOf(b.s)));
  return (
    <>
      {traffic.skipped.length > 0 && <p className="muted">{traffic.skipped.length} log file(s) could not be read and are left out.</p>}
      <div className="charts">
        <div>
          <h3>Requests per {traffic.window === 'daily' ? 'day' : 'hour'}</h3>
          <LineChart title="Requests per window" series={charts.requests} xLabel="window start" time height={200} />
        </div>
        <div>
          <h3>Latency (ms)</h3>
          <LineChart title="Latency per window" series={charts.latency} xLabel="window start" time height={200} />
        </div>
        <div>
          <h3>Failed requests (%)</h3>
          <LineChart title="Failed requests per window" series={charts.errors} xLabel="window start" time height={200} />
        </div>
      </div>
      <table>
        <caption>Traffic per window</caption>
        <thead>
          <tr>
            <th scope="col">Window start</th>
            <th scope="col">Version and role</th>
            <th scope="col">Requests</th>
            <th scope="col">Rows</th>
            <th scope="col">p50 ms</th>
            <th scope="col">p95 ms</th>
            <th scope="col">Max ms</th>
            <th scope="col">Failed 4xx</th>
            <th scope="col">Failed 5xx</th>
            <th scope="col">Failed share</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(({ s, start, i }) => (
            <tr key={`${nameOf(s)}/${start}`}>
              <th scope="row">{formatTime(start)}</th>
              <td>{nameOf(s)}</td>
              <td className="num">{formatNumber(s.requests[i]!)}</td>
              <td className="num">{formatNumber(s.rows[i]!)}</td>
              <td className="num">{orDash(s.p50[i] ?? null)}</td>
              <td className="num">{orDash(s.p95[i] ?? null)}</td>
              <td className="num">{orDash(s.max[i] ?? null)}</td>
              <td className="num">{formatNumber(s.clientErrors[i]!)}</td>
              <td className="num">{formatNumber(s.serverErrors[i]!)}</td>
              <td className="num">{percent(s.errorShare[i]!)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

const OUTCOME = { promote: 'promoted', rollback: 'rolled back', hold: 'held' } as Record<string, string>;
const figure = (value: number | null) => (value === null ? 'n/a' : formatNumber(value));

export function CanaryDecisions({ model }: { model: string }) {
  const decisions = useApi((signal) => get<{ decisions: CanaryDecisionRecord[] }>(`${LOOM}/deployments/${encodeURIComponent(model)}/canary-decisions`, {}, signal), model);
  return (
    <section aria-labelledby="canary-h">
      <h2 id="canary-h">Canary decisions of {model}</h2>
      <Show loaded={decisions}>
        {({ decisions: list }) =>
          list.length === 0 ? (
            <p className="muted">No canary decided yet: the canary stage records one when it promotes or rolls back a canary (`loom demo --loop` runs it).</p>
          ) : (
            <table>
              <caption>Canary against primary over the same window</caption>
              <thead>
                <tr>
                  <th scope="col">Window</th>
                  <th scope="col">Canary</th>
                  <th scope="col">Primary</th>
                  <th scope="col">Metric</th>
                  <th scope="col">Canary value</th>
                  <th scope="col">Primary value</th>
                  <th scope="col">Rows canary / primary</th>
                  <th scope="col">Labelled canary / primary</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Why</th>
                </tr>
              </thead>
              <tbody>
                {list.map((d) => (
                  <tr key={d.artifactId} data-decision={d.artifactId}>
                    <td>
                      {formatTime(d.windowStart)} – {formatTime(d.windowEnd)}
                    </td>
                    <th scope="row">v{d.canaryVersion}</th>
                    <td>v{d.primaryVersion}</td>
                    <td>
                      {d.basis} {d.metric}
                    </td>
                    <td className="num">{figure(d.canaryValue)}</td>
                    <td className="num">{figure(d.primaryValue)}</td>
                    <td className="num">{d.canary && d.primary ? `${formatNumber(d.canary.rows)} / ${formatNumber(d.primary.rows)}` : '—'}</td>
                    <td className="num">{d.canary && d.primary ? `${formatNumber(d.canary.labelled)} / ${formatNumber(d.primary.labelled)}` : '—'}</td>
                    <td>
                      <span className={`badge state-${d.outcome === 'promote' ? 'complete' : d.outcome === 'rollback' ? 'failed' : 'pending'}`}>{OUTCOME[d.outcome] ?? d.outcome}</span>
                      {d.aliasMoved ? ' (alias moved)' : ''}
                    </td>
                    <td>{d.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Show>
    </section>
  );
}
