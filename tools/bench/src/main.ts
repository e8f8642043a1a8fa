// npm run bench: the figures of rmp-core, psp-firmware, kvm-svm and the CLI, each with its ratio to a reference measured in the same run.
import { type Figure, formatFigures, meets } from './figure.js';
import { attestationFigures } from './suites/attestation.js';
import { cliFigures } from './suites/cli.js';
import { conformFigures } from './suites/conform.js';
import { kvmSvmFigures } from './suites/kvmSvm.js';
import { pspFirmwareFigures } from './suites/pspFirmware.js';
import { rmpCoreFigures } from './suites/rmpCore.js';

const suites: Record<string, () => Promise<Figure[]>> = {
  '@snp-ref/rmp-core': rmpCoreFigures,
  '@snp-ref/psp-firmware': pspFirmwareFigures,
  '@snp-ref/kvm-svm': kvmSvmFigures,
  '@snp-ref/attestation': attestationFigures,
  '@snp-ref/cli': cliFigures,
  '@snp-ref/patch-conformance (conform)': conformFigures,
};

if (globalThis.gc === undefined) console.warn('run with --expose-gc (npm run bench does) for heap figures');
// `npm run bench -- cli` runs only the suites whose name contains one of the arguments.
const only = process.argv.slice(2);
let missed = 0;
for (const [name, run] of Object.entries(suites)) {
  if (only.length > 0 && !only.some((o) => name.includes(o))) continue;
  const figures = await run();
  console.log(`\n${name}\n${formatFigures(figures)}`);
  missed += figures.filter((f) => meets(f) === false).length;
}
console.log(
  `\nnode ${process.version}, ${process.arch}; ${missed === 0 ? 'every target met' : `${missed} target(s) missed`}`,
);
process.exitCode = missed === 0 ? 0 : 1;
