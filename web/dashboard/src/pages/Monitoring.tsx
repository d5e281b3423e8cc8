/**
 * Monitoring of a served model, per version, window kind and time range (all in the URL:
 * `?model=&version=&window=&from=&to=`, the range filtered by the server): the drift of each
 * feature over time, the online quality estimated from the scores beside the quality measured
 * once labels arrive, per slice on request (`&slices=1&metric=`), and the alerts that fired with the actions they took.
 * Everything is what `loom monitor` and `loom monitor alerts check` recorded; nothing is invented
 * when nothing was recorded.
 */
import { useMemo } from 'react';
import { useSearchParams } from 'react-router';
import { LOOM, MLFLOW, get, type AlertRecord, type DriftSeries, type MonitoringView, type QualitySeries, type RegisteredModel } from '../api';
import { LineChart, type Series } from '../components/Chart';
import { Show, formatNumber, formatTime, useApi } from '../components/common';
import { SliceQuality } from '../components/SliceQuality';
import { TimeRange, rangeOf } from '../components/TimeRange';

const seconds = (ms: number[]) => ms.map((t) => t / 1000);
// uPlot draws a null as a gap: an inconclusive figure is a hole in the line, not a zero.
const gapped = (values: (number | null)[]) => values as number[];

export function Monitoring() {
  const [params, setParams] = useSearchParams();
  const models = useApi((signal) => get<{ registered_models?: RegisteredModel[] }>(`${MLFLOW}/registered-models/search`, { max_results: 1000 }, signal), 'models');
  const names = (models.data?.registered_models ?? []).map((m) => m.name);
  const model = params.get('model') ?? names[0] ?? '';
  const version = params.get('version') ?? undefined;
  const window = params.get('window') ?? undefined;
  const { from, to } = rangeOf(params);
  const view = useApi(
    (signal) => (model ? get<MonitoringView>(`${LOOM}/monitoring/${encodeURIComponent(model)}`, { version, window, from, to }, signal) : Promise.resolve(undefined)),
    JSON.stringify([model, version, window, from, to]),
  );
  const choose = (changes: Record<string, string | undefined>) => {
    const next = new URLSearchParams(params);
    if (!next.get('model') && model) next.set('model', model);
    for (const [key, value] of Object.entries(changes)) {
      if (value) next.set(key, value);
      else next.delete(key);
    }
    setParams(next);
  };
  return (
    <>
      <h1>Monitoring</h1>
      <Show loaded={models}>
        {() =>
          names.length === 0 ? (
            <p className="muted">No monitoring data yet: no registered model to monitor.</p>
          ) : (
            <div className="filter">
              <label htmlFor="monitor-model">Model</label>
              <select id="monitor-model" value={model} onChange={(e) => choose({ model: e.target.value, version: undefined, window: undefined })}>
                {names.map((n) => (
                  <option key={n}>{n}</option>
                ))}
              </select>
              {view.data && view.data.versions.length > 0 && (
                <>
                  <label htmlFor="monitor-version">Version</label>
                  <select id="monitor-version" value={String(view.data.version)} onChange={(e) => choose({ version: e.target.value, window: undefined })}>
                    {view.data.versions.map((v) => (
                      <option key={v} value={v}>
                        v{v}
                      </option>
                    ))}
                  </select>
                  <label htmlFor="monitor-window">Window</label>
                  <select id="monitor-window" value={view.data.windowKind ?? ''} onChange={(e) => choose({ window: e.target.value })}>
                    {view.data.windowKinds.map((w) => (
                      <option key={w}>{w}</option>
                    ))}
                  </select>
                </>
              )}
            </div>
          )
        }
      </Show>
      {model && <TimeRange key={`${params.get('from')}/${params.get('to')}`} params={params} onChange={(range) => choose(range)} />}
      {model && (
        <Show loaded={view}>
          {(v) =>
            !v || v.version === null ? (
              from !== undefined || to !== undefined ? (
                <p className="muted">Nothing was recorded for {model} in this time range.</p>
              ) : (
                <p className="muted">No monitoring data yet for {model}: `loom monitor drift {model}@champion` and `loom monitor quality` record it.</p>
              )
            ) : (
              <>
                <DriftSection drift={v.drift} />
                <QualitySection quality={v.quality} />
                <section aria-labelledby="slices-h">
                  <h2 id="slices-h">Online quality per slice</h2>
                  {params.get('slices') === '1' && v.windowKind ? (
                    <SliceQuality request={{ model, version: v.version, window: v.windowKind, from, to }} metric={params.get('metric') ?? 'auc'} onMetric={(metric) => choose({ metric })} />
                  ) : (
                    <button type="button" onClick={() => choose({ slices: '1' })}>
                      Compute quality per slice
                    </button>
                  )}
                </section>
                <AlertsSection alerts={v.alerts} version={v.version} />
              </>
            )
          }
        </Show>
      )}
    </>
  );
}

function DriftSection({ drift }: { drift: DriftSeries[] }) {
  const features = useMemo(() => {
    const byFeature = new Map<string, DriftSeries[]>();
    for (const s of drift) byFeature.set(s.feature, [...(byFeature.get(s.feature) ?? []), s]);
    return [...byFeature].map(([feature, list]) => ({ feature, series: list.map((s): Series => ({ label: `${s.measure} vs ${s.against}`, x: seconds(s.starts), y: gapped(s.values) })) }));
  }, [drift]);
  return (
    <section aria-labelledby="drift-h">
      <h2 id="drift-h">Drift per feature</h2>
      {drift.length === 0 ? (
        <p className="muted">No drift recorded for this window kind.</p>
      ) : (
        <>
          <div className="charts">
            {features.map((f) => (
              <div key={f.feature}>
                <h3>{f.feature}</h3>
                <LineChart title={`Drift of ${f.feature}`} series={f.series} xLabel="window start" time height={200} />
              </div>
            ))}
          </div>
          <table>
            <caption>Drift in the newest window</caption>
            <thead>
              <tr>
                <th scope="col">Feature</th>
                <th scope="col">Against</th>
                <th scope="col">Measure</th>
                <th scope="col">Newest</th>
                <th scope="col">Threshold</th>
                <th scope="col">Windows over it</th>
              </tr>
            </thead>
            <tbody>
              {drift.map((s) => (
                <tr key={`${s.feature}/${s.against}/${s.measure}`}>
                  <th scope="row">{s.feature}</th>
                  <td>{s.against}</td>
                  <td>{s.measure}</td>
                  <td className="num">{s.values.at(-1) === null ? 'inconclusive' : formatNumber(s.values.at(-1)!)}</td>
                  <td className="num">{formatNumber(s.threshold)}</td>
                  <td className="num">
                    {s.exceeded.filter(Boolean).length} of {s.exceeded.length}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

function QualitySection({ quality }: { quality: QualitySeries[] }) {
  const metrics = useMemo(() => {
    const byMetric = new Map<string, QualitySeries[]>();
    for (const s of quality) byMetric.set(s.metric, [...(byMetric.get(s.metric) ?? []), s]);
    return [...byMetric].map(([metric, list]) => ({ metric, list, series: list.map((s): Series => ({ label: s.kind, x: seconds(s.starts), y: gapped(s.values) })) }));
  }, [quality]);
  return (
    <section aria-labelledby="quality-h">
      <h2 id="quality-h">Online quality, estimated and measured</h2>
      {quality.length === 0 ? (
        <p className="muted">No online quality recorded: `loom monitor quality` estimates it from the scores and measures it once labels arrive.</p>
      ) : (
        <div className="charts">
          {metrics.map((m) => (
            <div key={m.metric}>
              <h3>{m.metric}</h3>
              <LineChart title={`${m.metric}: estimated and measured`} series={m.series} xLabel="window start" time height={200} />
              <QualityTable metric={m.metric} list={m.list} />
            </div>
          ))}
        </div>
      )}
    </section>
  );
}

/** One row per window: the estimated and the measured figure side by side, and how many labels the measure rests on. */
function QualityTable({ metric, list }: { metric: string; list: QualitySeries[] }) {
  const estimated = list.find((s) => s.kind === 'estimated');
  const measured = list.find((s) => s.kind === 'measured');
  const starts = [...new Set([...(estimated?.starts ?? []), ...(measured?.starts ?? [])])].sort((a, b) => a - b);
  const at = (s: QualitySeries | undefined, start: number) => {
    const i = s ? s.starts.indexOf(start) : -1;
    return i < 0 ? undefined : { value: s!.values[i] ?? null, labelled: s!.labelled[i]! };
  };
  const show = (figure: { value: number | null } | undefined) => (figure === undefined ? '—' : figure.value === null ? 'undefined' : formatNumber(figure.value));
  return (
    <table>
      <caption>{metric} per window</caption>
      <thead>
        <tr>
          <th scope="col">Window start</th>
          <th scope="col">Estimated</th>
          <th scope="col">Measured</th>
          <th scope="col">Labelled rows</th>
        </tr>
      </thead>
      <tbody>
        {starts.map((start) => (
          <tr key={start}>
            <th scope="row">{formatTime(start)}</th>
            <td className="num">{show(at(estimated, start))}</td>
            <td className="num">{show(at(measured, start))}</td>
            <td className="num">{at(measured, start)?.labelled ?? at(estimated, start)?.labelled ?? 0}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function AlertsSection({ alerts, version }: { alerts: AlertRecord[]; version: number }) {
  return (
    <section aria-labelledby="alerts-h">
      <h2 id="alerts-h">Alerts</h2>
      {alerts.length === 0 ? (
        <p className="muted">No alert fired for version {version}.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Window end</th>
              <th scope="col">Rule</th>
              <th scope="col">Severity</th>
              <th scope="col">Metric</th>
              <th scope="col">Value</th>
              <th scope="col">Actions taken</th>
            </tr>
          </thead>
          <tbody>
            {alerts.map((a) => (
              <tr key={a.artifactId}>
                <td>{formatTime(a.windowEnd)}</td>
                <th scope="row">{a.rule}</th>
                <td>
                  <span className={`badge severity-${a.severity.toLowerCase()}`}>{a.severity}</span>
                </td>
                <td>{a.metric}</td>
                <td className="num">{formatNumber(a.value)}</td>
                <td>
                  <ul className="actions">
                    {a.actions.map((action, i) => (
                      <li key={i}>
                        {action.type}: <span className={`badge state-${action.status === 'done' ? 'complete' : action.status === 'failed' ? 'failed' : 'pending'}`}>{action.status}</span> {action.detail}
                      </li>
                    ))}
                  </ul>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
