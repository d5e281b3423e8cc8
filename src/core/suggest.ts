/**
 * "Did you mean …?" for names a user typed: a parameter, an option, a component. The nearest
 * candidate by edit distance (insertions, deletions, substitutions and swaps of neighbours,
 * case ignored), when it is near enough to be the likely intent.
 *
 * Usage: `nearestName('epoch', ['epochs', 'seed'])` is `'epochs'`; `unknownKeySuggestion(schema, issue)`.
 */
import { z } from 'zod';

/** The candidate nearest to `typed`, or undefined when none is within a third of its length (at least 2 edits). */
export function nearestName(typed: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.max(2, Math.floor(typed.length / 3));
  let best: { name: string; distance: number } | undefined;
  for (const name of candidates) {
    const distance = editDistance(typed.toLowerCase(), name.toLowerCase());
    if (distance <= limit && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

/** Optimal string alignment distance: Levenshtein plus swaps of two neighbouring letters. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}

type JsonSchemaNode = {
  properties?: Record<string, JsonSchemaNode>;
  items?: JsonSchemaNode;
  additionalProperties?: JsonSchemaNode | boolean;
  anyOf?: JsonSchemaNode[];
  oneOf?: JsonSchemaNode[];
  allOf?: JsonSchemaNode[];
};

/**
 * For a zod `unrecognized_keys` issue: ` (did you mean \`epochs\`?)` naming the valid key nearest
 * to the first unknown one at the issue's place in `schema`; empty when there is none near.
 */
export function unknownKeySuggestion(schema: z.ZodType, issue: z.core.$ZodIssue): string {
  if (issue.code !== 'unrecognized_keys' || issue.keys.length === 0) return '';
  let nodes: JsonSchemaNode[];
  try {
    nodes = [z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchemaNode];
  } catch {
    // A schema JSON Schema cannot express (a cycle, a transform on output) only loses the hint.
    return '';
  }
  for (const key of issue.path) nodes = nodes.flatMap(alternatives).flatMap((node) => child(node, key));
  const known = new Set(nodes.flatMap(alternatives).flatMap((node) => Object.keys(node.properties ?? {})));
  const nearest = nearestName(String(issue.keys[0]), known);
  return nearest === undefined ? '' : ` (did you mean \`${nearest}\`?)`;
}

/** A node and, through unions and intersections, every schema it may be. */
function alternatives(node: JsonSchemaNode): JsonSchemaNode[] {
  const branches = [...(node.anyOf ?? []), ...(node.oneOf ?? []), ...(node.allOf ?? [])];
  return [node, ...branches.flatMap(alternatives)];
}

function child(node: JsonSchemaNode, key: PropertyKey): JsonSchemaNode[] {
  if (typeof key === 'number') return node.items ? [node.items] : [];
  const property = node.properties?.[String(key)];
  if (property) return [property];
  return typeof node.additionalProperties === 'object' ? [node.additionalProperties] : [];
}
