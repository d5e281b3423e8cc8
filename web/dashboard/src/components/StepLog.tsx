/**
 * A pipeline step's log, as its executor logged it: monospace, oldest first and newest at the
 * bottom. While the step runs the log is asked again every two seconds for the lines after the
 * last one shown (the API pages by line), and the asking stops once the step's state is final:
 * the step runner stores the whole log before it records that state.
 */
import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { LOOM, get, type StepLogLine, type StepLogPage } from '../api';
import { ErrorBox } from './common';

const POLL_MS = 2000;
const LIVE_STATES = new Set(['NEW', 'RUNNING']);

export function StepLog({ runId, step }: { runId: string; step: string }) {
  const [log, setLog] = useState<{ lines: StepLogLine[]; dropped: number; error?: Error }>();
  const pre = useRef<HTMLPreElement>(null);

  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let lines: StepLogLine[] = [];
    setLog(undefined);
    const poll = async () => {
      try {
        let page: StepLogPage;
        do {
          page = await get<StepLogPage>(`${LOOM}/pipeline-runs/${encodeURIComponent(runId)}/steps/${encodeURIComponent(step)}/log`, { after: lines.at(-1)?.seq ?? 0 }, controller.signal);
          lines = [...lines, ...page.lines];
        } while (page.more);
        setLog({ lines, dropped: page.dropped });
        if (LIVE_STATES.has(page.state)) timer = setTimeout(() => void poll(), POLL_MS);
      } catch (error) {
        if (!controller.signal.aborted) setLog({ lines, dropped: 0, error: error as Error });
      }
    };
    void poll();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [runId, step]);

  // Newest at the bottom, and in view as lines arrive.
  const shown = log?.lines.length ?? 0;
  useLayoutEffect(() => {
    if (pre.current) pre.current.scrollTop = pre.current.scrollHeight;
  }, [shown]);

  if (!log) return <p className="muted">Loading…</p>;
  return (
    <>
      {log.error && <ErrorBox error={log.error} />}
      {log.lines.length === 0 && !log.error ? (
        <p className="muted">no log lines</p>
      ) : (
        // Focusable: a long log scrolls, and a keyboard must reach it too.
        <pre ref={pre} className="params step-log" tabIndex={0} aria-label={`Log of ${step}`}>
          {log.lines.map((l) => l.line).join('\n')}
        </pre>
      )}
      {log.dropped > 0 && <p className="muted">{log.dropped.toLocaleString()} later lines were not kept (a step keeps its first 5,000).</p>}
    </>
  );
}
