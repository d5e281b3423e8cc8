/**
 * A deployed model's shadow against the answers served over the same requests
 * (`/api/loom/deployments/:name/shadow`): per window, the rows compared, each output's agreement
 * (labels) or mean absolute difference (scores), and both sides' latency. The Deployments page
 * shows it for the model chosen, with the traffic section's window.
 */
import { useMemo } from 'react';
import { LOOM, get, type ShadowComparison, type ShadowResults } from '../api';
import { LineChart, type Series } from './Chart';
import { gapped, percent, seconds } from './DeploymentTraffic';
import { Show, formatNumber, formatTime, useApi } from './common';

const nameOf = (c: ShadowComparison) => `shadow v${c.shadowVersion} vs v${c.servedVersion} ${c.servedRole}`;
const measureOf = (kind: 'label' | 'score') => (kind === 'label' ? 'agreement' : 'mean |difference|');

export function ShadowResultsSection({ model, window }: { model: string; window: 'hourly' | 'daily' }) {
  const shadow = useApi((signal) => get<ShadowResults>(`${LOOM}/deployments/${encodeURIComponent(model)}/shadow`, { window }, signal), JSON.stringify([model, window]));
  return (
    <section aria-labelledby="shadow-h">
      <h2 id="shadow-h">Shadow results of {model}</h2>
      <p className="muted">
        A shadow answers a copy of each request after the client has its answer; here its answers are paired with the served ones of the same request and rows: how often a label agrees,
        how far a score is off, and both sides&apos; latency.
      </p>
      <Show loaded={shadow}>
        {(s) => (s.comparisons.length === 0 ? <p className="muted">No shadow answers logged for {model}: `loom deploy --shadow` adds a shadow.</p> : <ShadowTables results={s} />)}
      </Show>
    </section>
  );
}

function ShadowTables({ results }: { results: ShadowResults }) {
  const charts = useMemo(
    () =>
      results.comparisons.flatMap((c) =>
        c.outputs.map((o): Series => ({ label: `${nameOf(c)}: ${o.name} ${measureOf(o.kind)}`, x: seconds(c.starts), y: gapped(o.values) })),
      ),
    [results],
  );
  const outputs = [...new Map(results.comparisons.flatMap((c) => c.outputs.map((o) => [o.name, o.kind] as const))).entries()];
  const rows = results.comparisons.flatMap((c) => c.starts.map((start, i) => ({ c, start, i }))).sort((a, b) => a.start - b.start || nameOf(a.c).localeCompare(nameOf(b.c)));
  const figure = (c: ShadowComparison, name: string, i: number) => {
    const output = c.outputs.find((o) => o.name === name);
    const value = output?.values[i];
    if (output === undefined || value === null || value === undefined) return '—';
    return output.kind === 'label' ? percent(value) : formatNumber(value);
  };
  return (
    <>
      {results.skipped.length > 0 && <p className="muted">{results.skipped.length} log file(s) could not be read and are left out.</p>}
      <div className="charts">
        <div>
          <h3>Shadow against served, per {results.window === 'daily' ? 'day' : 'hour'}</h3>
          <LineChart title="Shadow agreement and difference per window" series={charts} xLabel="window start" time height={200} />
        </div>
      </div>
      <table>
        <caption>Shadow against served answers over the same requests</caption>
        <thead>
          <tr>
            <th scope="col">Window start</th>
            <th scope="col">Shadow and served</th>
            <th scope="col">Rows compared</th>
            <th scope="col">Requests</th>
            {outputs.map(([name, kind]) => (
              <th scope="col" key={name}>
                {name} {measureOf(kind)}
              </th>
            ))}
            <th scope="col">Shadow p50 / p95 ms</th>
            <th scope="col">Served p50 / p95 ms</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(({ c, start, i }) => (
            <tr key={`${nameOf(c)}/${start}`} data-shadow={`${c.shadowVersion}/${c.servedVersion}/${c.servedRole}`}>
              <th scope="row">{formatTime(start)}</th>
              <td>{nameOf(c)}</td>
              <td className="num">{formatNumber(c.rows[i]!)}</td>
              <td className="num">{formatNumber(c.requests[i]!)}</td>
              {outputs.map(([name]) => (
                <td className="num" key={name}>
                  {figure(c, name, i)}
                </td>
              ))}
              <td className="num">
                {formatNumber(c.shadowP50[i]!)} / {formatNumber(c.shadowP95[i]!)}
              </td>
              <td className="num">
                {formatNumber(c.servedP50[i]!)} / {formatNumber(c.servedP95[i]!)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
