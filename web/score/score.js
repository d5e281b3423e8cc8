// Scores rows with the served model's ONNX graph in the browser (onnxruntime-web, wasm).
// Conversions mirror src/onnx/tensors.ts so the browser feeds the graph what the server does:
// missing numbers are NaN, missing strings '', missing int64 the smallest int64.
/* global ort */

const MISSING_INT64 = -(2n ** 63n);
const statusLine = document.getElementById('status');

function setStatus(text, isError = false) {
  statusLine.textContent = text;
  statusLine.className = isError ? 'error' : '';
}

function modelName() {
  const fromQuery = new URLSearchParams(location.search).get('model');
  return fromQuery || document.querySelector('meta[name="loom-default-model"]').content;
}

/** One tensor for an input spec from one value per row; the batch dimension (-1) takes the row count. */
function toTensor(spec, values) {
  const fixed = spec.shape.reduce((product, dim) => (dim < 0 ? product : product * dim), 1);
  const dims = spec.shape.map((dim) => (dim < 0 ? values.length / fixed : dim));
  const missing = (value) => value === null || value === undefined || value === '';
  switch (spec.type) {
    case 'float32':
    case 'float64': {
      const data = spec.type === 'float32' ? new Float32Array(values.length) : new Float64Array(values.length);
      values.forEach((value, i) => { data[i] = missing(value) ? NaN : Number(value); });
      return new ort.Tensor(spec.type, data, dims);
    }
    case 'int64':
      return new ort.Tensor('int64', BigInt64Array.from(values, (value) => (missing(value) ? MISSING_INT64 : BigInt(value))), dims);
    case 'int32':
      return new ort.Tensor('int32', Int32Array.from(values, (value) => Number(value)), dims);
    case 'bool':
      return new ort.Tensor('bool', Uint8Array.from(values, (value) => (value === true || value === 'true' ? 1 : 0)), dims);
    default:
      return new ort.Tensor('string', values.map((value) => (value === null || value === undefined ? '' : String(value))), dims);
  }
}

let model; // { name, version, signature, session }

/** Scores records (objects of raw features); resolves to { version, outputs: { name: number[] } }, one value per row. */
async function score(records) {
  if (!model) throw new Error('the model is not loaded yet');
  const feeds = {};
  for (const spec of model.signature.inputs) feeds[spec.name] = toTensor(spec, records.map((record) => record[spec.name]));
  const results = await model.session.run(feeds);
  const outputs = {};
  for (const spec of model.signature.outputs) {
    const data = results[spec.name].data;
    outputs[spec.name] = Array.from(data, (value) => (typeof value === 'bigint' ? Number(value) : value));
  }
  return { version: model.version, outputs };
}

function parseRows(text) {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) return JSON.parse(trimmed);
  return trimmed.split('\n').filter((line) => line.trim()).map((line) => JSON.parse(line));
}

function renderTable(records, outputs) {
  const names = Object.keys(outputs);
  const columns = [...model.signature.inputs.map((spec) => spec.name), ...names];
  const rows = records.map((record, i) => columns.map((column) => (names.includes(column) ? outputs[column][i] : record[column])));
  const cell = (tag, value) => `<${tag}>${String(value ?? '').replace(/[&<]/g, (c) => (c === '&' ? '&amp;' : '&lt;'))}</${tag}>`;
  return `<table><tr>${columns.map((c) => cell('th', c)).join('')}</tr>${rows.map((row) => `<tr>${row.map((v) => cell('td', v)).join('')}</tr>`).join('')}</table>`;
}

async function load() {
  const name = modelName();
  if (!name) throw new Error('no model: open this page as /ui/score/?model=<name>');
  // Single-threaded wasm: threads need cross-origin isolation, and one thread is plenty for a page.
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = '/ui/ort/';
  const described = await fetch(`/ui/models/${encodeURIComponent(name)}/signature.json`);
  if (!described.ok) throw new Error(`cannot describe model ${name}: ${(await described.json()).error}`);
  const { version, signature } = await described.json();
  const graph = await fetch(`/ui/models/${encodeURIComponent(name)}/versions/${version}/model.onnx`);
  if (!graph.ok) throw new Error(`cannot download model ${name}: HTTP ${graph.status}`);
  const bytes = new Uint8Array(await graph.arrayBuffer());
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  model = { name, version, signature, session };

  const fields = document.getElementById('fields');
  for (const spec of signature.inputs) {
    const numeric = spec.type !== 'string' && spec.type !== 'bool';
    fields.insertAdjacentHTML('beforeend', `<label>${spec.name} <input name="${spec.name}" ${numeric ? 'type="number" step="any"' : ''}></label>`);
  }
  document.getElementById('rows').value = JSON.stringify([Object.fromEntries(signature.inputs.map((spec) => [spec.name, null]))]);
  for (const button of document.querySelectorAll('button')) button.disabled = false;
  setStatus(`${name} version ${model.version} loaded; scoring runs in this page`);
  document.body.dataset.ready = 'true';
}

document.getElementById('single').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const record = Object.fromEntries(model.signature.inputs.map((spec) => [spec.name, form.get(spec.name)]));
  const target = document.getElementById('single-result');
  try {
    const { outputs } = await score([record]);
    target.textContent = Object.entries(outputs).map(([name, values]) => `${name} = ${values[0]}`).join(', ');
  } catch (error) {
    target.textContent = `error: ${error.message}`;
  }
});

document.getElementById('batch').addEventListener('submit', async (event) => {
  event.preventDefault();
  const target = document.getElementById('batch-result');
  try {
    const records = parseRows(document.getElementById('rows').value);
    target.innerHTML = renderTable(records, (await score(records)).outputs);
  } catch (error) {
    target.textContent = `error: ${error.message}`;
  }
});

// For scripts and tests driving the page: window.loomScore(records).
window.loomScore = score;
load().catch((error) => {
  setStatus(error.message, true);
  document.body.dataset.ready = 'error';
});
