// The MLmodel reader and the serving signature of an ONNX-flavoured MLflow model, on plain values.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LoomError } from '../../core/errors.js';
import type { ModelSignature } from '../../onnx/signature.js';
import { onnxModelFile, onnxServingSignature, parseMlmodel } from './mlmodel.js';

const GRAPH: ModelSignature = {
  inputs: [{ name: 'X', type: 'float32', shape: [-1, -1] }],
  outputs: [{ name: 'label', type: 'int64', shape: [-1] }],
};

const mlmodel = (inputs?: string) =>
  parseMlmodel(`flavors:\n  onnx:\n    data: model.onnx\n    onnx_version: 1.17.0\n  python_function:\n    loader_module: mlflow.onnx\n${inputs ? `signature:\n  inputs: '${inputs}'\n  outputs: null\n` : ''}`);

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return (error as LoomError).code;
  }
  return 'no error';
};

test('an onnx flavour names its graph file; other flavours have none', () => {
  assert.equal(onnxModelFile(mlmodel()), 'model.onnx');
  assert.equal(onnxModelFile(parseMlmodel('flavors:\n  sklearn: {pickled_model: model.pkl}\n')), undefined);
  assert.equal(code(() => parseMlmodel('no flavors here')), 'INVALID_ARGUMENT');
  assert.equal(code(() => onnxModelFile(parseMlmodel('flavors:\n  onnx: {data: ../x.onnx}\n'))), 'INVALID_ARGUMENT');
});

test('a tensor signature gives the inputs (unnamed means the only one); outputs are the graph\'s', () => {
  const named = onnxServingSignature(mlmodel('[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}, "name": "X"}]'), GRAPH);
  assert.deepEqual(named, { inputs: [{ name: 'X', type: 'float32', shape: [-1, 4] }], outputs: GRAPH.outputs });
  const unnamed = onnxServingSignature(mlmodel('[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}]'), GRAPH);
  assert.deepEqual(unnamed.inputs, named.inputs);
});

test('no signature, or a DataFrame (column) signature, serves the graph\'s own tensors', () => {
  assert.deepEqual(onnxServingSignature(mlmodel(), GRAPH), GRAPH);
  assert.deepEqual(onnxServingSignature(mlmodel('[{"type": "double", "name": "a"}]'), GRAPH), GRAPH);
});

test('a signature that disagrees with the graph is refused', () => {
  assert.equal(code(() => onnxServingSignature(mlmodel('[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}, "name": "Y"}]'), GRAPH)), 'INVALID_ARGUMENT');
  assert.equal(code(() => onnxServingSignature(mlmodel('[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 4]}, "name": "X"}]'), GRAPH)), 'INVALID_ARGUMENT');
  assert.equal(code(() => onnxServingSignature(mlmodel('not json'), GRAPH)), 'INVALID_ARGUMENT');
});
