// One ONNX Runtime session in a worker thread, for batch scoring (src/serve/batch/score-pool.ts).
// Plain JavaScript so the worker needs no TypeScript loader: it only builds tensors from the
// arrays it is sent, runs them, and sends the outputs back (typed arrays transferred, not copied).
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

// One intra-op thread: the pool runs one session per worker, side by side.
const session = await ort.InferenceSession.create(workerData.model, { intraOpNumThreads: 1, interOpNumThreads: 1 });
parentPort.postMessage({ ready: true });

/** The strings of a string input, cut from their concatenation by their lengths. */
function split(joined, lengths) {
  const strings = new Array(lengths.length);
  let at = 0;
  for (let i = 0; i < lengths.length; i++) {
    strings[i] = joined.slice(at, at + lengths[i]);
    at += lengths[i];
  }
  return strings;
}

parentPort.on('message', async ({ id, feeds }) => {
  try {
    const tensors = {};
    for (const feed of feeds) tensors[feed.name] = new ort.Tensor(feed.type, feed.joined === undefined ? feed.data : split(feed.joined, feed.data), feed.dims);
    const results = await session.run(tensors);
    const outputs = {};
    const transfer = [];
    for (const [name, tensor] of Object.entries(results)) {
      // A copy owns its buffer, so it can be transferred whatever memory ONNX Runtime used.
      const data = ArrayBuffer.isView(tensor.data) ? tensor.data.slice() : tensor.data;
      outputs[name] = data;
      if (ArrayBuffer.isView(data)) transfer.push(data.buffer);
    }
    parentPort.postMessage({ id, outputs }, transfer);
  } catch (error) {
    parentPort.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
});
