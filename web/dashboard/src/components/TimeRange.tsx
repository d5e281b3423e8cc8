/**
 * A time range kept in the URL as `from` and `to` (UTC, `2026-01-05T00:00`), for views whose API
 * filters by time on the server: `rangeOf(params)` gives the epoch milliseconds to send.
 */
import { useState } from 'react';

/** A URL time (read as UTC) in epoch ms; undefined when absent or not a time. */
function epochOf(value: string | null): number | undefined {
  if (!value) return undefined;
  const ms = Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(value) ? value : `${value}Z`);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The range the URL asks for, in epoch ms, [from, to). */
export function rangeOf(params: URLSearchParams): { from?: number; to?: number } {
  return { from: epochOf(params.get('from')), to: epochOf(params.get('to')) };
}

/** Two UTC date-time fields and Apply / Clear; `onChange` gets the new URL values (undefined clears). */
export function TimeRange({ params, onChange }: { params: URLSearchParams; onChange(range: { from?: string; to?: string }): void }) {
  const [from, setFrom] = useState(params.get('from') ?? '');
  const [to, setTo] = useState(params.get('to') ?? '');
  const active = params.get('from') || params.get('to');
  return (
    <form
      className="filter"
      aria-label="Time range"
      onSubmit={(e) => {
        e.preventDefault();
        onChange({ from: from || undefined, to: to || undefined });
      }}
    >
      <label htmlFor="range-from">From (UTC)</label>
      <input id="range-from" type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} />
      <label htmlFor="range-to">To (UTC, excluded)</label>
      <input id="range-to" type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} />
      <button type="submit">Apply</button>
      {active && (
        <button
          type="button"
          onClick={() => {
            setFrom('');
            setTo('');
            onChange({ from: undefined, to: undefined });
          }}
        >
          All time
        </button>
      )}
    </form>
  );
}
