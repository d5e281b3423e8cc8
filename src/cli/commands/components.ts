/**
 * `loom components [name] [--json] [--markdown]`: the parameters, inputs and outputs of the
 * standard pipeline's components, read from their schemas (see ../component-reference.ts).
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { LoomError } from '../../core/errors.js';
import { nearestName } from '../../core/suggest.js';
import { STANDARD_COMPONENTS, componentReference, renderComponentsMarkdown, type ComponentDoc } from '../component-reference.js';
import { parseOptions } from '../options.js';
import { formatTable, printJson, printTable } from '../output.js';

const componentsOptions = z.object({ json: z.boolean().optional(), markdown: z.boolean().optional() });

export function registerComponentsCommand(program: Command): void {
  program
    .command('components')
    .description("the standard pipeline's components: their inputs, outputs and every parameter with its type and default")
    .argument('[name]', 'one component, e.g. train')
    .option('--json', 'print JSON')
    .option('--markdown', 'print the reference as Markdown (the text of docs/components.md)')
    .action((name: string | undefined, raw: unknown) => {
      const options = parseOptions(componentsOptions, raw);
      const docs = name === undefined ? STANDARD_COMPONENTS.map(componentReference) : [componentReference(findComponent(name))];
      if (options.json) printJson(name === undefined ? docs : docs[0]);
      else if (options.markdown) process.stdout.write(renderComponentsMarkdown(docs));
      else if (name === undefined) printTable(['component', 'description'], docs.map((doc) => [doc.name, doc.description]));
      else process.stdout.write(formatComponent(docs[0]!));
    });
}

function findComponent(name: string) {
  const found = STANDARD_COMPONENTS.find((component) => component.name === name);
  if (found) return found;
  const names = STANDARD_COMPONENTS.map((component) => component.name);
  const nearest = nearestName(name, names);
  throw new LoomError('NOT_FOUND', `there is no component "${name}"${nearest ? ` (did you mean "${nearest}"?)` : ''}`, {
    field: 'name',
    fix: `name one of: ${names.join(', ')}`,
  });
}

/** One component for people: what it does, its wiring, and a table of its parameters. */
function formatComponent(doc: ComponentDoc): string {
  const lines = [`${doc.name} (version ${doc.version}): ${doc.description}`, ''];
  lines.push(`inputs:  ${doc.inputs.map((input) => `${input.name} (${input.type}${input.optional ? ', optional' : ''})`).join(', ') || 'none'}`);
  lines.push(`outputs: ${doc.outputs.map((output) => `${output.name} (${output.type})`).join(', ')}`, '');
  if (doc.parameters.length === 0) lines.push('no parameters');
  else {
    const rows = doc.parameters.map((p) => [p.name, p.type, p.default ?? (p.required ? 'required' : ''), p.notes.join('; ')]);
    lines.push(formatTable(['parameter', 'type', 'default', 'notes'], rows));
  }
  return `${lines.join('\n')}\n`;
}
