/**
 * A pipeline run's steps as a graph: a step depends on another when it read an artifact the
 * other wrote. Steps are placed in columns by their longest path from a source, drawn in SVG
 * with their state and duration, and each is a link-like button that selects it.
 */
import type { PipelineStep } from '../api';
import { formatDuration } from './common';

const W = 168;
const H = 54;
const GAP_X = 48;
const GAP_Y = 18;

export interface DagEdge {
  from: string;
  to: string;
}

export function stepEdges(steps: PipelineStep[]): DagEdge[] {
  const writer = new Map<number, string>();
  for (const s of steps) for (const o of s.outputs) if (o.artifact) writer.set(o.artifact.id, s.step);
  const edges = new Map<string, DagEdge>();
  for (const s of steps) {
    for (const i of s.inputs) {
      const from = i.artifact && writer.get(i.artifact.id);
      if (from && from !== s.step) edges.set(`${from}>${s.step}`, { from, to: s.step });
    }
  }
  return [...edges.values()];
}

function layout(steps: PipelineStep[], edges: DagEdge[]): Map<string, { x: number; y: number }> {
  const level = new Map<string, number>();
  const parents = (name: string) => edges.filter((e) => e.to === name).map((e) => e.from);
  const levelOf = (name: string, seen = new Set<string>()): number => {
    if (level.has(name)) return level.get(name)!;
    if (seen.has(name)) return 0;
    seen.add(name);
    const value = Math.max(-1, ...parents(name).map((p) => levelOf(p, seen))) + 1;
    level.set(name, value);
    return value;
  };
  const rows = new Map<number, number>();
  const placed = new Map<string, { x: number; y: number }>();
  // Steps that never ran read nothing, so nothing places them: they go on a row of their own, in order.
  const connected = new Set(edges.flatMap((e) => [e.from, e.to]));
  const unrun = steps.filter((s) => !connected.has(s.step) && (s.state === 'CANCELED' || s.state === 'SKIPPED'));
  for (const s of steps) {
    if (unrun.includes(s)) continue;
    const column = levelOf(s.step);
    const row = rows.get(column) ?? 0;
    rows.set(column, row + 1);
    placed.set(s.step, { x: column * (W + GAP_X) + 8, y: row * (H + GAP_Y) + 8 });
  }
  const lastRow = Math.max(0, ...rows.values());
  unrun.forEach((s, i) => placed.set(s.step, { x: i * (W + GAP_X) + 8, y: lastRow * (H + GAP_Y) + 8 }));
  return placed;
}

export function Dag({ steps, selected, onSelect }: { steps: PipelineStep[]; selected?: string; onSelect(step: string): void }) {
  // A run just recorded has no step yet (a re-run's process is still loading its pipeline file).
  if (steps.length === 0) return <p className="muted">No step has started yet.</p>;
  const edges = stepEdges(steps);
  const at = layout(steps, edges);
  const width = Math.max(...[...at.values()].map((p) => p.x + W)) + 8;
  const height = Math.max(...[...at.values()].map((p) => p.y + H)) + 8;
  return (
    <svg className="dag" width={width} height={height} role="group" aria-label="Steps of the run">
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">
          <path d="M0,0 L10,5 L0,10 z" fill="#8c959f" />
        </marker>
      </defs>
      {edges.map((e) => {
        const a = at.get(e.from)!;
        const b = at.get(e.to)!;
        const [x1, y1, x2, y2] = [a.x + W, a.y + H / 2, b.x, b.y + H / 2];
        return <path key={`${e.from}>${e.to}`} d={`M${x1},${y1} C${x1 + GAP_X / 2},${y1} ${x2 - GAP_X / 2},${y2} ${x2},${y2}`} stroke="#8c959f" fill="none" markerEnd="url(#arrow)" />;
      })}
      {steps.map((s) => {
        const p = at.get(s.step)!;
        return (
          <g
            key={s.executionId}
            className={`dag-node state-${s.state.toLowerCase()}${selected === s.step ? ' selected' : ''}`}
            transform={`translate(${p.x},${p.y})`}
            role="button"
            tabIndex={0}
            aria-pressed={selected === s.step}
            onClick={() => onSelect(s.step)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' || e.key === ' ') {
                e.preventDefault();
                onSelect(s.step);
              }
            }}
          >
            <rect width={W} height={H} rx="6" />
            <text x="10" y="21" className="dag-title">
              {s.step}
            </text>
            <text x="10" y="41" className="dag-sub">
              {s.state} · {formatDuration(s.durationMs)}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
