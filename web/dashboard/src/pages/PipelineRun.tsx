/**
 * One pipeline run: its steps as a graph with live states (polled while the run is going),
 * and the selected step (`?step=` in the URL) with its parameters, artifacts, and the error
 * and fix of a failed step as the step runner recorded them.
 */
import { useEffect } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { LOOM, get, type PipelineRunSummary, type PipelineStep } from '../api';
import { Dag } from '../components/Dag';
import { Show, StateBadge, formatDuration, formatTime, useApi } from '../components/common';

/** A recorded error is `message` then `\n  fix: ...` (LoomError.describe). */
function splitError(error: string): { message: string; fix?: string } {
  const at = error.lastIndexOf('\n  fix: ');
  return at < 0 ? { message: error } : { message: error.slice(0, at), fix: error.slice(at + '\n  fix: '.length) };
}

export function PipelineRun() {
  const { runId = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const loaded = useApi((signal) => get<{ run: PipelineRunSummary; steps: PipelineStep[] }>(`${LOOM}/pipeline-runs/${encodeURIComponent(runId)}`, {}, signal), runId);
  const running = loaded.data?.run.state === 'RUNNING';
  const { reload } = loaded;
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(reload, 2000);
    return () => clearInterval(timer);
  }, [running, reload]);

  return (
    <>
      <p className="crumbs">
        <Link to="/pipelines">Pipeline runs</Link> /
      </p>
      <h1>Run {runId}</h1>
      <Show loaded={loaded}>
        {({ run, steps }) => {
          const failed = steps.find((s) => s.state === 'FAILED');
          const selectedName = params.get('step') ?? failed?.step ?? steps[0]?.step;
          const selected = steps.find((s) => s.step === selectedName);
          return (
            <>
              <dl className="facts">
                <dt>Pipeline</dt>
                <dd>{run.pipeline}</dd>
                <dt>State</dt>
                <dd>
                  <StateBadge state={run.state} />
                </dd>
                <dt>Started</dt>
                <dd>{formatTime(run.startedAt)}</dd>
                <dt>Duration</dt>
                <dd>{run.endedAt && run.startedAt ? formatDuration(run.endedAt - run.startedAt) : '—'}</dd>
              </dl>
              <div className="scroll">
                <Dag steps={steps} selected={selectedName} onSelect={(step) => setParams({ step }, { replace: true })} />
              </div>
              {selected && <StepPanel step={selected} />}
            </>
          );
        }}
      </Show>
    </>
  );
}

function StepPanel({ step }: { step: PipelineStep }) {
  const error = step.error ? splitError(step.error) : undefined;
  return (
    <section aria-labelledby="step-h" className="step-panel">
      <h2 id="step-h">
        Step {step.step} <StateBadge state={step.state} />
      </h2>
      <dl className="facts">
        <dt>Component</dt>
        <dd>{step.component}</dd>
        <dt>Duration</dt>
        <dd>{formatDuration(step.durationMs)}</dd>
        <dt>Attempts</dt>
        <dd>{step.attempts}</dd>
        {step.reason !== null && step.reason !== undefined && (
          <>
            <dt>Why</dt>
            <dd>{typeof step.reason === 'string' ? step.reason : JSON.stringify(step.reason)}</dd>
          </>
        )}
      </dl>
      {error && (
        <div className="error" role="alert">
          <pre>{error.message}</pre>
          {error.fix && <div className="fix">fix: {error.fix}</div>}
        </div>
      )}
      <h3>Parameters</h3>
      <pre className="params">{JSON.stringify(step.parameters, null, 2)}</pre>
      <h3>Artifacts</h3>
      <table>
        <thead>
          <tr>
            <th scope="col">Direction</th>
            <th scope="col">Name</th>
            <th scope="col">Type</th>
            <th scope="col">URI</th>
          </tr>
        </thead>
        <tbody>
          {[...step.inputs.map((a) => ['in', a] as const), ...step.outputs.map((a) => ['out', a] as const)].map(([direction, a]) => (
            <tr key={`${direction}:${a.name}`}>
              <td>{direction}</td>
              <td>{a.name}</td>
              <td>{a.artifact?.typeName ?? '—'}</td>
              <td className="small">{a.artifact?.uri ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
