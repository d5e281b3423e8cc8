/**
 * The ONNX ops of each fitted analyzer, appended to the transform graph. Each returns
 * either a dense float column (`value`) or, for one-hot blocks, the absolute column each
 * row sets (`index`, int64 [N, 1]) with an optional float weight (datetime: 0 when the
 * timestamp is missing). graph.ts scatters them all into the output in one op. The
 * datetime analyzer's ops are in datetime-graph.ts.
 *
 * Missing values arrive as toTensor makes them: NaN for floats, MISSING_INT64 for
 * integers and timestamps, '' for strings.
 */
import { GraphBuilder, attr, type AttributeValue } from '../onnx/builder.js';
import { MISSING_INT64 } from '../onnx/tensors.js';
import { HASH_SEED } from './hash.js';
import type { CategoricalFeature, CategoryValue, CrossFeature, FittedFeature, MinMaxFeature, QuantilesFeature, ZScoreFeature } from './fitted.js';

const ML = 'ai.onnx.ml';
/** The domain of ONNX Runtime's contrib ops (MurmurHash3); graph.ts imports it when a feature hashes. */
export const MICROSOFT = 'com.microsoft';
const FLOAT = 1;
const INT64 = 7;
const STRING = 8;
const BOOL = 9;
const TWO_32 = 2n ** 32n;

/** A dense column (at `column` within its feature, default 0) or a one-hot block. */
export type Block = { kind: 'dense'; value: string; column?: number } | { kind: 'hot'; index: string; weight?: string };

/** A scalar int64 / float32 constant. */
export const int64 = (g: GraphBuilder, name: string, value: bigint | number): string => g.addInitializer(g.uniqueName(name), new BigInt64Array([BigInt(value)]), []);
export const float = (g: GraphBuilder, name: string, value: number): string => g.addInitializer(g.uniqueName(name), new Float32Array([value]), []);

/** One node with one output, named uniquely after `name`; returns the output. */
export function node(g: GraphBuilder, op: string, inputs: string[], name: string, attributes: Record<string, AttributeValue> = {}, domain = ''): string {
  const output = g.uniqueName(name);
  g.addNode(op, inputs, [output], attributes, domain);
  return output;
}

/** A numeric input as float32 with NaN for missing, then the fitted imputation (ai.onnx.ml Imputer). */
function imputedNumber(g: GraphBuilder, feature: ZScoreFeature | MinMaxFeature | QuantilesFeature): string {
  const base = feature.name;
  let value = feature.name;
  if (feature.rawType === 'int') {
    const missing = node(g, 'Equal', [base, int64(g, `${base}/missing_value`, MISSING_INT64)], `${base}/missing`);
    const cast = node(g, 'Cast', [base], `${base}/float`, { to: attr.int(FLOAT) });
    value = node(g, 'Where', [missing, float(g, `${base}/nan`, NaN), cast], `${base}/with_nan`);
  }
  return node(g, 'Imputer', [value], `${base}/imputed`, { imputed_value_floats: attr.floats([feature.impute.value]), replaced_value_float: attr.float(NaN) }, ML);
}

export function addZScore(g: GraphBuilder, feature: ZScoreFeature): Block {
  const x = imputedNumber(g, feature);
  const centred = node(g, 'Sub', [x, float(g, `${feature.name}/mean`, feature.mean)], `${feature.name}/centred`);
  return { kind: 'dense', value: node(g, 'Div', [centred, float(g, `${feature.name}/std`, feature.std)], `${feature.name}/zscore`) };
}

export function addMinMax(g: GraphBuilder, feature: MinMaxFeature): Block {
  const range = feature.max - feature.min;
  const x = imputedNumber(g, feature);
  const scaled = node(g, 'Scaler', [x], `${feature.name}/minmax`, { offset: attr.floats([feature.min]), scale: attr.floats([range > 0 ? 1 / range : 1]) }, ML);
  return { kind: 'dense', value: scaled };
}

/** The bucket is the number of boundaries at or below x: GreaterOrEqual against all of them, summed. */
export function addQuantiles(g: GraphBuilder, feature: QuantilesFeature, offset: number): Block {
  const x = imputedNumber(g, feature);
  // No boundary (a constant column): NaN compares false, so every row is bucket 0.
  const boundaries = feature.boundaries.length > 0 ? feature.boundaries : [NaN];
  const bounds = g.addInitializer(g.uniqueName(`${feature.name}/boundaries`), Float32Array.from(boundaries), [1, boundaries.length]);
  const above = node(g, 'GreaterOrEqual', [x, bounds], `${feature.name}/at_or_above`);
  const counts = node(g, 'Cast', [above], `${feature.name}/at_or_above_int`, { to: attr.int(INT64) });
  const axes = g.addInitializer(g.uniqueName(`${feature.name}/axes`), new BigInt64Array([1n]), [1]);
  const bucket = node(g, 'ReduceSum', [counts, axes], `${feature.name}/bucket`, { keepdims: attr.int(1) });
  return { kind: 'hot', index: node(g, 'Add', [bucket, int64(g, `${feature.name}/offset`, offset)], `${feature.name}/column`) };
}

/**
 * LabelEncoder from category to int64. ONNX Runtime refuses an encoder without keys, so
 * an empty table gets one key that maps to the default anyway.
 */
function labelEncoder(g: GraphBuilder, input: string, name: string, rawType: 'string' | 'int', keys: CategoryValue[], values: number[], fallback: number): string {
  if (keys.length === 0) {
    keys = [rawType === 'int' ? Number.MIN_SAFE_INTEGER : '\u0000'];
    values = [fallback];
  }
  const keyAttr: Record<string, AttributeValue> =
    rawType === 'int' ? { keys_int64s: attr.ints(keys as number[]) } : { keys_strings: attr.strings(keys as string[]) };
  return node(g, 'LabelEncoder', [input], name, { ...keyAttr, values_int64s: attr.ints(values), default_int64: attr.int(fallback) }, ML);
}

/**
 * MurmurHash3 (hash.ts) of each value as a signed int64 in [-2^31, 2^31): a string's
 * UTF-8 bytes, an integer's decimal text (Cast to string). The com.microsoft op runs in
 * onnxruntime-node and onnxruntime-web alike.
 */
function signedHash(g: GraphBuilder, input: string, rawType: 'string' | 'int', name: string): string {
  const text = rawType === 'int' ? node(g, 'Cast', [input], `${name}/text`, { to: attr.int(STRING) }) : input;
  const hash = node(g, 'MurmurHash3', [text], `${name}/murmur3`, { seed: attr.int(HASH_SEED), positive: attr.int(0) }, MICROSOFT);
  return node(g, 'Cast', [hash], `${name}/hash`, { to: attr.int(INT64) });
}

/** The unsigned 32-bit value of a signed hash: Mod with fmod 0 takes the divisor's sign. */
const unsigned = (g: GraphBuilder, hash: string, name: string): string => node(g, 'Mod', [hash, int64(g, `${name}/two_32`, TWO_32)], `${name}/unsigned`);

/** base + (unsigned hash mod buckets): the absolute column of a hashed value. */
function hashedColumn(g: GraphBuilder, hash: string, buckets: number, base: number, name: string): string {
  const bucket = node(g, 'Mod', [unsigned(g, hash, name), int64(g, `${name}/buckets`, buckets)], `${name}/bucket`);
  return node(g, 'Add', [bucket, int64(g, `${name}/base`, base)], `${name}/hashed_column`);
}

/** The listed column where the LabelEncoder found one (>= 0), else the hashed one. */
function listedOrHashed(g: GraphBuilder, listed: string, hashed: string, name: string): string {
  const unlisted = node(g, 'Less', [listed, int64(g, `${name}/zero`, 0)], `${name}/unlisted`);
  return node(g, 'Where', [unlisted, hashed, listed], `${name}/column`);
}

/** Whether each value is missing: the int64 sentinel, or '' for strings (a LabelEncoder, as ONNX Equal takes strings only from opset 19). */
function missingFlag(g: GraphBuilder, input: string, rawType: 'string' | 'int', name: string): string {
  if (rawType === 'int') return node(g, 'Equal', [input, int64(g, `${name}/missing_value`, MISSING_INT64)], `${name}/missing`);
  const flag = labelEncoder(g, input, `${name}/missing_int`, 'string', [''], [1], 0);
  return node(g, 'Cast', [flag], `${name}/missing`, { to: attr.int(BOOL) });
}

/** Whether a feature's graph hashes (and so needs the com.microsoft domain). */
export function hashes(feature: FittedFeature): boolean {
  if (feature.analyzer === 'cross') return feature.oovBuckets > 1 || feature.vocabulary.length === 0;
  return (feature.analyzer === 'vocabulary' || feature.analyzer === 'hash') && feature.oovBuckets > 1;
}

/**
 * Vocabulary values to their columns (a LabelEncoder), any other value to its hashed
 * shared bucket; a missing value to `missingColumn`. With one shared bucket there is
 * nothing to hash: the LabelEncoder's default is that bucket.
 */
export function addCategorical(g: GraphBuilder, feature: CategoricalFeature, offset: number): Block {
  const { name, rawType } = feature;
  const shared = offset + feature.vocabulary.length;
  const missingColumn = offset + feature.missingColumn;
  const hashing = feature.oovBuckets > 1;
  const keys: CategoryValue[] = [...feature.vocabulary];
  const columns = feature.vocabulary.map((_, i) => offset + i);
  // A missing string is '' (never a vocabulary value), so its column is one more key.
  if (rawType === 'string' && (hashing || missingColumn !== shared)) {
    keys.push('');
    columns.push(missingColumn);
  }
  let column: string;
  if (!hashing) column = labelEncoder(g, name, `${name}/column`, rawType, keys, columns, shared);
  else {
    const hashed = hashedColumn(g, signedHash(g, name, rawType, name), feature.oovBuckets, shared, name);
    column = keys.length === 0 ? hashed : listedOrHashed(g, labelEncoder(g, name, `${name}/listed`, rawType, keys, columns, -1), hashed, name);
  }
  if (rawType === 'int' && (hashing || missingColumn !== shared)) {
    column = node(g, 'Where', [missingFlag(g, name, rawType, name), int64(g, `${name}/missing_column`, missingColumn), column], `${name}/with_missing`);
  }
  return { kind: 'hot', index: column };
}

/**
 * A pair in the vocabulary: each side to its index among the vocabulary's values of that
 * side (others: n), the code a * (nb + 1) + b to its column. Any other pair: MurmurHash3 of
 * the int64 (hash(a) << 32) | hash(b) (hash.ts hashPair) into a shared bucket. A pair
 * with a missing side goes to shared bucket 0.
 */
export function addCross(g: GraphBuilder, feature: CrossFeature, offset: number): Block {
  const { name, columns: inputs, rawTypes } = feature;
  const shared = offset + feature.vocabulary.length;
  let listed: string | undefined;
  if (feature.vocabulary.length > 0) {
    const sides = [0, 1].map((j) => [...new Set(feature.vocabulary.map((pair) => pair[j]))]);
    const indices = sides.map((values, j) => labelEncoder(g, inputs[j], `${name}/side${j}`, rawTypes[j], values, values.map((_, i) => i), values.length));
    const width = sides[1].length + 1;
    const position = sides.map((values) => new Map<CategoryValue, number>(values.map((value, i) => [value, i])));
    const codes = feature.vocabulary.map(([a, b]) => position[0].get(a)! * width + position[1].get(b)!);
    const code = node(g, 'Add', [node(g, 'Mul', [indices[0], int64(g, `${name}/width`, width)], `${name}/row_code`), indices[1]], `${name}/code`);
    const columns = feature.vocabulary.map((_, i) => offset + i);
    // Missing sides are never vocabulary values, so without hashing the default is their bucket too.
    if (feature.oovBuckets === 1) return { kind: 'hot', index: labelEncoder(g, code, `${name}/column`, 'int', codes, columns, shared) };
    listed = labelEncoder(g, code, `${name}/listed`, 'int', codes, columns, -1);
  }
  const [a, b] = [0, 1].map((j) => signedHash(g, inputs[j], rawTypes[j], `${name}/side${j}`));
  // hash(a) in [-2^31, 2^31) times 2^32 plus unsigned hash(b) is exact in int64: the two words side by side.
  const high = node(g, 'Mul', [a, int64(g, `${name}/shift`, TWO_32)], `${name}/high`);
  const packed = node(g, 'Add', [high, unsigned(g, b, `${name}/side1`)], `${name}/packed`);
  const pairHash = node(g, 'MurmurHash3', [packed], `${name}/murmur3`, { seed: attr.int(HASH_SEED), positive: attr.int(0) }, MICROSOFT);
  const hashed = hashedColumn(g, node(g, 'Cast', [pairHash], `${name}/hash`, { to: attr.int(INT64) }), feature.oovBuckets, shared, name);
  const column = listed ? listedOrHashed(g, listed, hashed, name) : hashed;
  const missing = node(g, 'Or', [missingFlag(g, inputs[0], rawTypes[0], `${name}/side0`), missingFlag(g, inputs[1], rawTypes[1], `${name}/side1`)], `${name}/missing`);
  return { kind: 'hot', index: node(g, 'Where', [missing, int64(g, `${name}/bucket0`, shared), column], `${name}/with_missing`) };
}
