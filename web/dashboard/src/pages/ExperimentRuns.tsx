/**
 * An experiment's runs as a table: MLflow's search syntax in the filter box, a click on a
 * column orders by it, and pages come from the server (`runs/search` with a page token), so
 * 10,000 runs cost what 50 do. Filter, order and page live in the URL: a view can be shared.
 * Ticked runs (up to 100, kept in the URL's `selected` across pages) open side by side in the
 * compare view.
 */
import { useState, type FormEvent, type ReactNode } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { MLFLOW, get, post, type Experiment, type Run } from '../api';
import { Table, type Column } from '../components/Table';
import { Show, StateBadge, formatDuration, formatNumber, formatTime, useApi } from '../components/common';
import { MAX_COMPARED, parseRunIds } from './CompareRuns';

const PAGE_SIZE = 50;

/** The column an order_by clause names, as MLflow writes it: metrics.`name`. */
const orderKey = (kind: 'metrics' | 'params' | 'attributes', name: string) => `${kind}.\`${name}\``;

export function ExperimentRuns() {
  const { experimentId = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const filter = params.get('filter') ?? '';
  const order = params.get('order') ?? '';
  const token = params.get('page') ?? '';
  const selected = parseRunIds(params.get('selected'));
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
  const update = (changes: Record<string, string>, options?: { replace: boolean }) => {
    const next = new URLSearchParams(params);
    for (const [key, value] of Object.entries(changes)) {
      if (value) next.set(key, value);
      else next.delete(key);
    }
    setParams(next, options);
  };
  // A tick replaces the history entry: back leaves the table rather than unticking one by one.
  const toggle = (runId: string, on: boolean) => update({ selected: (on ? [...selected, runId] : selected.filter((id) => id !== runId)).join(',') }, { replace: true });
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
            <button type="button" className="sort" onClick={() => sortBy(key)}>
              {label}
              {sortMark(key) === 'ascending' ? ' ▲' : sortMark(key) === 'descending' ? ' ▼' : ''}
            </button>
          );
          const sortable = (key: string, label: string, sortKey: string, cell: (run: Run) => ReactNode, numeric = false): Column<Run> => ({ key, header: header(label, sortKey), sort: sortMark(sortKey), cell, numeric });
          const metricOf = (run: Run, k: string) => (run.data.metrics ?? []).find((m) => m.key === k)?.value;
          const paramOf = (run: Run, k: string) => (run.data.params ?? []).find((p) => p.key === k)?.value ?? '';
          const columns: Column<Run>[] = [
            {
              key: ' select',
              header: <span className="visually-hidden">Compare</span>,
              cell: (run) => {
                const on = selected.includes(run.info.run_id);
                return <input type="checkbox" aria-label={`Select ${run.info.run_name || run.info.run_id} to compare`} checked={on} disabled={!on && selected.length >= MAX_COMPARED} onChange={(e) => toggle(run.info.run_id, e.target.checked)} />;
              },
            },
            sortable(' run', 'Run', orderKey('attributes', 'run_name'), (run) => <Link to={`/experiments/${experimentId}/runs/${run.info.run_id}`}>{run.info.run_name || run.info.run_id}</Link>),
            sortable(' status', 'Status', orderKey('attributes', 'status'), (run) => <StateBadge state={run.info.status} />),
            sortable(' started', 'Started', orderKey('attributes', 'start_time'), (run) => formatTime(run.info.start_time)),
            { key: ' duration', header: 'Duration', cell: (run) => (run.info.end_time ? formatDuration(run.info.end_time - run.info.start_time) : '—') },
            ...metricKeys.map((k) => sortable(`m:${k}`, k, orderKey('metrics', k), (run) => formatNumber(metricOf(run, k)), true)),
            ...paramKeys.map((k) => sortable(`p:${k}`, k, orderKey('params', k), (run) => paramOf(run, k))),
          ];
          return (
            <>
              <p className="muted" data-testid="run-count">
                {items.length} {items.length === 1 ? 'run' : 'runs'} on this page{token ? ' (not the first)' : ''}
              </p>
              <div className="filter">
                {selected.length === 0 ? (
                  <button type="button" disabled>
                    Compare 0 selected
                  </button>
                ) : (
                  <Link className="button" to={`/experiments/${experimentId}/compare?runs=${selected.join(',')}`}>
                    Compare {selected.length} selected
                  </Link>
                )}
                {selected.length > 0 && (
                  <button type="button" onClick={() => update({ selected: '' }, { replace: true })}>
                    Clear selection
                  </button>
                )}
                <span className="muted small">up to {MAX_COMPARED} runs, across pages</span>
              </div>
              <div className="scroll">
                <Table className="runs" rows={items} rowKey={(run) => run.info.run_id} columns={columns} />
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
