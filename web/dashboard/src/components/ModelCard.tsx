/**
 * The model card the evaluation wrote (src/evaluate/model-card.ts), shown as a page section:
 * what was evaluated on which data, by which run, the threshold checks behind the blessing and
 * the artifacts the model came from; the recorded Markdown file is offered as a download. Only
 * recorded facts: the metrics, slices and fairness are the evaluation section above it.
 */
import { Link } from 'react-router';
import type { EvaluationDetail } from '../api';

export function ModelCard({ name, version, description, detail: d }: { name: string; version: string; description?: string; detail: EvaluationDetail }) {
  const run = d.runId && (d.pipelineRun ? <Link to={`/pipelines/${encodeURIComponent(d.runId)}`}>pipeline run {d.runId}</Link> : <>{d.runId} (loom evaluate)</>);
  const baseline = d.baseline ? `${d.baseline.name ?? ''} v${d.baseline.version ?? '?'}` : 'none';
  return (
    <section aria-labelledby="card-h" className="model-card">
      <h3 id="card-h">Model card</h3>
      {d.modelCard && (
        <p>
          <a href={`data:text/markdown;charset=utf-8,${encodeURIComponent(d.modelCard)}`} download={`${name}-v${version}-model-card.md`}>
            Download the model card (Markdown)
          </a>
        </p>
      )}
      <table className="card-facts">
        <caption>
          {name} v{version}
        </caption>
        <tbody>
          {description && (
            <tr>
              <th scope="row">Description</th>
              <td>{description}</td>
            </tr>
          )}
          <tr>
            <th scope="row">Evaluated</th>
            <td>
              {d.evaluatedAt.slice(0, 19).replace('T', ' ')} {run && <>by {run}</>}
            </td>
          </tr>
          <tr>
            <th scope="row">Data</th>
            <td>
              {d.data.contentHash ? <Link to={`/datasets/${d.data.contentHash}`}>dataset {d.data.contentHash.slice(0, 12)}</Link> : d.data.uri}, split {d.data.split}
              {d.data.span && <>, span {d.data.span}</>}
              {d.data.source && <span className="muted"> from {d.data.source}</span>}
            </td>
          </tr>
          <tr>
            <th scope="row">Task and label</th>
            <td>
              {d.task}, “{d.labelColumn}”, {d.rowCount.toLocaleString('en')} rows
            </td>
          </tr>
          <tr>
            <th scope="row">Compared with</th>
            <td>{baseline}</td>
          </tr>
          <tr>
            <th scope="row">Blessing</th>
            <td>
              {d.blessing.blessed ? 'blessed' : 'not blessed'}: {d.blessing.passed} checks passed, {d.blessing.failed} failed, {d.blessing.skipped} not judged
            </td>
          </tr>
        </tbody>
      </table>
      {d.thresholds.length > 0 && (
        <details>
          <summary>
            The {d.thresholds.length} threshold checks behind the blessing
          </summary>
          <table className="thresholds">
            <caption>Threshold checks</caption>
            <thead>
              <tr>
                <th scope="col">Metric</th>
                <th scope="col">On</th>
                <th scope="col">Kind</th>
                <th scope="col">Result</th>
                <th scope="col">Detail</th>
              </tr>
            </thead>
            <tbody>
              {d.thresholds.map((c, i) => (
                <tr key={i}>
                  <td>{c.metric}</td>
                  <td>{c.target}</td>
                  <td>{c.kind}</td>
                  <td>
                    <span className={`badge ${c.passed === null ? 'state-skipped' : c.passed ? 'state-complete' : 'state-failed'}`}>{c.passed === null ? 'not judged' : c.passed ? 'pass' : 'FAIL'}</span>
                  </td>
                  <td>{c.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      )}
      {d.lineage.length > 0 && (
        <table className="card-lineage">
          <caption>Made from</caption>
          <thead>
            <tr>
              <th scope="col">Artifact</th>
              <th scope="col">Id</th>
              <th scope="col">Where</th>
            </tr>
          </thead>
          <tbody>
            {d.lineage.map((l, i) => (
              <tr key={i}>
                <td>{l.type}</td>
                <td>{l.id === null ? '—' : `#${l.id}`}</td>
                <td>
                  {l.type === 'pipeline run' ? <Link to={`/pipelines/${encodeURIComponent(l.uri)}`}>{l.uri}</Link> : <code>{l.uri}</code>}
                  {l.note && <span className="muted"> ({l.note})</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
