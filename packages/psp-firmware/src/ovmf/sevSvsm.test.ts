import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LaunchOptionsError, OvmfError } from '../errors.js';
import { decodeVmsa } from '../vmsa/layout.js';
import { parseOvmfImage } from './image.js';
import { sevHashesTable } from './sevHashes.js';
import { measureSevLaunch, sevLaunch } from './sevLaunch.js';
import { svsmImages, svsmLaunchPlan, svsmVmsaProvenance } from './svsmLaunch.js';
import { buildOvmfImage, type SyntheticOvmfSpec } from './synthetic.js';

const spec: SyntheticOvmfSpec = {
  seed: 'sev test',
  pages: 8,
  sections: [{ gpa: 0x800000, size: 0x1000, type: 'SNP_KERNEL_HASHES' }],
  resetEip: 0xffff_f004,
  hashesTableGpa: 0x800c00,
};
const image = buildOvmfImage(spec);
const hashes = {
  kernel: new Uint8Array(32).fill(1),
  initrd: new Uint8Array(32).fill(2),
  cmdline: new Uint8Array(32),
};
const sha256 = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};
const cpu = { vcpus: 3, vcpuSignature: 0x800f12, vmmType: 'qemu' } as const;

describe('SEV and SEV-ES: one SHA-256 over what LAUNCH_UPDATE_DATA and _VMSA encrypt', () => {
  it('SEV: the image, then the padded hashes table with a kernel', () => {
    expect(measureSevLaunch(sevLaunch(image, { mode: 'sev', ...cpu })).digest).toBe(sha256(image));
    const launch = sevLaunch(image, { mode: 'sev', ...cpu, kernelHashes: hashes });
    expect(launch.regions.map((r) => [r.kind, r.gpa])).toEqual([
      ['firmware', 2 ** 32 - image.length],
      ['hashes-table', 0x800c00],
    ]);
    expect(measureSevLaunch(launch).digest).toBe(sha256(image, sevHashesTable(hashes)));
  });

  it('SEV-ES: then one VMSA per vCPU, SEV_FEATURES 0, the APs at the reset block', () => {
    const launch = sevLaunch(image, { mode: 'seves', ...cpu });
    const vmsas = launch.regions.filter((r) => r.kind === 'vmsa');
    expect(vmsas.map((r) => r.vcpu)).toEqual([0, 1, 2]);
    expect(vmsas.map((r) => decodeVmsa(r.bytes).values.rip)).toEqual([0xfff0n, 0xf004n, 0xf004n]);
    expect(vmsas.every((r) => decodeVmsa(r.bytes).values.sev_features === undefined)).toBe(true);
    const { digest, steps } = measureSevLaunch(launch);
    expect(steps.map((s) => s.sha256)).toEqual(launch.regions.map((r) => sha256(r.bytes)));
    expect(steps.at(-1)?.digest).toBe(digest);
    expect(digest).toBe(sha256(...launch.regions.map((r) => r.bytes)));
  });

  it('refuses a kernel where the image declares no hashes table, with sev-snp-measure message', () => {
    const { hashesTableGpa: _, ...withoutTable } = spec;
    const noTable = buildOvmfImage(withoutTable);
    expect(() => sevLaunch(noTable, { mode: 'sev', ...cpu, kernelHashes: hashes })).toThrow(
      new LaunchOptionsError("Kernel specified but OVMF doesn't support kernel/initrd/cmdline measurement"),
    );
  });
});

describe('a Coconut SVSM below OVMF and OVMF_VARS', () => {
  const svsm = buildOvmfImage({
    seed: 'svsm',
    pages: 4,
    sections: [
      { gpa: 0x0, size: 0x2000, type: 'SNP_SEC_MEM' },
      { gpa: 0x2000, size: 0x1000, type: 'SNP_SECRETS' },
    ],
    svsmEntry: 0x1000,
  });
  const options = { ...cpu, ovmfPath: 'ovmf.fd', svsmPath: 'svsm.bin', varsSize: 0x2000 };

  it('ends where the variable store begins; every vCPU starts at the SVSM entry', () => {
    const images = svsmImages(image, svsm, 0x2000);
    const svsmGpa = 2 ** 32 - image.length - 0x2000 - svsm.length;
    expect([images.svsm.gpa, images.entry]).toEqual([svsmGpa, svsmGpa + 0x1000]);
    const plan = svsmLaunchPlan(images, options);
    expect(plan.ops.map((o) => [o.op, o.gpa, o.pages])).toEqual([
      ['normal', 2 ** 32 - image.length, 8],
      ['normal', svsmGpa, 4],
      ['zero', 0, 2],
      ['secrets', 0x2000, 1],
      ...[0, 1, 2].map(() => ['vmsa', 0xffff_ffff_f000, 1]),
    ]);
    expect(plan.ops.at(-1)?.vmsa).toMatchObject({
      rip: BigInt(svsmGpa + 0x1000),
      sev_features: 1n,
      cr0: 0x11n,
    });
    expect(svsmVmsaProvenance(images, options)[0]?.vcpus).toBe('0-2');
  });

  it.each([
    [0x1001, /vars size: expected a multiple of 4096 bytes/],
    [2 ** 32, /vars size: 4294967296 bytes do not fit below OVMF/],
  ])('refuses vars size %i', (vars, message) => {
    expect(() => svsmImages(image, svsm, vars)).toThrow(message);
  });

  it('refuses an image without SVSM info, or whose entry lies outside it', () => {
    expect(() => svsmImages(image, image, 0)).toThrow(OvmfError);
    const outside = buildOvmfImage({ seed: 'x', pages: 2, sections: [], svsmEntry: 0x2000 });
    expect(() => parseOvmfImage(outside, 0x8000_0000)).toThrow(/SVSM info: entry offset 0x2000 is outside/);
  });
});
