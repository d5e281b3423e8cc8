/**
 * One tracking run: its parameters, latest metrics and every metric's history as a curve
 * (uPlot). Histories come from Loom's columnar route, downsampled on the server to what a
 * chart can show (min and max per bucket, so spikes stay), so a 100,000-point run loads a
 * few thousand points. A running run is polled, so its curves grow as it trains.
 */
import { useEffect, useMemo } from 'react';
import { Link, useParams } from 'react-router';
import { MLFLOW, get, type Run } from '../api';
import { LineChart } from '../components/Chart';
import { Show, StateBadge, formatNumber, formatTime, useApi } from '../components/common';
import { metricSeries } from '../history';

export function RunDetail() {
  const { experimentId = '', runId = '' } = useParams();
  const run = useApi((signal) => get<{ run: Run }>(`${MLFLOW}/runs/get`, { run_id: runId }, signal), runId);
  const keys = useMemo(() => [...new Set((run.data?.run.data.metrics ?? []).map((m) => m.key))].sort(), [run.data]);
  const curves = useApi((signal) => Promise.all(keys.map((key) => metricSeries(runId, key, signal))), JSON.stringify([runId, keys, (run.data?.run.data.metrics ?? []).map((m) => m.timestamp)]));
  const running = run.data?.run.info.status === 'RUNNING';
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(run.reload, 3000);
    return () => clearInterval(timer);
  }, [running, run.reload]);

  return (
    <>
      <p className="crumbs">
        <Link to="/experiments">Experiments</Link> / <Link to={`/experiments/${experimentId}`}>Runs</Link> /
      </p>
      <Show loaded={run}>
        {({ run: r }) => (
          <>
            <h1>
              {r.info.run_name || r.info.run_id} <StateBadge state={r.info.status} />
            </h1>
            <dl className="facts">
              <dt>Run id</dt>
              <dd>{r.info.run_id}</dd>
              <dt>Started</dt>
              <dd>{formatTime(r.info.start_time)}</dd>
              <dt>Ended</dt>
              <dd>{formatTime(r.info.end_time)}</dd>
              <dt>User</dt>
              <dd>{r.info.user_id || '—'}</dd>
            </dl>
            <div className="columns">
              <section aria-labelledby="params-h">
                <h2 id="params-h">Parameters</h2>
                <table>
                  <tbody>
                    {(r.data.params ?? []).map((p) => (
                      <tr key={p.key}>
                        <th scope="row">{p.key}</th>
                        <td>{p.value}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </section>
              <section aria-labelledby="metrics-h">
                <h2 id="metrics-h">Metrics (latest)</h2>
                <table>
                  <tbody>
                    {(r.data.metrics ?? []).map((m) => (
                      <tr key={m.key}>
                        <th scope="row">{m.key}</th>
                        <td className="num">{formatNumber(m.value)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </section>
            </div>
          </>
        )}
      </Show>
      <h2>Metric curves</h2>
      <Show loaded={curves}>
        {(series) =>
          series.length === 0 ? (
            <p className="muted">This run logged no metrics.</p>
          ) : (
            <div className="charts">
              {series.map((s) => (
                <section key={s.label} aria-label={`${s.label} by step`}>
                  <h3>{s.label}</h3>
                  <LineChart title={s.label} series={[s]} xLabel="step" />
                </section>
              ))}
            </div>
          )
        }
      </Show>
    </>
  );
}
