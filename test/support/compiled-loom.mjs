// The `loom` command from the compiled package (dist/), as an installed package runs it
// (bin/loom.js without the sources beside it). test/support/cli.ts starts this when `npm test`
// found dist/ built from the current sources and named its main module in LOOM_TEST_COMPILED_CLI.
import { pathToFileURL } from 'node:url';

const { main } = await import(pathToFileURL(process.env.LOOM_TEST_COMPILED_CLI).href);
process.exitCode = await main(process.argv);
