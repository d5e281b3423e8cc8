import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { definePipeline } from '../pipeline/dsl.js';
import { trainComponent } from '../train/component.js';
import { transformComponent } from '../transform/component.js';
import { ingestComponent } from '../data/component.js';
import { schemaComponent, statisticsComponent } from '../validate/components.js';
import { runLoom } from '../../test/support/cli.js';
import { makeTempDir } from '../../test/support/flights.js';
import { STANDARD_COMPONENTS, componentReference, renderComponentsMarkdown } from './component-reference.js';

const DOC = fileURLToPath(new URL('../../docs/components.md', import.meta.url));

test('docs/components.md is the reference generated from the components as they are now', () => {
  const current = renderComponentsMarkdown(STANDARD_COMPONENTS.map(componentReference));
  assert.equal(readFileSync(DOC, 'utf8'), current, 'docs/components.md is out of date: run `npm run docs:components` and commit it');
});

test('every parameter a component accepts is in its reference, with its type and default', () => {
  for (const component of STANDARD_COMPONENTS) {
    const documented = new Set(componentReference(component).parameters.map((p) => p.name));
    const schema = z.toJSONSchema(component.parameters, { io: 'input', unrepresentable: 'any' }) as { properties?: object; oneOf?: { properties?: object }[] };
    for (const variant of [schema, ...(schema.oneOf ?? [])]) {
      for (const name of Object.keys(variant.properties ?? {})) assert.ok(documented.has(name), `${component.name}.${name} is not documented`);
    }
  }
  const train = componentReference(trainComponent as never).parameters;
  assert.deepEqual(
    train.filter((p) => p.name === 'epochs').map((p) => [p.type, p.default, p.notes[0]]),
    [
      ['integer', '100', 'when algorithm is "logistic_regression"'],
      ['integer', '5', 'when algorithm is "mlp"'],
    ],
  );
  // A default set by code, not by the schema, is found too: train without an algorithm is logistic regression.
  assert.equal(train.find((p) => p.name === 'algorithm')?.default, '"logistic_regression"');
  const ingest = componentReference(ingestComponent as never).parameters;
  assert.deepEqual(ingest.find((p) => p.name === 'split.kind'), { name: 'split.kind', type: '"time" | "hash"', required: true, notes: ['chooses which of the parameters below apply'] });
});

test('a misspelt step parameter is refused before the run, naming the nearest valid one', () => {
  const define = () => definePipeline('typo', (p) => {
    const ingest = p.step('ingest', ingestComponent, { parameters: { source: 'x.csv', split: { kind: 'hash', key: 'id', evalPercent: 20 } } });
    const statistics = p.step('statistics', statisticsComponent, { inputs: { examples: ingest.outputs.examples } });
    const schema = p.step('schema', schemaComponent, { inputs: { statistics: statistics.outputs.statistics }, parameters: { path: 'schema.json' } });
    const transform = p.step('transform', transformComponent, {
      inputs: { examples: ingest.outputs.examples, schema: schema.outputs.schema },
      parameters: { labelColumn: 'y' },
    });
    p.step('train', trainComponent, {
      inputs: { transformedExamples: transform.outputs.transformedExamples, transformGraph: transform.outputs.transformGraph },
      parameters: { epoch: 20 } as never,
    });
  });
  // definePipeline validates the pipeline it builds.
  assert.throws(define, (error: Error & { fix?: string }) => {
    assert.match(error.message, /step "train": parameter .*"epoch".*\(did you mean `epochs`\?\)/);
    assert.match(error.fix ?? '', /loom components train/);
    return true;
  });
});

test('loom components lists the components, shows one as JSON, and suggests the name meant', async (t) => {
  const dir = await makeTempDir((fn) => t.after(fn));
  const list = await runLoom(['components'], { cwd: dir });
  assert.equal(list.code, 0, list.stderr);
  for (const component of STANDARD_COMPONENTS) assert.match(list.stdout, new RegExp(`^${component.name} `, 'm'));
  const one = await runLoom(['components', 'push', '--json'], { cwd: dir });
  assert.equal(one.code, 0, one.stderr);
  assert.deepEqual(JSON.parse(one.stdout), JSON.parse(JSON.stringify(componentReference(STANDARD_COMPONENTS.find((c) => c.name === 'push')!))));
  const typo = await runLoom(['components', 'trian'], { cwd: dir });
  assert.equal(typo.code, 3);
  assert.match(typo.stderr, /no component "trian" \(did you mean "train"\?\)/);
});
