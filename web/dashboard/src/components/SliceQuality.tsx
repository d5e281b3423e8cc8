/**
 * Online quality per slice over time, for the Monitoring page: computed on request by the server
 * (`/api/loom/monitoring/:name/slices`, `loom monitor quality`'s code over the log and the
 * labels; the history keeps no slices), so it is fetched only once asked for (`?slices=1`). A
 * slice is measured on its labelled rows; below the evaluation's minimum slice size it has no figure,
 * and a metric undefined on it (AUC where its labels hold one class) says so.
 */
import { useMemo } from 'react';
import { LOOM, get, type SliceQualityView } from '../api';
import { LineChart, type Series } from './Chart';
import { Show, formatNumber, formatTime, useApi } from './common';

export interface SliceRequest {
  model: string;
  version: number;
  window: string;
  from?: number;
  to?: number;
}

export function SliceQuality({ request, metric, onMetric }: { request: SliceRequest; metric: string; onMetric(metric: string): void }) {
  const view = useApi(
    (signal) => get<SliceQualityView>(`${LOOM}/monitoring/${encodeURIComponent(request.model)}/slices`, { version: request.version, window: request.window, from: request.from, to: request.to }, signal),
    JSON.stringify(request),
  );
  return (
    <Show loaded={view}>
      {(v) =>
        v.slices.length === 0 ? (
          <p className="muted">
            No slice has labelled rows in {v.windows.length} window(s): slices are the evaluation's slicing specs, measured once labels arrive.
          </p>
        ) : (
          <SliceTable view={v} metric={v.metrics.includes(metric) ? metric : v.metrics[0]!} onMetric={onMetric} />
        )
      }
    </Show>
  );
}

function SliceTable({ view, metric, onMetric }: { view: SliceQualityView; metric: string; onMetric(metric: string): void }) {
  const starts = view.windows.map((w) => w.start);
  const series = useMemo(
    () => view.slices.map((s): Series => ({ label: s.key, x: s.starts.map((t) => t / 1000), y: s.measured[metric]! as number[] })),
    [view, metric],
  );
  const show = (value: number | null | undefined, sized = true) => (value === undefined ? '—' : !sized ? 'too few labels' : value === null ? 'undefined' : formatNumber(value));
  return (
    <>
      <div className="filter">
        <label htmlFor="slice-metric">Metric</label>
        <select id="slice-metric" value={metric} onChange={(e) => onMetric(e.target.value)}>
          {view.metrics.map((m) => (
            <option key={m}>{m}</option>
          ))}
        </select>
      </div>
      <LineChart title={`${metric} per slice`} series={series} xLabel="window start" time height={200} />
      <table>
        <caption>
          Measured {metric} per slice and window (labelled rows)
        </caption>
        <thead>
          <tr>
            <th scope="col">Slice</th>
            <th scope="col">Offline</th>
            {starts.map((start) => (
              <th scope="col" key={start}>
                {formatTime(start)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {view.slices.map((s) => (
            <tr key={`${s.spec}/${s.key}`}>
              <th scope="row">{s.key}</th>
              <td className="num">{s.offline ? show(s.offline[metric] ?? null) : '—'}</td>
              {starts.map((start) => {
                const i = s.starts.indexOf(start);
                return (
                  <td className="num" key={start}>
                    {i < 0 ? '—' : `${show(s.measured[metric]![i], s.sized[i])} (${s.labelled[i]})`}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      {view.multiRowRequests > 0 && <p className="muted">{view.multiRowRequests} requests carried several rows: their labels cannot name a row and are left out.</p>}
    </>
  );
}
