/** Dataset versions, newest first, with the run that made each; paged and filtered on the server. */
import { Link, useSearchParams } from 'react-router';
import { LOOM, get, type DatasetVersion } from '../api';
import { NextPage, Show, formatTime, useApi } from '../components/common';

export function Datasets() {
  const [params, setParams] = useSearchParams();
  const page = params.get('page') ?? '';
  const loaded = useApi((signal) => get<{ versions: DatasetVersion[]; next_page_token?: string }>(`${LOOM}/datasets`, { max_results: 50, page_token: page }, signal), page);
  return (
    <>
      <h1>Datasets</h1>
      <Show loaded={loaded}>
        {({ versions, next_page_token }) =>
          versions.length === 0 ? (
            <p className="muted">No dataset versions yet: a pipeline's ingest step records them.</p>
          ) : (
            <>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Version</th>
                    <th scope="col">Source</th>
                    <th scope="col">Span</th>
                    <th scope="col">Rows</th>
                    <th scope="col">Bad rows</th>
                    <th scope="col">Made by</th>
                    <th scope="col">Created</th>
                  </tr>
                </thead>
                <tbody>
                  {versions.map((v) => (
                    <tr key={v.version}>
                      <td>
                        <Link to={`/datasets/${v.version}`}>{v.version.slice(0, 12)}</Link>
                      </td>
                      <td className="small">{v.source}</td>
                      <td>{v.span ?? '—'}</td>
                      <td>
                        {Object.entries(v.rowCounts)
                          .map(([split, n]) => `${split} ${n.toLocaleString('en')}`)
                          .join(', ')}
                      </td>
                      <td>{v.badRows}</td>
                      <td>{v.madeBy?.runId ? <Link to={`/pipelines/${encodeURIComponent(v.madeBy.runId)}`}>{v.madeBy.runId}</Link> : '—'}</td>
                      <td>{formatTime(v.createdAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <NextPage token={next_page_token} go={(page) => setParams({ page })} />
            </>
          )
        }
      </Show>
    </>
  );
}
