// Copies the model snp-conform checks patches against into model/, laid out as in the repository,
// so the packed snp-conform works outside a checkout (src/modelRoot.ts): the sources of the model's
// packages (MODEL_PACKAGES in src/conform.ts) without their tests, and the CLI's example scenarios
// (run by the dynamic rule). Run before packing; model/ is git-ignored.
import { cpSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const tool = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const root = resolve(tool, '../..');
const model = join(tool, 'model');
const MODEL_PACKAGES = ['packages/rmp-core', 'packages/psp-firmware', 'packages/kvm-svm'];

const notTest = (path) => !path.endsWith('.test.ts') && !/\/src\/test(\/|$)/.test(path);
const scenario = (path) => path.endsWith('.json') && !path.endsWith('.expected.json');

rmSync(model, { recursive: true, force: true });
for (const pkg of MODEL_PACKAGES)
  cpSync(join(root, pkg, 'src'), join(model, pkg, 'src'), { recursive: true, filter: notTest });
cpSync(join(root, 'tools/cli/examples'), join(model, 'tools/cli/examples'), {
  recursive: true,
  filter: (path) => basename(path) === 'examples' || scenario(path),
});
