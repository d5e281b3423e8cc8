/**
 * Runs side by side: `?runs=<id>,<id>,…` (up to 100, as chosen in the runs table) or
 * `?study=<run id>` (the trials of a `loom tune` study: the nested runs whose
 * `mlflow.parentRunId` tag names the study's run). Shows their parameters and latest metrics
 * in one table (a row per key, a column per run, differing rows marked), one metric's curves
 * overlaid (each downsampled on the server) and parallel coordinates of the parameters
 * against that metric. The chosen metric is `?metric=` in the URL, so every view is shareable.
 */
import { Link, useParams, useSearchParams } from 'react-router';
import { MLFLOW, get, post, type Run } from '../api';
import { LineChart } from '../components/Chart';
import { ParallelCoordinates } from '../components/ParallelCoordinates';
import { Table, type Column } from '../components/Table';
import { Show, formatNumber, useApi } from '../components/common';
import { metricSeries } from '../history';

/** The most runs one view compares (the issue's 100; also one search page). */
export const MAX_COMPARED = 100;
/** Points per overlaid curve: 100 curves of 1,000 points stay quick to draw. */
const OVERLAY_POINTS = 1000;
/** MLflow's tag naming a nested run's parent, which `loom tune` sets on every trial. */
const PARENT_TAG = 'mlflow.parentRunId';

/** Run ids are hex or word characters: anything else is dropped before it reaches a filter. */
export const parseRunIds = (raw: string | null) => [...new Set((raw ?? '').split(',').filter((id) => /^[\w-]+$/.test(id)))].slice(0, MAX_COMPARED);

async function loadRuns(experimentId: string, ids: string[], study: string, signal: AbortSignal): Promise<Run[]> {
  if (!study && ids.length === 0) return [];
  const filter = study ? `tags.\`${PARENT_TAG}\` = '${study}'` : `attributes.run_id IN (${ids.map((id) => `'${id}'`).join(', ')})`;
  const page = await post<{ runs?: Run[] }>(`${MLFLOW}/runs/search`, { experiment_ids: [experimentId], filter, max_results: MAX_COMPARED, order_by: ['attributes.start_time ASC'] }, signal);
  const runs = page.runs ?? [];
  // The chosen order is the URL's; a study's trials come in the order they started.
  return study ? runs : ids.map((id) => runs.find((r) => r.info.run_id === id)).filter((r): r is Run => r !== undefined);
}

const withMetric = (search: URLSearchParams, metric: string) => {
  const next = new URLSearchParams(search);
  next.set('metric', metric);
  return next;
};
const nameOf = (run: Run) => run.info.run_name || run.info.run_id.slice(0, 8);
const keysOf = (runs: Run[], part: 'params' | 'metrics') => [...new Set(runs.flatMap((r) => (r.data[part] ?? []).map((kv) => kv.key)))].sort();

export function CompareRuns() {
  const { experimentId = '' } = useParams();
  const [search, setSearch] = useSearchParams();
  const ids = parseRunIds(search.get('runs'));
  const study = /^[\w-]+$/.test(search.get('study') ?? '') ? search.get('study')! : '';
  const runs = useApi((signal) => loadRuns(experimentId, ids, study, signal), JSON.stringify([experimentId, ids, study]));
  const studyRun = useApi((signal) => (study ? get<{ run: Run }>(`${MLFLOW}/runs/get`, { run_id: study }, signal) : Promise.resolve(undefined)), study);

  return (
    <>
      <p className="crumbs">
        <Link to="/experiments">Experiments</Link> / <Link to={`/experiments/${experimentId}`}>Runs</Link> /
      </p>
      <h1>{study ? `Tuning study ${studyRun.data ? nameOf(studyRun.data.run) : study}` : 'Compare runs'}</h1>
      <Show loaded={runs}>
        {(items) =>
          items.length === 0 ? (
            <p className="muted">{study ? 'This run has no trials (nested runs).' : 'No runs chosen: tick up to 100 runs in the runs table, then press Compare.'}</p>
          ) : (
            <Compared runs={items} metric={search.get('metric') ?? ''} study={Boolean(study)} chooseMetric={(metric) => setSearch(withMetric(search, metric), { replace: true })} />
          )
        }
      </Show>
    </>
  );
}

function Compared({ runs, metric, study, chooseMetric }: { runs: Run[]; metric: string; study: boolean; chooseMetric: (m: string) => void }) {
  const paramKeys = keysOf(runs, 'params');
  const metricKeys = keysOf(runs, 'metrics');
  const chosen = metricKeys.includes(metric) ? metric : metricKeys[0] ?? '';
  const valueOf = (run: Run, part: 'params' | 'metrics', key: string) => (run.data[part] ?? []).find((kv) => kv.key === key)?.value;
  // Parameters that vary are the ones worth an axis; all of them when none vary.
  const varying = paramKeys.filter((k) => new Set(runs.map((r) => valueOf(r, 'params', k))).size > 1);
  const rows = [...paramKeys.map((key) => ({ part: 'params' as const, key })), ...metricKeys.map((key) => ({ part: 'metrics' as const, key }))];
  const columns: Column<(typeof rows)[number]>[] = [
    { key: ' kind', header: 'Kind', cell: (row) => (row.part === 'params' ? 'param' : 'metric') },
    { key: ' key', header: 'Key', rowHeader: true, cell: (row) => row.key },
    ...runs.map((run) => ({
      key: run.info.run_id,
      header: <Link to={`/experiments/${run.info.experiment_id}/runs/${run.info.run_id}`}>{nameOf(run)}</Link>,
      numeric: true,
      cell: (row: (typeof rows)[number]) => (row.part === 'params' ? valueOf(run, 'params', row.key) ?? '' : formatNumber(valueOf(run, 'metrics', row.key))),
    })),
  ];
  return (
    <>
      <p className="muted" data-testid="compared-count">
        {runs.length} {runs.length === 1 ? 'run' : 'runs'}
        {study && runs.length === MAX_COMPARED ? ` (the first ${MAX_COMPARED} trials)` : ''}
      </p>
      {metricKeys.length > 0 && (
        <div className="filter">
          <label htmlFor="compare-metric">Metric</label>
          <select id="compare-metric" value={chosen} onChange={(e) => chooseMetric(e.target.value)}>
            {metricKeys.map((k) => (
              <option key={k}>{k}</option>
            ))}
          </select>
        </div>
      )}
      {chosen && (
        <section aria-labelledby="pc-h">
          <h2 id="pc-h">Parameters against {chosen}</h2>
          {paramKeys.length === 0 ? (
            <p className="muted">These runs logged no parameters.</p>
          ) : (
            <div className="scroll">
              <ParallelCoordinates
                metricKey={chosen}
                paramKeys={varying.length > 0 ? varying : paramKeys}
                runs={runs.map((r) => ({ id: r.info.run_id, label: nameOf(r), params: Object.fromEntries((r.data.params ?? []).map((p) => [p.key, p.value])), metric: numeric(valueOf(r, 'metrics', chosen)) }))}
              />
            </div>
          )}
          <h2>{chosen} by step</h2>
          <Curves runs={runs} metric={chosen} />
        </section>
      )}
      <h2>Side by side</h2>
      <div className="scroll">
        <Table className="compare" label="Parameters and latest metrics by run" rows={rows} rowKey={(row) => `${row.part}:${row.key}`} columns={columns} />
      </div>
    </>
  );
}

const numeric = (value: number | string | undefined) => (value === undefined ? undefined : Number(value));

function Curves({ runs, metric }: { runs: Run[]; metric: string }) {
  const logged = runs.filter((r) => (r.data.metrics ?? []).some((m) => m.key === metric));
  const curves = useApi((signal) => Promise.all(logged.map((r) => metricSeries(r.info.run_id, metric, signal, { label: nameOf(r), maxPoints: OVERLAY_POINTS }))), JSON.stringify([metric, logged.map((r) => r.info.run_id)]));
  return <Show loaded={curves}>{(series) => <LineChart title={`${metric} of ${series.length} runs`} series={series} xLabel="step" height={320} />}</Show>;
}
