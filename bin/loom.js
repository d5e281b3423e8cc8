#!/usr/bin/env node
// The `loom` command. Loom's sources are TypeScript run through tsx's loader,
// so a clone works after `npm install` with no build step to forget.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
