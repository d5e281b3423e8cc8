/**
 * One tracking run: its parameters, latest metrics and every metric's history as a curve
 * (uPlot). Histories come from Loom's columnar route, every key in one request made beside
 * the run's, downsampled in the database to what a chart can show (min and max per bucket,
 * so spikes stay), so a 100,000-point run loads a few thousand points. A running run is
 * polled, so its curves grow as it trains.
 */
import { useEffect, useRef } from 'react';
import { Link, useParams } from 'react-router';
import { MLFLOW, get, type Run } from '../api';
import { LineChart } from '../components/Chart';
import { Table } from '../components/Table';
import { Show, StateBadge, formatNumber, formatTime, useApi } from '../components/common';
import { runMetricSeries } from '../history';

const tagOf = (run: Run, key: string) => (run.data.tags ?? []).find((t) => t.key === key)?.value;

export function RunDetail() {
  const { experimentId = '', runId = '' } = useParams();
  // The run and its curves are asked for at once: the curves' route finds the metric keys itself.
  const run = useApi((signal) => get<{ run: Run }>(`${MLFLOW}/runs/get`, { run_id: runId }, signal), runId);
  const curves = useApi((signal) => runMetricSeries(runId, signal), runId);
  const running = run.data?.run.info.status === 'RUNNING';
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(run.reload, 3000);
    return () => clearInterval(timer);
  }, [running, run.reload]);
  // A poll of the run that shows new points reads the curves again (not the first answer: the
  // curves were asked for beside it). Keyed by the answer's own run id, as the URL's changes first.
  const shownRun = run.data?.run.info.run_id;
  const shownPoints = run.data && JSON.stringify((run.data.run.data.metrics ?? []).map((m) => [m.key, m.step, m.timestamp]));
  const shown = useRef<{ runId?: string; points?: string }>({});
  const { reload: reloadCurves } = curves;
  useEffect(() => {
    if (shownRun === undefined) return;
    const before = shown.current;
    shown.current = { runId: shownRun, points: shownPoints };
    if (before.runId === shownRun && before.points !== shownPoints) reloadCurves();
  }, [shownRun, shownPoints, reloadCurves]);

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
            {tagOf(r, 'loom.best_trial') !== undefined && (
              <p>
                A tuning study (best trial {tagOf(r, 'loom.best_trial')}): <Link to={`/experiments/${experimentId}/compare?study=${r.info.run_id}`}>its trials side by side and as parallel coordinates</Link>
              </p>
            )}
            <div className="columns">
              <section aria-labelledby="params-h">
                <h2 id="params-h">Parameters</h2>
                <Table headless label="Parameters" rows={r.data.params ?? []} rowKey={(p) => p.key} columns={[{ key: 'key', header: 'Key', rowHeader: true, cell: (p) => p.key }, { key: 'value', header: 'Value', cell: (p) => p.value }]} />
              </section>
              <section aria-labelledby="metrics-h">
                <h2 id="metrics-h">Metrics (latest)</h2>
                <Table headless label="Latest metrics" rows={r.data.metrics ?? []} rowKey={(m) => m.key} columns={[{ key: 'key', header: 'Key', rowHeader: true, cell: (m) => m.key }, { key: 'value', header: 'Value', numeric: true, cell: (m) => formatNumber(m.value) }]} />
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
