/** The histogram worker: builds the shards it claims over the shared buffers it was sent. */
import { workerData } from 'node:worker_threads';
import { serveShards, type SharedHistogramState } from './histogram-pool.js';

serveShards(workerData as SharedHistogramState);
