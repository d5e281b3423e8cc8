/**
 * A line chart drawn by uPlot on a canvas: it draws 100,000 points in milliseconds and keeps
 * them as typed arrays, where SVG charts make a DOM node per point. The figure is labelled
 * for screen readers; the numbers are in the tables beside it.
 */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series {
  label: string;
  x: Float64Array | number[];
  y: Float64Array | number[];
  /** How many points were logged, when `x` and `y` hold a downsampled subset of them. */
  total?: number;
}

const COLOURS = ['#1f6feb', '#d1242f', '#1a7f37', '#9a6700', '#8250df', '#0969da', '#bf3989', '#57606a'];

/** uPlot draws a gap at null but takes NaN for a number (a NaN first point breaks the y scale). */
const gaps = (y: Float64Array | number[]) => Array.from(y, (v) => (Number.isNaN(v) ? null : v));

/** Series with different x values are aligned on the union of their x values (gaps where one has none). */
function align(series: Series[]): uPlot.AlignedData {
  if (series.length === 1) return [series[0]!.x, gaps(series[0]!.y)] as uPlot.AlignedData;
  return uPlot.join(series.map((s) => [s.x as number[], gaps(s.y)] as uPlot.AlignedData));
}

/** `time`: x values are epoch seconds, drawn as dates. */
export function LineChart({ title, series, xLabel, height = 260, time = false }: { title: string; series: Series[]; xLabel: string; height?: number; time?: boolean }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const plot = new uPlot(
      {
        width: Math.max(320, element.clientWidth),
        height,
        scales: { x: { time } },
        axes: [{ label: xLabel }, {}],
        // Short series (a point per monitoring window) get marks, so a lone point between gaps shows; long curves stay lines.
        series: [{ label: xLabel }, ...series.map((s, i) => ({ label: s.label, stroke: COLOURS[i % COLOURS.length], width: 1.5, points: { show: s.x.length <= 200, size: 6 } }))],
      },
      align(series),
      element,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(320, element.clientWidth), height }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [series, xLabel, height, time]);
  // The points logged, not the points drawn: a downsampled series still counts what it stands for.
  const points = series.reduce((n, s) => n + (s.total ?? s.x.length), 0);
  return <figure className="chart" role="img" aria-label={`${title}: ${series.length} series, ${points} points`} data-points={points} ref={box} />;
}
