#!/usr/bin/env node
// Runs the CLI from its TypeScript sources, so `npx snp-ref` works right after `npm ci` with no build:
// a child Node with tsx and the workspace's source export condition (see the root README).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const tsx = import.meta.resolve('tsx');
const { status, signal } = spawnSync(
  process.execPath,
  ['--conditions=@snp-ref/source', '--import', tsx, main, ...process.argv.slice(2)],
  { stdio: 'inherit' },
);
process.exitCode = status ?? (signal === null ? 1 : 128);
