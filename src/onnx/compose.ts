/**
 * Two models into one graph: the first's outputs feed the second's inputs. This is how
 * the fitted transform and the trained model become the single served graph over raw
 * features (principle 1), so serving runs exactly the ops training data went through.
 *
 * The result's inputs are the first's; its outputs are the second's, names unchanged.
 * Every other value, initializer and node name is prefixed per model so the two cannot
 * clash. Opsets are merged (highest version per domain) and so is `metadata_props`
 * (the second's value wins on a shared key).
 *
 * Usage: `const served = composeGraphs(transformBytes, modelBytes, { connect: { features: 'features' } });`
 */
import { LoomError } from '../core/errors.js';
import { asModelProto, type GraphProto, type ModelProto, type NodeProto, type ValueInfoProto } from './proto.js';

export interface ComposeOptions {
  /** First's output name -> second's input name. Every input of the second must be connected. */
  connect: Record<string, string>;
  /** Prefixes for the internal names of the first and second model; default `['first/', 'second/']`. */
  prefixes?: [string, string];
  /** Name of the composed graph; default the second graph's name. */
  name?: string;
}

export function composeGraphs(first: ModelProto | Uint8Array, second: ModelProto | Uint8Array, options: ComposeOptions): ModelProto {
  const a = asModelProto(first);
  const b = asModelProto(second);
  const graphA = a.graph ?? {};
  const graphB = b.graph ?? {};
  const [prefixA, prefixB] = options.prefixes ?? ['first/', 'second/'];
  if (prefixA === prefixB) throw new LoomError('INVALID_ARGUMENT', 'the two prefixes must differ');

  const outputsA = new Set((graphA.output ?? []).map((output) => output.name));
  const inputsB = new Set(inputNames(graphB));
  for (const [from, to] of Object.entries(options.connect)) {
    if (!outputsA.has(from)) {
      throw new LoomError('INVALID_ARGUMENT', `the first model has no output "${from}"`, {
        field: `connect.${from}`,
        fix: `connect one of: ${[...outputsA].join(', ')}`,
      });
    }
    if (!inputsB.has(to)) {
      throw new LoomError('INVALID_ARGUMENT', `the second model has no input "${to}"`, {
        field: `connect.${from}`,
        fix: `connect to one of: ${[...inputsB].join(', ')}`,
      });
    }
  }
  const connected = new Map(Object.entries(options.connect).map(([from, to]) => [to, from]));
  const unconnected = [...inputsB].filter((input) => !connected.has(input));
  if (unconnected.length > 0) {
    throw new LoomError('INVALID_ARGUMENT', `inputs of the second model are not connected: ${unconnected.join(', ')}`, {
      field: 'connect',
    });
  }

  // The first keeps its input names; everything else inside it gets its prefix.
  const keepA = new Set(inputNames(graphA));
  const renameA = (name: string): string => (name === '' || keepA.has(name) ? name : prefixA + name);
  // The second's connected inputs become the first's (renamed) outputs; its outputs keep their names.
  const keepB = new Set((graphB.output ?? []).map((output) => output.name ?? ''));
  const renameB = (name: string): string => {
    if (name === '') return name; // an omitted optional input
    const source = connected.get(name);
    if (source !== undefined) return renameA(source);
    return keepB.has(name) ? name : prefixB + name;
  };
  const clash = [...keepB].find((name) => keepA.has(name));
  if (clash !== undefined) {
    throw new LoomError('INVALID_ARGUMENT', `"${clash}" is both an input of the first model and an output of the second`);
  }

  const initializerNamesA = new Set((graphA.initializer ?? []).map((tensor) => tensor.name));
  const graph: GraphProto = {
    name: options.name ?? graphB.name ?? graphA.name,
    input: (graphA.input ?? []).filter((input) => !initializerNamesA.has(input.name)),
    output: graphB.output ?? [],
    initializer: [
      ...(graphA.initializer ?? []).map((tensor) => ({ ...tensor, name: renameA(tensor.name ?? '') })),
      ...(graphB.initializer ?? []).map((tensor) => ({ ...tensor, name: renameB(tensor.name ?? '') })),
    ],
    node: [...(graphA.node ?? []).map((node) => renameNode(node, prefixA, renameA)), ...(graphB.node ?? []).map((node) => renameNode(node, prefixB, renameB))],
    value_info: [
      ...(graphA.value_info ?? []).map((info) => renameValue(info, renameA)),
      ...(graphB.value_info ?? []).filter((info) => !connected.has(info.name ?? '')).map((info) => renameValue(info, renameB)),
    ],
  };
  return {
    ir_version: Math.max(a.ir_version ?? 0, b.ir_version ?? 0),
    producer_name: 'loom',
    producer_version: b.producer_version ?? a.producer_version,
    opset_import: mergeOpsets(a, b),
    graph,
    metadata_props: mergeMetadata(a, b),
  };
}

/** Graph inputs that are fed by the caller (older models also list initializers as inputs). */
function inputNames(graph: GraphProto): string[] {
  const constants = new Set((graph.initializer ?? []).map((tensor) => tensor.name));
  return (graph.input ?? []).map((input) => input.name ?? '').filter((name) => !constants.has(name));
}

function renameNode(node: NodeProto, prefix: string, rename: (name: string) => string): NodeProto {
  for (const attribute of node.attribute ?? []) {
    if (attribute.g !== undefined || (attribute.graphs ?? []).length > 0) {
      // Subgraphs can capture outer names; renaming them correctly is not needed by any Loom graph yet.
      throw new LoomError('INVALID_ARGUMENT', `node "${node.name ?? node.op_type}" has a subgraph, which composeGraphs does not support`);
    }
  }
  return {
    ...node,
    name: prefix + (node.name ?? node.op_type ?? 'node'),
    input: (node.input ?? []).map(rename),
    output: (node.output ?? []).map(rename),
  };
}

function renameValue(info: ValueInfoProto, rename: (name: string) => string): ValueInfoProto {
  return { ...info, name: rename(info.name ?? '') };
}

function mergeOpsets(a: ModelProto, b: ModelProto): { domain: string; version: number }[] {
  const versions = new Map<string, number>();
  for (const opset of [...(a.opset_import ?? []), ...(b.opset_import ?? [])]) {
    const domain = opset.domain ?? '';
    versions.set(domain, Math.max(versions.get(domain) ?? 0, opset.version ?? 0));
  }
  return [...versions].map(([domain, version]) => ({ domain, version }));
}

function mergeMetadata(a: ModelProto, b: ModelProto): { key: string; value: string }[] {
  const merged = new Map<string, string>();
  for (const entry of [...(a.metadata_props ?? []), ...(b.metadata_props ?? [])]) {
    if (entry.key !== undefined) merged.set(entry.key, entry.value ?? '');
  }
  return [...merged].map(([key, value]) => ({ key, value }));
}
