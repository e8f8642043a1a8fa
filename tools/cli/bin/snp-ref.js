#!/usr/bin/env node
// Runs the CLI from its TypeScript sources, so `npx snp-ref` works right after `npm ci` with no
// build: tsx compiles on the fly, and a resolve hook adds the workspace's source export condition.
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

register('./source-condition.js', import.meta.url);
registerTsx();
await import('../src/main.ts');
