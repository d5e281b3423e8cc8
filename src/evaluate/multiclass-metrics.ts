/**
 * Multiclass metrics over class probabilities (row-major, rows x classes) and integer
 * labels 0..classes-1, defined as scikit-learn defines them.
 *
 * Usage: `multiclassMetrics(probabilities, labels, 3)`
 */
import { LoomError } from '../core/errors.js';
import type { Values } from './binary-metrics.js';

export interface MulticlassResult {
  accuracy: number;
  macro_f1: number;
  micro_f1: number;
  log_loss: number;
  example_count: number;
  /** `confusion[true][predicted]`, weighted, as sklearn's `confusion_matrix(labels=range(k))`. */
  confusion: number[][];
}

/** The predicted class of each row: the first class with the highest probability (numpy's argmax). */
export function argmaxRows(probabilities: Values, classes: number): Int32Array {
  const rows = probabilities.length / classes;
  const predicted = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    let best = 0;
    for (let k = 1; k < classes; k++) if (probabilities[i * classes + k]! > probabilities[i * classes + best]!) best = k;
    predicted[i] = best;
  }
  return predicted;
}

export function multiclassMetrics(probabilities: Values, labels: Values, classes: number, weights?: Values): MulticlassResult {
  if (!Number.isInteger(classes) || classes < 2 || probabilities.length !== labels.length * classes) {
    throw new LoomError('INVALID_ARGUMENT', `${probabilities.length} probabilities for ${labels.length} rows and ${classes} classes: expected rows x classes`);
  }
  const predicted = argmaxRows(probabilities, classes);
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  let loss = 0;
  let weightSum = 0;
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (!Number.isInteger(label) || label < 0 || label >= classes) {
      throw new LoomError('INVALID_ARGUMENT', `label at row ${i} is ${label}; a ${classes}-class model needs labels 0..${classes - 1}`, { field: 'labelColumn' });
    }
    const w = weights ? weights[i]! : 1;
    confusion[label]![predicted[i]!]! += w;
    const p = Math.min(Math.max(probabilities[i * classes + label]!, Number.EPSILON), 1 - Number.EPSILON);
    loss -= w * Math.log(p);
    weightSum += w;
  }
  let correct = 0;
  let f1Sum = 0;
  let present = 0;
  let fpTotal = 0;
  let fnTotal = 0;
  for (let k = 0; k < classes; k++) {
    const tp = confusion[k]![k]!;
    let fp = 0;
    let fn = 0;
    for (let j = 0; j < classes; j++) {
      if (j === k) continue;
      fp += confusion[j]![k]!;
      fn += confusion[k]![j]!;
    }
    correct += tp;
    fpTotal += fp;
    fnTotal += fn;
    // sklearn averages over the labels seen in y_true or y_pred only.
    if (tp + fp + fn > 0) {
      present++;
      f1Sum += (2 * tp) / (2 * tp + fp + fn);
    }
  }
  const microDenominator = 2 * correct + fpTotal + fnTotal;
  return {
    accuracy: weightSum > 0 ? correct / weightSum : Number.NaN,
    macro_f1: present > 0 ? f1Sum / present : 0,
    micro_f1: microDenominator > 0 ? (2 * correct) / microDenominator : 0,
    log_loss: weightSum > 0 ? loss / weightSum : Number.NaN,
    example_count: labels.length,
    confusion,
  };
}
