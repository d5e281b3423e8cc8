/**
 * The component reference: every standard component's inputs, outputs and parameters, read
 * from its definition and its zod parameter schema (through JSON Schema), so the reference
 * cannot drift from what a pipeline is validated against. `loom components` prints it and
 * `docs/components.md` is rendered from it (a test keeps that file current).
 *
 * Usage: `renderComponentsMarkdown(STANDARD_COMPONENTS.map(componentReference))`.
 */
import { z } from 'zod';
import { ingestComponent } from '../data/component.js';
import { evaluateComponent } from '../evaluate/component.js';
import type { ComponentDef } from '../pipeline/component.js';
import { pushComponent } from '../push/push-component.js';
import { composeComponent } from '../train/compose-component.js';
import { trainComponent } from '../train/component.js';
import { tuneComponent } from '../train/tune-component.js';
import { transformComponent } from '../transform/component.js';
import { schemaComponent, statisticsComponent, validateComponent } from '../validate/components.js';

/** The components of the standard pipeline, in the order a pipeline uses them. */
export const STANDARD_COMPONENTS: readonly ComponentDef[] = [
  ingestComponent,
  statisticsComponent,
  schemaComponent,
  validateComponent,
  transformComponent,
  trainComponent,
  tuneComponent,
  composeComponent,
  evaluateComponent,
  pushComponent,
] as unknown as ComponentDef[];

export interface ParameterDoc {
  /** Dotted path: `split.column`, `slices[].columns[].feature`. */
  name: string;
  type: string;
  required: boolean;
  /** JSON of the default, when there is one. */
  default?: string;
  /** Bounds, patterns, lengths, the variant it belongs to, and any description. */
  notes: string[];
}

export interface ComponentDoc {
  name: string;
  version: string;
  description: string;
  inputs: { name: string; type: string; optional: boolean }[];
  outputs: { name: string; type: string }[];
  parameters: ParameterDoc[];
}

interface Node {
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  default?: unknown;
  description?: string;
  properties?: Record<string, Node>;
  required?: string[];
  additionalProperties?: Node | boolean;
  items?: Node;
  prefixItems?: Node[];
  anyOf?: Node[];
  oneOf?: Node[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
}

export function componentReference(component: ComponentDef): ComponentDoc {
  const schema = z.toJSONSchema(component.parameters, { io: 'input', unrepresentable: 'any' }) as Node;
  const parameters: ParameterDoc[] = [];
  addObject(schema, '', [], parameters);
  // A default set by code rather than the schema (train's algorithm) shows in what `{}` parses to.
  const empty = component.parameters.safeParse({});
  if (empty.success && typeof empty.data === 'object' && empty.data !== null) {
    for (const row of parameters) {
      const value = (empty.data as Record<string, unknown>)[row.name];
      if (row.default === undefined && value !== undefined) Object.assign(row, { default: JSON.stringify(value), required: false });
    }
  }
  return {
    name: component.name,
    version: component.version,
    description: component.description,
    inputs: Object.entries(component.inputs).map(([name, input]) => ({ name, type: input.type.name, optional: input.optional === true })),
    outputs: Object.entries(component.outputs).map(([name, type]) => ({ name, type: type.name })),
    parameters,
  };
}

/** The objects a node may be, through nested unions. */
function branches(node: Node): Node[] {
  const variants = node.oneOf ?? node.anyOf;
  return variants ? variants.flatMap(branches) : [node];
}

/**
 * Rows for an object's properties. A union of objects told apart by one property with a
 * constant value (`kind`, `algorithm`) gets a row for that property, and each object's other
 * properties are noted with the value they go with.
 */
function addObject(node: Node, prefix: string, notes: string[], out: ParameterDoc[]): void {
  const objects = branches(node).filter((branch) => branch.properties);
  if (objects.length > 1) {
    const discriminator = discriminatorOf(objects);
    if (discriminator) {
      out.push({
        name: prefix ? `${prefix}.${discriminator}` : discriminator,
        type: objects.map((object) => JSON.stringify(object.properties![discriminator]!.const)).join(' | '),
        required: objects.every((object) => object.required?.includes(discriminator)),
        notes: [...notes, 'chooses which of the parameters below apply'],
      });
    }
    for (const object of objects) {
      const value = discriminator ? [`when ${discriminator} is ${JSON.stringify(object.properties![discriminator]!.const)}`] : [];
      addProperties(object, prefix, [...notes, ...value], discriminator, out);
    }
    return;
  }
  if (objects[0]) addProperties(objects[0], prefix, notes, undefined, out);
}

function discriminatorOf(objects: Node[]): string | undefined {
  const first = objects[0]!;
  return Object.keys(first.properties ?? {}).find((key) => objects.every((object) => object.properties?.[key]?.const !== undefined));
}

function addProperties(node: Node, prefix: string, notes: string[], skip: string | undefined, out: ParameterDoc[]): void {
  const required = new Set(node.required ?? []);
  for (const [name, property] of Object.entries(node.properties ?? {})) {
    if (name === skip) continue;
    const path = prefix ? `${prefix}.${name}` : name;
    addParameter(property, path, required.has(name) && property.default === undefined, notes, out);
  }
}

function addParameter(node: Node, path: string, required: boolean, notes: string[], out: ParameterDoc[]): void {
  out.push({
    name: path,
    type: typeName(node),
    required,
    ...(node.default !== undefined && { default: JSON.stringify(node.default) }),
    notes: [...notes, ...constraints(node), ...(node.description ? [node.description] : [])],
  });
  // Fields of an object, of a list's objects and of a map's objects get rows below their own.
  const map = typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined;
  for (const [suffix, inner] of [['', node], ['[]', node.items], ['.<name>', map]] as const) {
    if (inner && branches(inner).some((branch) => branch.properties && Object.keys(branch.properties).length > 0)) addObject(inner, `${path}${suffix}`, [], out);
  }
}

/** A short type expression: `string`, `"a" | "b"`, `number[]`, `object`, `{ [name]: string }`. */
function typeName(node: Node): string {
  if (node.const !== undefined) return JSON.stringify(node.const);
  if (node.enum) return node.enum.map((value) => JSON.stringify(value)).join(' | ');
  const variants = node.oneOf ?? node.anyOf;
  if (variants) return [...new Set(variants.map(typeName))].join(' | ');
  const type = Array.isArray(node.type) ? node.type.join(' | ') : node.type;
  if (type === 'array') {
    if (node.prefixItems) return `[${node.prefixItems.map(typeName).join(', ')}]`;
    const item = node.items ? typeName(node.items) : 'any';
    return item.includes('|') ? `(${item})[]` : `${item}[]`;
  }
  if (type === 'object') {
    if (node.properties) return 'object';
    if (typeof node.additionalProperties === 'object') return `{ [name]: ${typeName(node.additionalProperties)} }`;
    return 'object';
  }
  return type ?? 'any';
}

/** Number.MAX_SAFE_INTEGER and its negative are what zod gives every `.int()`: not a real bound. */
const UNBOUNDED = 9_007_199_254_740_991;

function constraints(node: Node): string[] {
  const notes: string[] = [];
  const bound = (label: string, value: number | undefined) => {
    if (value !== undefined && Math.abs(value) !== UNBOUNDED) notes.push(`${label} ${value}`);
  };
  bound('≥', node.minimum);
  bound('>', node.exclusiveMinimum);
  bound('≤', node.maximum);
  bound('<', node.exclusiveMaximum);
  bound('length ≥', node.minLength && node.minLength > 1 ? node.minLength : undefined);
  if (node.minLength === 1) notes.push('not empty');
  bound('length ≤', node.maxLength);
  bound('items ≥', node.minItems);
  bound('items ≤', node.maxItems);
  if (node.pattern) notes.push(`matches \`${node.pattern}\``);
  return notes;
}

/** The whole reference as Markdown: the text of `docs/components.md`. */
export function renderComponentsMarkdown(docs: readonly ComponentDoc[]): string {
  const lines = [
    '# Component reference',
    '',
    '<!-- Generated from the components\' parameter schemas by `npm run docs:components`; a test checks it is current. -->',
    '',
    'The components of the standard pipeline, imported from `loom-mlops` (`ingestComponent`, `trainComponent`, …).',
    'A step passes `parameters`; anything not listed here is refused before the run starts. The same',
    'reference is printed by `loom components [name]` (`--json` for tools).',
    '',
    ...docs.map((doc) => `- [${doc.name}](#${doc.name}): ${doc.description}`),
  ];
  for (const doc of docs) lines.push('', ...componentMarkdown(doc));
  return `${lines.join('\n')}\n`;
}

function componentMarkdown(doc: ComponentDoc): string[] {
  const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');
  const lines = [`## ${doc.name}`, '', `${doc.description} (version ${doc.version}).`, ''];
  const inputs = doc.inputs.map((input) => `\`${input.name}\` (${input.type}${input.optional ? ', optional' : ''})`);
  lines.push(`- Inputs: ${inputs.length > 0 ? inputs.join(', ') : 'none'}`);
  lines.push(`- Outputs: ${doc.outputs.map((output) => `\`${output.name}\` (${output.type})`).join(', ')}`, '');
  if (doc.parameters.length === 0) return [...lines, 'No parameters.'];
  lines.push('| parameter | type | default | notes |', '|---|---|---|---|');
  for (const p of doc.parameters) {
    const fallback = p.default !== undefined ? `\`${cell(p.default)}\`` : p.required ? '*required*' : '';
    lines.push(`| \`${p.name}\` | \`${cell(p.type)}\` | ${fallback} | ${cell(p.notes.join('; '))} |`);
  }
  return lines;
}
