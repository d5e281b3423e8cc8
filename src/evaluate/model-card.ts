/**
 * The model card of an evaluated model, in Markdown and HTML: what was evaluated on which
 * data version, the metrics with their bootstrap intervals beside the baseline's, the
 * metric table of each slice, fairness by group, every threshold check, the blessing and
 * the lineage. Both formats render one list of blocks, so they always say the same.
 *
 * Usage: `const { markdown, html } = renderModelCard(report);`
 */
import type { EvaluationReport } from './report.js';

type Block =
  | { kind: 'heading'; level: 1 | 2 | 3; text: string }
  | { kind: 'paragraph'; text: string }
  | { kind: 'table'; headers: string[]; rows: string[][] }
  | { kind: 'code'; text: string };

/** The metrics shown per slice and per group: the task's usual few, not all of them. */
const SLICE_METRICS: Record<string, string[]> = {
  binary: ['auc', 'accuracy', 'log_loss', 'positive_rate'],
  multiclass: ['accuracy', 'macro_f1', 'log_loss'],
  regression: ['rmse', 'mae', 'r2'],
};

export function renderModelCard(report: EvaluationReport): { markdown: string; html: string } {
  const blocks = cardBlocks(report);
  return { markdown: toMarkdown(blocks), html: toHtml(blocks, titleOf(report)) };
}

function titleOf(report: EvaluationReport): string {
  const m = report.context.model;
  return `Model card: ${m.name ? `${m.name} version ${m.version ?? '?'}` : m.artifactId !== undefined ? `ServingModel #${m.artifactId}` : m.uri}`;
}

function cardBlocks(report: EvaluationReport): Block[] {
  const { context } = report;
  const blocks: Block[] = [{ kind: 'heading', level: 1, text: titleOf(report) }];
  blocks.push({ kind: 'paragraph', text: `${report.blessing.blessed ? 'BLESSED' : 'NOT BLESSED'}. ${report.blessing.reason}` });
  blocks.push({ kind: 'paragraph', text: `Evaluated ${context.evaluatedAt}${context.runId ? ` by run ${context.runId}` : ''}: a ${report.task} model, label "${report.labelColumn}", ${report.rowCount} examples.` });

  blocks.push({ kind: 'heading', level: 2, text: 'Data' });
  blocks.push({
    kind: 'table',
    headers: ['what', 'value'],
    rows: [
      ['dataset version', context.data.contentHash ?? '(not recorded)'],
      ['split', context.data.split],
      ['span', context.data.span ?? ''],
      ['source', context.data.source ?? ''],
      ['artifact', context.data.uri],
    ],
  });

  blocks.push({ kind: 'heading', level: 2, text: 'Metrics' });
  const baseline = report.baselineMetrics;
  blocks.push({
    kind: 'table',
    headers: ['metric', 'value', `${confidenceLabel(report)} interval`, 'baseline', 'change'],
    rows: Object.entries(report.metrics).map(([name, value]) => {
      const ci = report.confidenceIntervals[name];
      const base = baseline?.[name];
      return [name, fmt(value), ci ? `[${fmt(ci.lower)}, ${fmt(ci.upper)}]` : '', baseline ? fmt(base) : '', value !== null && typeof base === 'number' ? signed(value - base) : ''];
    }),
  });

  if (report.slices.length > 0) {
    blocks.push({ kind: 'heading', level: 2, text: 'Slices' });
    const shown = SLICE_METRICS[report.task] ?? [];
    for (const spec of [...new Set(report.slices.map((s) => s.spec))]) {
      blocks.push({ kind: 'heading', level: 3, text: spec });
      blocks.push({
        kind: 'table',
        headers: ['slice', 'examples', ...shown, ...(baseline ? shown.map((m) => `baseline ${m}`) : []), 'note'],
        rows: report.slices
          .filter((s) => s.spec === spec)
          .map((s) => [s.key, String(s.exampleCount), ...shown.map((m) => fmt(s.metrics[m])), ...(baseline ? shown.map((m) => fmt(s.baselineMetrics?.[m])) : []), s.small ? `small (< ${report.config.minSliceSize}): not judged` : '']),
      });
    }
  }

  if (report.fairness.length > 0) {
    blocks.push({ kind: 'heading', level: 2, text: 'Fairness' });
    for (const f of report.fairness as { name: string; decisionThreshold: number; report: { byGroup: Record<string, Record<string, number | null>>; disparities: Record<string, number | null> } }[]) {
      blocks.push({ kind: 'heading', level: 3, text: `${f.name} (decisions at score >= ${f.decisionThreshold})` });
      const groupMetrics = ['count', 'selection_rate', 'true_positive_rate', 'false_positive_rate', 'accuracy'];
      blocks.push({ kind: 'table', headers: ['group', ...groupMetrics], rows: Object.entries(f.report.byGroup).map(([g, r]) => [g, ...groupMetrics.map((m) => fmt(r[m]))]) });
      blocks.push({ kind: 'table', headers: ['disparity', 'value'], rows: Object.entries(f.report.disparities).map(([m, v]) => [m, fmt(v)]) });
    }
  }

  blocks.push({ kind: 'heading', level: 2, text: 'Thresholds' });
  const checks = report.thresholds as { metric: string; target: string; kind: string; passed: boolean | null; reason: string }[];
  blocks.push(
    checks.length === 0
      ? { kind: 'paragraph', text: 'No thresholds were configured.' }
      : { kind: 'table', headers: ['metric', 'on', 'kind', 'result', 'detail'], rows: checks.map((c) => [c.metric, c.target, c.kind, c.passed === null ? 'not judged' : c.passed ? 'pass' : 'FAIL', c.reason]) },
  );

  const plots = report.plots as { calibration?: { lower: number; upper: number; count: number; meanPrediction: number; fractionPositive: number }[] };
  if (plots.calibration) {
    blocks.push({ kind: 'heading', level: 2, text: 'Calibration (reliability curve)' });
    blocks.push({ kind: 'table', headers: ['bin', 'examples', 'mean prediction', 'fraction positive'], rows: plots.calibration.map((b) => [`[${fmt(b.lower)}, ${fmt(b.upper)}]`, String(b.count), fmt(b.meanPrediction), fmt(b.fractionPositive)]) });
  }

  blocks.push({ kind: 'heading', level: 2, text: 'Lineage' });
  const lineageRows = [context.model, ...(context.baseline ? [context.baseline] : [])].flatMap((ref, i) => [
    [i === 0 ? 'model' : 'baseline', ref.name ? `${ref.name} v${ref.version}` : '', ref.artifactId !== undefined ? `#${ref.artifactId}` : '', ref.uri],
    ...(ref.lineage ?? []).map((l) => [`  ${l.type}`, l.note ?? '', l.id !== undefined ? `#${l.id}` : '', l.uri]),
  ]);
  blocks.push({ kind: 'table', headers: ['artifact', 'registered as', 'id', 'uri'], rows: lineageRows });

  blocks.push({ kind: 'heading', level: 2, text: 'Evaluation config' });
  blocks.push({ kind: 'code', text: JSON.stringify(report.config, null, 2) });
  return blocks;
}

function confidenceLabel(report: EvaluationReport): string {
  return `${Math.round(report.config.bootstrap.confidence * 100)}%`;
}

function toMarkdown(blocks: Block[]): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return `${blocks
    .map((b) => {
      if (b.kind === 'heading') return `${'#'.repeat(b.level)} ${b.text}`;
      if (b.kind === 'paragraph') return b.text;
      if (b.kind === 'code') return `\`\`\`json\n${b.text}\n\`\`\``;
      return [`| ${b.headers.map(cell).join(' | ')} |`, `|${b.headers.map(() => '---').join('|')}|`, ...b.rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
    })
    .join('\n\n')}\n`;
}

function toHtml(blocks: Block[], title: string): string {
  const body = blocks
    .map((b) => {
      if (b.kind === 'heading') return `<h${b.level}>${escape(b.text)}</h${b.level}>`;
      if (b.kind === 'paragraph') return `<p>${escape(b.text)}</p>`;
      if (b.kind === 'code') return `<pre><code>${escape(b.text)}</code></pre>`;
      const head = `<tr>${b.headers.map((h) => `<th>${escape(h)}</th>`).join('')}</tr>`;
      const rows = b.rows.map((r) => `<tr>${r.map((c) => `<td>${escape(c)}</td>`).join('')}</tr>`).join('\n');
      return `<table>\n<thead>${head}</thead>\n<tbody>\n${rows}\n</tbody>\n</table>`;
    })
    .join('\n');
  const style = 'body{font-family:system-ui,sans-serif;max-width:70em;margin:2em auto;padding:0 1em}table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left}th{background:#f4f4f4}';
  return `<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>${escape(title)}</title>\n<style>${style}</style>\n</head>\n<body>\n${body}\n</body>\n</html>\n`;
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function fmt(value: number | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (!Number.isFinite(value)) return String(value);
  return Number.isInteger(value) ? String(value) : Number(value.toPrecision(4)).toString();
}

function signed(value: number): string {
  return `${value >= 0 ? '+' : ''}${fmt(value)}`;
}
