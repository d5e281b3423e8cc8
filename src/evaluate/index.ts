/**
 * Model analysis (TFMA's Evaluator, Fairlearn's MetricFrame): metrics by task equal to
 * scikit-learn's, slices, fairness, bootstrap intervals, thresholds and the blessing, the
 * model card, and the adapters that run them (the `evaluate` pipeline component and
 * `loom evaluate` on registered versions).
 */
export { evaluateComponent, evaluateParameters } from './component.js';
export { evaluationConfig, checkConfigAgainstData, type EvaluationConfig, type EvaluationConfigInput, type MetricThreshold } from './config.js';
export { analyzeModel, type ModelAnalysis, type SliceMetrics, type FairnessResult } from './evaluator.js';
export { taskMetrics, metricPlots, metricDirection, METRICS_BY_TASK, TASKS, type Predictions, type Task } from './metrics.js';
export { fairnessReport, DISPARITY_METRICS, type FairnessReport } from './fairness.js';
export { bootstrapIntervals, type ConfidenceInterval } from './bootstrap.js';
export { checkThreshold, decideBlessing, type Blessing, type ThresholdCheck } from './blessing.js';
export { renderModelCard } from './model-card.js';
export { buildReport, writeEvaluation, type EvaluationReport } from './report.js';
export { evaluateDataFile } from './run-evaluation.js';
export { evaluateRegisteredModel, type RegisteredEvaluation } from './evaluate-registered.js';
