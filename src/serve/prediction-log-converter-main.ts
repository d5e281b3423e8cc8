/**
 * The prediction log's converter process (started by prediction-log-converter.ts): runs the
 * conversions its parent sends, one at a time, and answers each. It ends when its parent
 * disconnects (closes it, or dies).
 */
import { InlineConverter, type ConversionJob } from './prediction-log-convert.js';
import { workerError } from './prediction-log-backends.js';
import type { FromConverter } from './prediction-log-converter.js';

const converter = new InlineConverter();
const answer = (message: FromConverter) => process.send!(message);

process.on('message', (message: { id: number; job: ConversionJob }) => {
  converter.convert(message.job).then(
    (result) => answer({ id: message.id, result }),
    (error: unknown) => answer({ id: message.id, error: workerError(error) }),
  );
});
process.on('disconnect', () => {
  void converter.close().finally(() => process.exit(0));
});
