// Regenerates test/reference-runs-host-kernels.json: for each range of host kernels, the
// sev-snp-measure release that modelled KVM's VMSA in that range, run on the same command lines
// (`snp-ref measure … --host-kernel K` must print what it printed):
//   SEV_SNP_MEASURE_GIT=/path/to/sev-snp-measure/.git node --conditions=@snp-ref/source --import tsx tools/cli/scripts/host-kernel-runs.ts
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEBIAN_OVMF, runner, write } from './reference-runs.js';

/**
 * sev-snp-measure's history (its commit messages): 72b5191 (0.0.8) predates "vmsa: Updating for
 * kernel debug_swap" (84dff98, PR #32); e93396a (0.0.9) made --guest-features 0x21 the default for
 * kernels with DebugSwap on; 9dabc4b has "Change default value of --guest-features to 0x1" (PR #44,
 * after KVM turned DebugSwap off) but not "Update the VMSA to match latest upstream kernel"
 * (ae95e59, KVM_SEV_INIT2's MXCSR and FCW); 8f2b337 (0.0.13) has both.
 */
const ORACLES = [
  { commit: '72b5191', release: '0.0.8', kernels: ['6.5'] },
  { commit: 'e93396a', release: '0.0.9', kernels: ['6.6', '6.7'] },
  { commit: '9dabc4b', release: '0.0.9+PR44', kernels: ['6.8', '6.9'] },
  { commit: '8f2b337', release: '0.0.13', kernels: ['6.10', '6.12'] },
] as const;

/**
 * SNP launches of Debian's OVMF whose VMSAs KVM builds (QEMU): the BSP alone, BSP and APs. (The
 * synthetic firmware has an SVSM_CAA section, which releases before 0.0.11 refuse.)
 */
const RUNS: readonly (readonly string[])[] = [
  ['--mode', 'snp', '--vcpus', '1', '--vcpu-type', 'EPYC-v4', '--ovmf', '{debian}'],
  ['--mode', 'snp', '--vcpus', '4', '--vcpu-type', 'EPYC-Milan', '--ovmf', '{debian}'],
  ['--mode', 'snp', '--vcpus', '2', '--vcpu-sig', '0xa10f11', '--ovmf', '{debian}'],
];

function main(): void {
  const git = process.env.SEV_SNP_MEASURE_GIT;
  if (git === undefined) throw new Error('set SEV_SNP_MEASURE_GIT to the .git of a sev-snp-measure clone');
  const files = { debian: DEBIAN_OVMF };
  const runs = ORACLES.flatMap(({ commit, release, kernels }) => {
    const dir = mkdtempSync(join(tmpdir(), `sev-snp-measure-${commit}-`));
    execFileSync('sh', ['-c', `git --git-dir="$0" archive "$1" | tar -x -C "$2"`, git, commit, dir]);
    const run = runner(join(dir, 'sev-snp-measure.py'), files);
    return RUNS.map((args) => ({ oracle: `${release} (${commit})`, kernels, args, ...run(args) }));
  });
  write(
    'reference-runs-host-kernels.json',
    files,
    ['debian'],
    { runs },
    'virtee/sev-snp-measure at four commits, one per range of host kernels, run by tools/cli/scripts/host-kernel-runs.ts',
  );
}

if (process.argv[1] === import.meta.filename) main();
