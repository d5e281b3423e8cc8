/**
 * Parallel coordinates in plain SVG (a few hundred lines at most: one path per run, so no
 * chart library is needed): one vertical axis per parameter and a last one for the metric,
 * each run a line across them coloured by its metric, so a tuning study shows which
 * parameter ranges give low losses. Numeric axes are linear, or logarithmic when the values
 * are positive and span more than two orders of magnitude (learning rates); text axes place
 * their values evenly in sorted order. Each line has a <title> naming the run and its values.
 */
import { formatNumber } from './common';

export interface PcRun {
  id: string;
  label: string;
  params: Record<string, string>;
  metric: number | undefined;
}

interface Axis {
  name: string;
  /** Position 0 (bottom) to 1 (top) of a run's value, undefined when the run has none. */
  at: (value: string | number | undefined) => number | undefined;
  ticks: { at: number; label: string }[];
}

const WIDTH_PER_AXIS = 150;
const HEIGHT = 300;
const PAD = { top: 24, bottom: 36, left: 60, right: 60 };

function numericAxis(name: string, values: number[]): Axis {
  const finite = values.filter(Number.isFinite);
  const low = Math.min(...finite);
  const high = Math.max(...finite);
  const log = low > 0 && high / low > 100;
  const f = (v: number) => (log ? Math.log10(v) : v);
  const span = f(high) - f(low) || 1;
  const at = (value: string | number | undefined) => {
    const v = typeof value === 'number' ? value : value === undefined ? Number.NaN : Number(value);
    return Number.isFinite(v) ? (f(v) - f(low)) / span : undefined;
  };
  const ticks = finite.length === 0 ? [] : [low, high].map((v) => ({ at: at(v)!, label: formatNumber(v) }));
  return { name: log ? `${name} (log)` : name, at, ticks };
}

function textAxis(name: string, values: string[]): Axis {
  const levels = [...new Set(values)].sort();
  const at = (value: string | number | undefined) => {
    const i = value === undefined ? -1 : levels.indexOf(String(value));
    return i < 0 ? undefined : levels.length === 1 ? 0.5 : i / (levels.length - 1);
  };
  return { name, at, ticks: levels.slice(0, 12).map((l) => ({ at: at(l)!, label: l })) };
}

/** Blue (low metric) to red (high metric). */
const colour = (t: number) => `hsl(${Math.round(220 - 220 * t)} 70% 45%)`;

export function ParallelCoordinates({ runs, paramKeys, metricKey }: { runs: PcRun[]; paramKeys: string[]; metricKey: string }) {
  const axes: Axis[] = paramKeys.map((key) => {
    const values = runs.map((r) => r.params[key]).filter((v): v is string => v !== undefined);
    return values.every((v) => v.trim() !== '' && Number.isFinite(Number(v))) ? numericAxis(key, values.map(Number)) : textAxis(key, values);
  });
  const metricAxis = numericAxis(metricKey, runs.map((r) => r.metric ?? Number.NaN));
  axes.push(metricAxis);
  const width = PAD.left + PAD.right + WIDTH_PER_AXIS * Math.max(1, axes.length - 1);
  const x = (i: number) => PAD.left + (axes.length === 1 ? 0 : (i * (width - PAD.left - PAD.right)) / (axes.length - 1));
  const y = (t: number) => PAD.top + (1 - t) * (HEIGHT - PAD.top - PAD.bottom);
  // Lines without a metric are drawn grey and first, so the coloured ones stay on top.
  const ordered = [...runs].sort((a, b) => (a.metric === undefined ? -1 : b.metric === undefined ? 1 : b.metric - a.metric));
  return (
    <svg className="parallel" width={width} height={HEIGHT} role="img" aria-label={`Parallel coordinates of ${runs.length} runs: ${paramKeys.join(', ')} against ${metricKey}`} data-lines={runs.length}>
      {ordered.map((run) => {
        const points = axes.map((axis, i) => {
          const t = i === axes.length - 1 ? axis.at(run.metric) : axis.at(run.params[paramKeys[i]!]);
          return t === undefined ? undefined : `${x(i).toFixed(1)},${y(t).toFixed(1)}`;
        });
        const m = metricAxis.at(run.metric);
        const d = points.reduce((path, p, i) => (p === undefined ? path : `${path}${path === '' || points[i - 1] === undefined ? 'M' : 'L'}${p}`), '');
        return (
          <path key={run.id} className="pc-line" d={d} stroke={m === undefined ? '#8c959f' : colour(m)}>
            <title>{`${run.label}: ${paramKeys.map((k) => `${k}=${run.params[k] ?? '—'}`).join(', ')}, ${metricKey}=${formatNumber(run.metric) || '—'}`}</title>
          </path>
        );
      })}
      {axes.map((axis, i) => (
        <g key={i} className="pc-axis" transform={`translate(${x(i)},0)`}>
          <line y1={y(0)} y2={y(1)} />
          {axis.ticks.map((tick) => (
            <text key={tick.label} x={-6} y={y(tick.at)} dy="0.32em" textAnchor="end">
              {tick.label.length > 14 ? `${tick.label.slice(0, 13)}…` : tick.label}
            </text>
          ))}
          <text className="pc-name" y={HEIGHT - 12} textAnchor="middle">
            {axis.name}
          </text>
        </g>
      ))}
    </svg>
  );
}
