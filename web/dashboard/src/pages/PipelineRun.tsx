/**
 * One pipeline run: its steps as a graph with live states (polled while the run is going),
 * and the selected step (`?step=` in the URL) with its parameters, its log (live while it
 * runs), artifacts, and the error and fix of a failed step as the step runner recorded them. "Run again" asks the server to
 * run the same pipeline file again (as the signed-in principal, audited) and opens the new
 * run, whose steps then show their states live; a refusal shows the server's message.
 */
import { useEffect, useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { LOOM, get, post, type PipelineRunSummary, type PipelineStep } from '../api';
import { Dag } from '../components/Dag';
import { StepLog } from '../components/StepLog';
import { Table } from '../components/Table';
import { ErrorBox, Show, StateBadge, formatDuration, formatTime, useApi } from '../components/common';

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
      <RerunButton runId={runId} />
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
              {selected && <StepPanel runId={runId} step={selected} />}
            </>
          );
        }}
      </Show>
    </>
  );
}

function StepPanel({ runId, step }: { runId: string; step: PipelineStep }) {
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
      {/* Focusable: long parameters scroll, and a keyboard must reach them too. */}
      <pre className="params" tabIndex={0} aria-label={`Parameters of ${step.step}`}>
        {JSON.stringify(step.parameters, null, 2)}
      </pre>
      <h3>Log</h3>
      <StepLog runId={runId} step={step.step} />
      <h3>Artifacts</h3>
      <Table
        label={`Artifacts of ${step.step}`}
        rows={[...step.inputs.map((a) => ['in', a] as const), ...step.outputs.map((a) => ['out', a] as const)]}
        rowKey={([direction, a]) => `${direction}:${a.name}`}
        columns={[
          { key: 'direction', header: 'Direction', cell: ([direction]) => direction },
          { key: 'name', header: 'Name', cell: ([, a]) => a.name },
          { key: 'type', header: 'Type', cell: ([, a]) => a.artifact?.typeName ?? '—' },
          { key: 'uri', header: 'URI', className: 'small', cell: ([, a]) => a.artifact?.uri ?? '—' },
        ]}
      />
    </section>
  );
}

/**
 * "Run again…", then Confirm or Cancel (as a rollback asks); confirmed, the run starts through the
 * API (the same checks and audit entry as `loom runs rerun`) and the new run opens. The server's
 * refusal stays on this page as it said it.
 */
function RerunButton({ runId }: { runId: string }) {
  const navigate = useNavigate();
  const [confirming, setConfirming] = useState(false);
  const [state, setState] = useState<{ busy: boolean; error?: Error }>({ busy: false });
  const rerun = async () => {
    setState({ busy: true });
    try {
      const started = await post<{ runId: string }>(`${LOOM}/pipeline-runs/${encodeURIComponent(runId)}/rerun`, {});
      setState({ busy: false });
      setConfirming(false);
      navigate(`/pipelines/${encodeURIComponent(started.runId)}`);
    } catch (error) {
      setState({ busy: false, error: error as Error });
    }
  };
  return (
    <div className="confirm rerun">
      {!confirming ? (
        <button type="button" onClick={() => setConfirming(true)}>
          Run again…
        </button>
      ) : (
        <div className="confirm" role="group" aria-label={`Confirm running ${runId} again`}>
          <span>Run this pipeline again from its pipeline file, as you? Its steps run again unless cached.</span>
          <button type="button" onClick={() => void rerun()} disabled={state.busy}>
            {state.busy ? 'Starting…' : 'Confirm re-run'}
          </button>
          <button type="button" onClick={() => setConfirming(false)} disabled={state.busy}>
            Cancel
          </button>
        </div>
      )}
      {state.error && <ErrorBox error={state.error} />}
    </div>
  );
}
