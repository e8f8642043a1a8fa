// `snp-ref measure --host-kernel VERSION`: KVM's VMSA defaults per Linux release, each change of
// them tested on its own (its fields, --explain-vmsa, diff), and every range checked against the
// sev-snp-measure release that modelled it (test/reference-runs-host-kernels.json).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEBIAN_OVMF, expand } from '../scripts/reference-runs.js';
import { type ReferenceRun, readReferenceRuns, sha256Files } from './referenceRuns.js';
import { snpRef } from './snpRefRun.js';

const reference = readReferenceRuns<ReferenceRun & { oracle: string; kernels: string[] }>(
  'reference-runs-host-kernels.json',
);
const files = { debian: DEBIAN_OVMF };
const SNP = ['--mode', 'snp', '--vcpus', '2', '--vcpu-type', 'EPYC-v4', '--ovmf', DEBIAN_OVMF];
const SEVES = ['--mode', 'seves', ...SNP.slice(2)];
const dir = mkdtempSync(join(tmpdir(), 'snp-ref-kernel-'));

/** The BSP's VMSA fields on a host kernel, as --dump-plan shows them. */
async function bspFields(base: readonly string[], kernel: string) {
  if (base[1] === 'seves') {
    const { stdout } = await snpRef(['measure', ...base, '--host-kernel', kernel, '--log']);
    return (JSON.parse(stdout.split('\n')[1] ?? '') as { vmsa: Record<string, string> }).vmsa;
  }
  const { stdout } = await snpRef(['measure', ...base, '--host-kernel', kernel, '--dump-plan']);
  const ops = (JSON.parse(stdout) as { ops: { op: string; vmsa?: Record<string, string> }[] }).ops;
  return ops.find((o) => o.op === 'vmsa')?.vmsa ?? {};
}

/** The fields that differ between two kernels' BSP VMSAs: name → [before, after]. */
async function changed(base: readonly string[], before: string, after: string) {
  const [a, b] = [await bspFields(base, before), await bspFields(base, after)];
  const names = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((f) => a[f] !== b[f]);
  return Object.fromEntries(names.map((f) => [f, [a[f] ?? '0x0', b[f] ?? '0x0']]));
}

/** `snp-ref diff` of the measurement logs of two host kernels. */
async function diffLogs(before: string, after: string) {
  const log = (kernel: string) => join(dir, `snp-${kernel}.jsonl`);
  for (const kernel of [before, after])
    await snpRef(['measure', ...SNP, '--host-kernel', kernel, '--log', log(kernel)]);
  return (await snpRef(['diff', log(before), log(after)])).stdout;
}

describe('--host-kernel: the sev-snp-measure release of each range of kernels agrees', () => {
  it('runs on the image the reference ran on', () => {
    expect(sha256Files(files, ['debian'])).toEqual(reference.files);
  });

  const cases = reference.runs.flatMap((run) =>
    run.kernels.map((kernel) => [`${kernel} as ${run.oracle}: ${run.args.join(' ')}`, kernel, run] as const),
  );
  it.each(cases)('%s', async (_, kernel, run) => {
    const ours = await snpRef(['measure', ...expand(run.args, files), '--host-kernel', kernel]);
    expect(ours).toMatchObject({ status: 0, stdout: run.stdout });
  });
});

describe('each change of KVM initial VMSA, on its own', () => {
  it('6.6 d1f85fbe836e sets SEV_FEATURES.DebugSwap, in SNP and SEV-ES VMSAs alike', async () => {
    expect(await changed(SNP, '6.5', '6.6')).toEqual({ sev_features: ['0x1', '0x21'] });
    expect(await changed(SEVES, '6.5', '6.6')).toEqual({ sev_features: ['0x0', '0x20'] });
    const text = (await snpRef(['measure', ...SNP, '--host-kernel', '6.6', '--explain-vmsa'])).stdout;
    expect(text).toMatch(
      /sev_features +0x21 +Linux 6\.6: sets 0x20 when the CPU has DebugSwap .* since 6\.6 d1f85fbe836e/,
    );
    expect(await diffLogs('6.5', '6.6')).toMatch(
      /sev_features +0x1 → 0x21 +\(\+DebugSwap\)\n +host kernel 6\.6: d1f85fbe836e "KVM: SEV: Enable data breakpoints in SEV-ES" sets 0x20/,
    );
  });

  it('6.8 5abf6dceb066 clears it again, which stable 6.6.y and 6.7.y took later', async () => {
    expect(await changed(SNP, '6.7', '6.8')).toEqual({ sev_features: ['0x21', '0x1'] });
    expect(await changed(SEVES, '6.7', '6.8')).toEqual({ sev_features: ['0x20', '0x0'] });
    const { stderr } = await snpRef(['measure', ...SNP, '--host-kernel', '6.6.0-14-generic']);
    expect(stderr).toMatch(
      /note: stable 6\.6\.y later took 6\.8 5abf6dceb066 .*: a recent 6\.6\.y measures as 6\.8/,
    );
    expect(await diffLogs('6.7', '6.8')).toMatch(
      /sev_features +0x21 → 0x1 .*\n(?: +host kernel .*\n)* +host kernel 6\.8: 5abf6dceb066 "SEV: disable SEV-ES DebugSwap by default" clears 0x20/,
    );
  });

  it('6.10 4f5defae7089 (KVM_SEV_INIT2) copies the FPU state, QEMU MXCSR and FCW, into the VMSA', async () => {
    const fpu = { mxcsr: ['0x0', '0x1f80'], x87_fcw: ['0x0', '0x37f'] };
    expect(await changed(SNP, '6.9', '6.10')).toEqual(fpu);
    expect(await changed(SEVES, '6.9', '6.10')).toEqual(fpu);
    const text = (await snpRef(['measure', ...SNP, '--host-kernel', '6.9', '--explain-vmsa'])).stdout;
    expect(text).toMatch(/mxcsr +0x0 +Linux 6\.9: copied into the VMSA only from 6\.10 4f5defae7089/);
    expect(await diffLogs('6.9', '6.10')).toMatch(
      /mxcsr +0x0 → 0x1f80\n +host kernel 6\.10: 4f5defae7089 "KVM: SEV: introduce KVM_SEV_INIT2 operation" copied into the VMSA/,
    );
  });

  it('without the flag, the VMSA is the latest kernel one, as sev-snp-measure computes it', async () => {
    const today = (await snpRef(['measure', ...SNP])).stdout;
    expect((await snpRef(['measure', ...SNP, '--host-kernel', 'v6.12'])).stdout).toBe(today);
  });
});

describe('--host-kernel: what it does not model', () => {
  it('keeps a --guest-features given with it for snp (kvm_amd.debug_swap may be set either way); seves ignores the flag', async () => {
    expect((await bspFields([...SNP, '--guest-features', '0x1'], '6.6')).sev_features).toBe('0x1');
    expect((await bspFields([...SEVES, '--guest-features', '0x0'], '6.6')).sev_features).toBe('0x20');
  });

  it.each([
    [['--vmm-type', 'ec2'], /--host-kernel: models KVM under QEMU; --vmm-type ec2 runs its own hypervisor/],
    [['--host-kernel', 'lts'], /host kernel: expected a Linux version such as 6\.8/],
  ])('refuses %j: exit 2', async (flags, message) => {
    const args = flags[0] === '--vmm-type' ? [...flags, '--host-kernel', '6.8'] : flags;
    const { status, stderr } = await snpRef(['measure', ...SNP, ...args]);
    expect(status).toBe(2);
    expect(stderr).toMatch(message);
  });

  it('refuses it for an SVSM, whose VMSA is not KVM defaults, and notes it unused for SEV', async () => {
    const svsm = ['--mode', 'snp:svsm', '--vcpus', '1', '--vcpu-type', 'EPYC', '--ovmf', DEBIAN_OVMF];
    const refused = await snpRef([
      'measure',
      ...svsm,
      '--svsm',
      DEBIAN_OVMF,
      '--vars-size',
      '4096',
      '--host-kernel',
      '6.8',
    ]);
    expect(refused.stderr).toMatch(/--host-kernel: the SVSM's VMSA is Coconut's QEMU's/);
    const sev = await snpRef(['measure', '--mode', 'sev', '--ovmf', DEBIAN_OVMF, '--host-kernel', '6.8']);
    expect(sev.stderr).toMatch(/note: --host-kernel is not measured in guest mode 'sev'/);
  });
});
