/**
 * An experiment's runs as a table: MLflow's search syntax in the filter box, a click on a
 * column orders by it, and pages come from the server (`runs/search` with a page token), so
 * 10,000 runs cost what 50 do. Filter, order and page live in the URL: a view can be shared.
 */
import { useState, type FormEvent } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { MLFLOW, get, post, type Experiment, type Run } from '../api';
import { Show, StateBadge, formatDuration, formatNumber, formatTime, useApi } from '../components/common';

const PAGE_SIZE = 50;

/** The column an order_by clause names, as MLflow writes it: metrics.`name`. */
const orderKey = (kind: 'metrics' | 'params' | 'attributes', name: string) => `${kind}.\`${name}\``;

export function ExperimentRuns() {
  const { experimentId = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const filter = params.get('filter') ?? '';
  const order = params.get('order') ?? '';
  const token = params.get('page') ?? '';
  const [draft, setDraft] = useState(filter);
  const experiment = useApi((signal) => get<{ experiment: Experiment }>(`${MLFLOW}/experiments/get`, { experiment_id: experimentId }, signal), experimentId);
  const runs = useApi(
    (signal) =>
      post<{ runs?: Run[]; next_page_token?: string }>(
        `${MLFLOW}/runs/search`,
        { experiment_ids: [experimentId], filter, order_by: order ? [order] : [], max_results: PAGE_SIZE, page_token: token || undefined },
        signal,
      ),
    JSON.stringify([experimentId, filter, order, token]),
  );
  const update = (changes: Record<string, string>) => {
    const next = new URLSearchParams(params);
    for (const [key, value] of Object.entries(changes)) {
      if (value) next.set(key, value);
      else next.delete(key);
    }
    setParams(next);
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    update({ filter: draft.trim(), page: '' });
  };
  const sortBy = (key: string) => {
    const [current, direction] = order.split(' ');
    update({ order: current === key && direction === 'DESC' ? `${key} ASC` : `${key} DESC`, page: '' });
  };
  const sortMark = (key: string) => (order.startsWith(`${key} `) ? (order.endsWith('ASC') ? 'ascending' : 'descending') : 'none');

  return (
    <>
      <p className="crumbs">
        <Link to="/experiments">Experiments</Link> /
      </p>
      <h1>{experiment.data?.experiment.name ?? `Experiment ${experimentId}`}</h1>
      <form className="filter" onSubmit={submit} role="search">
        <label htmlFor="run-filter">Filter runs</label>
        <input id="run-filter" value={draft} onChange={(e) => setDraft(e.target.value)} placeholder="metrics.rmse < 10 and params.algorithm = 'linear'" size={60} />
        <button type="submit">Apply</button>
        {filter && (
          <button
            type="button"
            onClick={() => {
              setDraft('');
              update({ filter: '', page: '' });
            }}
          >
            Clear
          </button>
        )}
      </form>
      <Show loaded={runs}>
        {({ runs: items = [], next_page_token }) => {
          const metricKeys = [...new Set(items.flatMap((r) => (r.data.metrics ?? []).map((m) => m.key)))].sort().slice(0, 12);
          const paramKeys = [...new Set(items.flatMap((r) => (r.data.params ?? []).map((p) => p.key)))].sort().slice(0, 8);
          const header = (label: string, key: string) => (
            <th scope="col" aria-sort={sortMark(key)}>
              <button type="button" className="sort" onClick={() => sortBy(key)}>
                {label}
                {sortMark(key) === 'ascending' ? ' ▲' : sortMark(key) === 'descending' ? ' ▼' : ''}
              </button>
            </th>
          );
          return (
            <>
              <p className="muted" data-testid="run-count">
                {items.length} {items.length === 1 ? 'run' : 'runs'} on this page{token ? ' (not the first)' : ''}
              </p>
              <div className="scroll">
                <table className="runs">
                  <thead>
                    <tr>
                      {header('Run', orderKey('attributes', 'run_name'))}
                      {header('Status', orderKey('attributes', 'status'))}
                      {header('Started', orderKey('attributes', 'start_time'))}
                      <th scope="col">Duration</th>
                      {metricKeys.map((k) => header(k, orderKey('metrics', k)))}
                      {paramKeys.map((k) => header(k, orderKey('params', k)))}
                    </tr>
                  </thead>
                  <tbody>
                    {items.map((run) => {
                      const metrics = new Map((run.data.metrics ?? []).map((m) => [m.key, m.value]));
                      const values = new Map((run.data.params ?? []).map((p) => [p.key, p.value]));
                      return (
                        <tr key={run.info.run_id}>
                          <td>
                            <Link to={`/experiments/${experimentId}/runs/${run.info.run_id}`}>{run.info.run_name || run.info.run_id}</Link>
                          </td>
                          <td>
                            <StateBadge state={run.info.status} />
                          </td>
                          <td>{formatTime(run.info.start_time)}</td>
                          <td>{run.info.end_time ? formatDuration(run.info.end_time - run.info.start_time) : '—'}</td>
                          {metricKeys.map((k) => (
                            <td key={k} className="num">
                              {formatNumber(metrics.get(k))}
                            </td>
                          ))}
                          {paramKeys.map((k) => (
                            <td key={k}>{values.get(k) ?? ''}</td>
                          ))}
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
              <nav className="pager" aria-label="Pages">
                {token && (
                  <button type="button" onClick={() => window.history.back()}>
                    Previous page
                  </button>
                )}
                {next_page_token && (
                  <button type="button" onClick={() => update({ page: next_page_token })}>
                    Next page
                  </button>
                )}
              </nav>
            </>
          );
        }}
      </Show>
    </>
  );
}
