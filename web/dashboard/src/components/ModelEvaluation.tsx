/**
 * A model version's evaluation as recorded (TFMA-style): which evaluation (`?evaluation=<id>`
 * when the version has several), the blessing and the baseline it was compared with, the
 * overall metrics with their bootstrap intervals, a table per slicing spec for one metric
 * (`?slice_metric=`) with each slice's interval drawn beside it, and fairness by group with
 * the disparities (as Fairlearn's MetricFrame reports them).
 */
import { Link, useSearchParams } from 'react-router';
import { LOOM, get, type EvaluationDetail, type MetricRow, type ModelEvaluationView } from '../api';
import { Show, formatNumber, useApi } from './common';
import { ModelCard } from './ModelCard';

/** The metric a slice table opens on, by task: the one TFMA's and the model card's slice tables lead with. */
const SLICE_METRIC: Record<string, string> = { binary: 'auc', multiclass: 'accuracy', regression: 'rmse' };
/** The per-group rates of a fairness table, in Fairlearn's names. */
const GROUP_RATES = ['selection_rate', 'true_positive_rate', 'false_positive_rate', 'accuracy'];

const num = (value: number | null | undefined) => (value === null || value === undefined ? '—' : formatNumber(value));
const interval = (m: Pick<MetricRow, 'lower' | 'upper'>) => (m.lower === null || m.upper === null ? '—' : `[${formatNumber(m.lower)}, ${formatNumber(m.upper)}]`);
const change = (m: MetricRow) => (m.value === null || m.baseline === null ? '—' : `${m.value >= m.baseline ? '+' : ''}${formatNumber(m.value - m.baseline)}`);

export function ModelEvaluation({ name, version, description }: { name: string; version: string; description?: string }) {
  const [params, setParams] = useSearchParams();
  const chosen = params.get('evaluation') ?? undefined;
  const view = useApi(
    (signal) => get<ModelEvaluationView>(`${LOOM}/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}/evaluation`, { evaluation: chosen }, signal),
    `${name}@${version}#${chosen ?? ''}`,
  );
  const setParam = (key: string, value: string) =>
    setParams((p) => {
      p.set(key, value);
      return p;
    });
  return (
    <section aria-labelledby="evaluation-h">
      <h2 id="evaluation-h">Evaluation of v{version}</h2>
      <Show loaded={view}>
        {({ evaluations, selected }) =>
          selected === null ? (
            <p className="muted">No evaluation is recorded for v{version}: a version registered by URI alone has none; `loom evaluate {name}@{version}` records one.</p>
          ) : (
            <>
              {evaluations.length > 1 && (
                <p>
                  <label htmlFor="evaluation-pick">Evaluation </label>
                  <select id="evaluation-pick" value={selected.artifactId} onChange={(e) => setParam('evaluation', e.target.value)}>
                    {evaluations.map((e) => (
                      <option key={e.artifactId} value={e.artifactId}>
                        #{e.artifactId} · {e.evaluatedAt.slice(0, 19).replace('T', ' ')} · {e.split} · {e.runId ?? 'no run'}
                        {e.registeredWith ? ' (registered with)' : ''}
                      </option>
                    ))}
                  </select>
                </p>
              )}
              <EvaluationBody detail={selected} sliceMetric={params.get('slice_metric')} onSliceMetric={(m) => setParam('slice_metric', m)} />
              <ModelCard name={name} version={version} description={description} detail={selected} />
            </>
          )
        }
      </Show>
    </section>
  );
}

function EvaluationBody({ detail: d, sliceMetric, onSliceMetric }: { detail: EvaluationDetail; sliceMetric: string | null; onSliceMetric(metric: string): void }) {
  const baseline = d.baseline ? (d.baseline.version !== null ? `v${d.baseline.version}` : d.baseline.uri) : null;
  const level = `${Math.round(d.confidence * 100)}%`;
  const metricNames = [...new Set(d.slices.flatMap((s) => s.metrics.map((m) => m.name)))];
  const shown = sliceMetric && metricNames.includes(sliceMetric) ? sliceMetric : metricNames.includes(SLICE_METRIC[d.task] ?? '') ? SLICE_METRIC[d.task]! : metricNames[0];
  return (
    <>
      <p>
        <span className={`badge ${d.blessing.blessed ? 'state-complete' : 'state-failed'}`}>{d.blessing.blessed ? 'BLESSED' : 'NOT BLESSED'}</span> {d.blessing.reason}
      </p>
      <p className="muted">
        A {d.task} model on {d.rowCount.toLocaleString('en')} rows of the {d.split} split
        {d.data.contentHash && (
          <>
            {' '}of dataset <Link to={`/datasets/${d.data.contentHash}`}>{d.data.contentHash.slice(0, 12)}</Link>
          </>
        )}
        , label “{d.labelColumn}”; {baseline ? `compared with ${baseline} on the same rows` : 'no baseline to compare with'}; {d.resamples > 0 ? `${level} bootstrap intervals over ${d.resamples} resamples` : 'no intervals (0 resamples)'}.
      </p>
      <table className="evaluation-metrics">
        <caption>Overall metrics</caption>
        <thead>
          <tr>
            <th scope="col">Metric</th>
            <th scope="col" className="num">Value</th>
            <th scope="col">{level} interval</th>
            {baseline && <th scope="col" className="num">Baseline {baseline}</th>}
            {baseline && <th scope="col" className="num">Change</th>}
          </tr>
        </thead>
        <tbody>
          {d.metrics.map((m) => (
            <tr key={m.name}>
              <th scope="row">{m.name}</th>
              <td className="num">{num(m.value)}</td>
              <td className="num">{interval(m)}</td>
              {baseline && <td className="num">{num(m.baseline)}</td>}
              {baseline && <td className="num">{change(m)}</td>}
            </tr>
          ))}
        </tbody>
      </table>
      {shown && (
        <>
          <h3>Slices</h3>
          <p>
            <label htmlFor="slice-metric">Slice metric </label>
            <select id="slice-metric" value={shown} onChange={(e) => onSliceMetric(e.target.value)}>
              {metricNames.map((m) => (
                <option key={m}>{m}</option>
              ))}
            </select>
          </p>
          {[...new Set(d.slices.map((s) => s.spec))].map((spec) => (
            <SliceTable key={spec} spec={spec} metric={shown} level={level} baseline={baseline} overall={d.metrics.find((m) => m.name === shown)} slices={d.slices.filter((s) => s.spec === spec)} />
          ))}
        </>
      )}
      {d.fairness.map((f) => (
        <Fairness key={f.name} fairness={f} baseline={baseline} />
      ))}
    </>
  );
}

function SliceTable({ spec, metric, level, baseline, overall, slices }: { spec: string; metric: string; level: string; baseline: string | null; overall?: MetricRow; slices: EvaluationDetail['slices'] }) {
  const rows = slices.map((s) => ({ slice: s, m: s.metrics.find((x) => x.name === metric) ?? { name: metric, value: null, lower: null, upper: null, baseline: null } }));
  // One scale for the table's bars: every interval, value and the overall value fit.
  const ends = [...rows.flatMap(({ m }) => [m.lower, m.upper, m.value]), overall?.value ?? null].filter((v): v is number => v !== null);
  const scale = { min: Math.min(...ends), max: Math.max(...ends) };
  return (
    <table className="slices" data-spec={spec}>
      <caption>
        {metric} by {spec}
      </caption>
      <thead>
        <tr>
          <th scope="col">Slice</th>
          <th scope="col" className="num">Rows</th>
          <th scope="col" className="num">{metric}</th>
          <th scope="col">{level} interval</th>
          <th scope="col">
            <span className="visually-hidden">Interval drawn</span>
          </th>
          {baseline && <th scope="col" className="num">Baseline {baseline}</th>}
          <th scope="col">Note</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(({ slice, m }) => (
          <tr key={slice.key}>
            <th scope="row">{Object.entries(slice.values).map(([feature, value]) => `${feature} = ${value}`).join(', ')}</th>
            <td className="num">{slice.exampleCount.toLocaleString('en')}</td>
            <td className="num">{num(m.value)}</td>
            <td className="num">{interval(m)}</td>
            <td>
              <IntervalBar row={m} overall={overall?.value ?? null} scale={scale} />
            </td>
            {baseline && <td className="num">{num(m.baseline)}</td>}
            <td>{slice.small ? 'small: not judged' : ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The slice's interval as a bar and its value as a dot, the overall value as a dashed line; the numbers are in the cells beside it. */
function IntervalBar({ row, overall, scale }: { row: MetricRow; overall: number | null; scale: { min: number; max: number } }) {
  const width = 160;
  const x = (v: number) => (scale.max > scale.min ? 4 + ((v - scale.min) / (scale.max - scale.min)) * (width - 8) : width / 2);
  return (
    <svg width={width} height={14} aria-hidden="true" className="interval-bar">
      {overall !== null && <line x1={x(overall)} x2={x(overall)} y1={0} y2={14} className="overall" />}
      {row.lower !== null && row.upper !== null && <line x1={x(row.lower)} x2={x(row.upper)} y1={7} y2={7} className="range" />}
      {row.value !== null && <circle cx={x(row.value)} cy={7} r={3.5} className="point" />}
    </svg>
  );
}

function Fairness({ fairness: f, baseline }: { fairness: EvaluationDetail['fairness'][number]; baseline: string | null }) {
  return (
    <>
      <h3>
        Fairness by {f.features.join(' × ')} <span className="muted small">(decisions at score ≥ {f.decisionThreshold})</span>
      </h3>
      <table className="fairness-groups">
        <caption>Rates by group of {f.name}</caption>
        <thead>
          <tr>
            <th scope="col">Group</th>
            <th scope="col" className="num">Rows</th>
            {GROUP_RATES.map((r) => (
              <th key={r} scope="col" className="num">
                {r}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {f.groups.map((g) => (
            <tr key={g.group}>
              <th scope="row">{g.group}</th>
              <td className="num">{num(g.count as number | null)}</td>
              {GROUP_RATES.map((r) => (
                <td key={r} className="num">
                  {num(g[r] as number | null)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <table className="fairness-disparities">
        <caption>Disparities between the groups of {f.name}</caption>
        <thead>
          <tr>
            <th scope="col">Measure</th>
            <th scope="col" className="num">Value</th>
            {baseline && <th scope="col" className="num">Baseline {baseline}</th>}
          </tr>
        </thead>
        <tbody>
          {f.disparities.map((x) => (
            <tr key={x.name}>
              <th scope="row">{x.name}</th>
              <td className="num">{num(x.value)}</td>
              {baseline && <td className="num">{num(x.baseline)}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
