#!/usr/bin/env node
// Runs snp-conform from its TypeScript sources, so `npx snp-conform` works right after `npm ci`:
// tsx compiles on the fly, and a resolve hook adds the workspace's source export condition.
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

register('./source-condition.js', import.meta.url);
registerTsx();
await import('../src/main.ts');
