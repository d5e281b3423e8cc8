/**
 * The prediction log's converter process (started by prediction-log-converter.ts): runs the
 * conversions its parent sends, one at a time, and answers each. It ends when its parent
 * disconnects (closes it, or dies), after the conversion in hand; stop signals do not end it
 * (its parent, in a process group of its own, decides).
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
// Stop signals are the server's to act on: this process ends when its parent disconnects, after the conversion in hand.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => undefined);
process.on('disconnect', () => {
  void converter.close().finally(() => process.exit(0));
});
