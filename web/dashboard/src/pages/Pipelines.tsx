/** Pipeline runs, newest first, paged and filtered on the server; filters live in the URL. */
import { Link, useSearchParams } from 'react-router';
import { LOOM, get, type PipelineRunSummary } from '../api';
import { NextPage, Show, StateBadge, formatDuration, formatTime, useApi } from '../components/common';

const STATES = ['', 'RUNNING', 'COMPLETE', 'FAILED', 'CANCELED'];

export function Pipelines() {
  const [params, setParams] = useSearchParams();
  const state = params.get('state') ?? '';
  const page = params.get('page') ?? '';
  const runs = useApi(
    (signal) => get<{ runs: PipelineRunSummary[]; next_page_token?: string }>(`${LOOM}/pipeline-runs`, { max_results: 50, state, page_token: page }, signal),
    `${state}|${page}`,
  );
  return (
    <>
      <h1>Pipeline runs</h1>
      <div className="filter">
        <label htmlFor="state-filter">State</label>
        <select id="state-filter" value={state} onChange={(e) => setParams(e.target.value ? { state: e.target.value } : {})}>
          {STATES.map((s) => (
            <option key={s} value={s}>
              {s || 'any'}
            </option>
          ))}
        </select>
      </div>
      <Show loaded={runs}>
        {({ runs: items, next_page_token }) => (
          <>
            {items.length === 0 && <p className="muted">No pipeline runs{state ? ` in state ${state}` : ''}: `loom run pipeline.ts` records one.</p>}
            {items.length > 0 && (
              <table>
                <thead>
                  <tr>
                    <th scope="col">Run</th>
                    <th scope="col">Pipeline</th>
                    <th scope="col">State</th>
                    <th scope="col">Started</th>
                    <th scope="col">Duration</th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((r) => (
                    <tr key={r.runId}>
                      <td>
                        <Link to={`/pipelines/${encodeURIComponent(r.runId)}`}>{r.runId}</Link>
                      </td>
                      <td>{r.pipeline}</td>
                      <td>
                        <StateBadge state={r.state} />
                      </td>
                      <td>{formatTime(r.startedAt)}</td>
                      <td>{r.endedAt && r.startedAt ? formatDuration(r.endedAt - r.startedAt) : '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            <NextPage token={next_page_token} go={(page) => setParams({ ...(state ? { state } : {}), page })} />
          </>
        )}
      </Show>
    </>
  );
}
