import { existsSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FirmwareInputError, LaunchOptionsError, OvmfError } from '../errors.js';
import { measurePlan } from '../measure/measurePlan.js';
import { type LaunchPlan, launchPlanJson, parseLaunchPlan } from '../measure/plan.js';
import { guidBytes, guidText } from './guid.js';
import { OvmfGuid, parseOvmfImage } from './image.js';
import { ovmfLaunchPlan } from './launch.js';
import { cmdlineBytes, SEV_HASHES_TABLE_BYTES, sevHashesTable } from './sevHashes.js';
import { buildOvmfImage, type SyntheticOvmfSpec } from './synthetic.js';

const spec: SyntheticOvmfSpec = {
  seed: 'ovmf test',
  pages: 16,
  sections: [
    { gpa: 0x800000, size: 0x2000, type: 'SNP_SEC_MEM' },
    { gpa: 0x802000, size: 0x1000, type: 'SNP_SECRETS' },
    { gpa: 0x803000, size: 0x1000, type: 'CPUID' },
    { gpa: 0x804000, size: 0x1000, type: 'SNP_KERNEL_HASHES' },
  ],
  resetEip: 0xffff_f004,
  hashesTableGpa: 0x804f00,
};
const options = {
  imagePath: 'fw.fd',
  vcpus: 2,
  vcpuSignature: 0x800f12,
  vmmType: 'qemu',
  guestFeatures: 1n,
} as const;

describe('GUIDs', () => {
  it('are stored with their first three groups little-endian (EFI_GUID)', () => {
    expect(Buffer.from(guidBytes(OvmfGuid.FOOTER_TABLE)).toString('hex')).toBe(
      'de82b596b21ff745baeaa366c55a082d',
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
        expect(guidBytes(guidText(b))).toEqual(b);
      }),
    );
  });
});

describe(parseOvmfImage, () => {
  it("reads Debian's OVMF.fd as the published case describes it", () => {
    const debian = '/usr/share/ovmf/OVMF.fd';
    if (!existsSync(debian))
      throw new Error(`${debian} is missing: install Debian's ovmf package (npm test does, as root)`);
    const image = parseOvmfImage(readFileSync(debian));
    expect(image.gpa).toBe(0xffe0_0000);
    expect(image.sevEsResetEip).toBe(0x80b004);
    expect(image.sections.map((s) => [s.type, s.gpa, s.size])).toEqual([
      ['SNP_SEC_MEM', 0x800000, 0x9000],
      ['SNP_SEC_MEM', 0x80a000, 0x3000],
      ['SNP_SECRETS', 0x80d000, 0x1000],
      ['CPUID', 0x80e000, 0x1000],
      ['SNP_SEC_MEM', 0x80f000, 0x11000],
    ]);
  });

  it('reads back what the synthetic builder writes', () => {
    const image = parseOvmfImage(buildOvmfImage(spec));
    expect(image).toMatchObject({
      gpa: 2 ** 32 - 16 * 4096,
      sevEsResetEip: 0xffff_f004,
      sevHashesTableGpa: 0x804f00,
    });
    expect(image.sections).toEqual(spec.sections);
  });

  const u32At = (bytes: Uint8Array, at: number, value: number) =>
    new DataView(bytes.buffer).setUint32(at, value, true);
  const metadataAt = 16 * 4096 - 0x1000;
  it.each([
    [
      'the metadata signature',
      (b: Uint8Array) => b.set([0x42], metadataAt),
      'SEV metadata: signature "BSEV"',
    ],
    [
      'the metadata version',
      (b: Uint8Array) => u32At(b, metadataAt + 8, 2),
      'SEV metadata: version 2, expected 1',
    ],
    [
      'the metadata size',
      (b: Uint8Array) => u32At(b, metadataAt + 4, 20),
      'SEV metadata: size 20 does not hold 4 sections',
    ],
    [
      'a section type',
      (b: Uint8Array) => u32At(b, metadataAt + 16 + 8, 9),
      'SEV metadata section 0: unknown section type 0x9',
    ],
    [
      'a secrets section of two pages',
      (b: Uint8Array) => u32At(b, metadataAt + 16 + 12 + 4, 0x2000),
      'a secrets or CPUID section is one page',
    ],
    [
      'a section inside the firmware',
      (b: Uint8Array) => u32At(b, metadataAt + 16, 0xffff_0000),
      'overlaps the firmware image at 0xffff0000',
    ],
  ])('names a bad %s', (_, edit, message) => {
    const bytes = buildOvmfImage(spec);
    edit(bytes);
    expect(() => parseOvmfImage(bytes)).toThrow(OvmfError);
    expect(() => parseOvmfImage(bytes)).toThrow(message);
  });

  it('never fails on a corrupted image with anything but OvmfError', () => {
    const good = buildOvmfImage(spec);
    const tail = good.length - 0x1000;
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.integer({ min: tail, max: good.length - 1 }), fc.integer({ min: 0, max: 255 })),
          { minLength: 1, maxLength: 8 },
        ),
        (edits) => {
          const bytes = new Uint8Array(good);
          for (const [at, value] of edits) bytes[at] = value;
          try {
            const image = parseOvmfImage(bytes);
            ovmfLaunchPlan(image, options);
          } catch (error) {
            expect(error).toBeInstanceOf(FirmwareInputError);
          }
        },
      ),
    );
  });
});

describe(ovmfLaunchPlan, () => {
  const image = parseOvmfImage(buildOvmfImage(spec));
  const kernelHashes = {
    kernel: new Uint8Array(32).fill(1),
    initrd: new Uint8Array(32).fill(2),
    cmdline: new Uint8Array(32).fill(3),
  };

  it('lays out firmware, sections in table order, then one VMSA per vCPU', () => {
    const plan = ovmfLaunchPlan(image, options);
    expect(plan.ops.map((o) => [o.op, o.gpa, o.pages])).toEqual([
      ['normal', 0xffff_0000, 16],
      ['zero', 0x800000, 2],
      ['secrets', 0x802000, 1],
      ['cpuid', 0x803000, 1],
      ['zero', 0x804000, 1],
      ['vmsa', 0xffff_ffff_f000, 1],
      ['vmsa', 0xffff_ffff_f000, 1],
    ]);
    expect(plan.ops[5]?.vmsa?.rip).toBe(0xfff0n);
    expect(plan.ops[6]?.vmsa?.rip).toBe(0xf004n);
  });

  it('moves CPUID last for EC2 and leaves SNP_SEC_MEM unmeasured for GCE', () => {
    expect(
      ovmfLaunchPlan(image, { ...options, vmmType: 'ec2' })
        .ops.slice(1, 5)
        .map((o) => o.op),
    ).toEqual(['zero', 'secrets', 'zero', 'cpuid']);
    expect(ovmfLaunchPlan(image, { ...options, vmmType: 'gce' }).ops[1]).toMatchObject({
      op: 'unmeasured',
      pages: 2,
    });
  });

  it('puts the kernel hashes table at its offset in the SNP_KERNEL_HASHES page', () => {
    const op = ovmfLaunchPlan(image, { ...options, kernelHashes }).ops[4];
    expect(op).toMatchObject({ op: 'normal', gpa: 0x804000, pages: 1, bytes: { offset: 0xf00 } });
    expect(op?.bytes?.data).toEqual(sevHashesTable(kernelHashes));
  });

  it('starts from a precomputed firmware hash (snp:ovmf-hash) to the same digest as measuring the image', () => {
    // The firmware pages spelled out as bytes, so measurePlan can measure them without the file.
    const inline = (plan: LaunchPlan): LaunchPlan => ({
      ...plan,
      ops: plan.ops.map((op) =>
        op.file
          ? { op: 'normal', gpa: op.gpa, pages: op.pages, bytes: { offset: 0, data: image.bytes } }
          : op,
      ),
    });
    const full = ovmfLaunchPlan(image, options);
    const firmwareOnly = measurePlan(inline({ ...full, ops: full.ops.slice(0, 1) }));
    const seeded = ovmfLaunchPlan(image, {
      ...options,
      ovmfHash: new Uint8Array(Buffer.from(firmwareOnly.digest, 'hex')),
    });
    expect(seeded.ops).toEqual(full.ops.slice(1));
    expect(measurePlan(seeded).digest).toBe(measurePlan(inline(full)).digest);
  });

  it.each([
    ['no vCPU', { ...options, vcpus: 0 }, 'vcpus: expected at least 1, got 0'],
    [
      'guest features beyond 64 bits',
      { ...options, guestFeatures: 1n << 64n },
      'guest features: expected a 64-bit value',
    ],
  ])('refuses %s', (_, bad, message) => {
    expect(() => ovmfLaunchPlan(image, bad)).toThrow(LaunchOptionsError);
    expect(() => ovmfLaunchPlan(image, bad)).toThrow(message);
  });

  it('refuses a kernel the firmware cannot measure, as sev-snp-measure does', () => {
    const noHashes = parseOvmfImage(buildOvmfImage({ ...spec, sections: spec.sections.slice(0, 3) }));
    expect(() => ovmfLaunchPlan(noHashes, { ...options, kernelHashes })).toThrow(
      "Kernel specified but OVMF metadata doesn't include SNP_KERNEL_HASHES section",
    );
    const crossing = parseOvmfImage(buildOvmfImage({ ...spec, hashesTableGpa: 0x804fa0 }));
    expect(() => ovmfLaunchPlan(crossing, { ...options, kernelHashes })).toThrow('crosses a page boundary');
  });

  it('survives the plan format: launchPlanJson then parseLaunchPlan gives the same plan', () => {
    const plan = {
      ...ovmfLaunchPlan(image, { ...options, kernelHashes, ovmfHash: new Uint8Array(48).fill(9) }),
    };
    expect(parseLaunchPlan(JSON.parse(JSON.stringify(launchPlanJson(plan))))).toEqual(plan);
  });
});

describe(sevHashesTable, () => {
  it('is QEMU’s padded table: GUID, length 168, cmdline/initrd/kernel entries of 50 bytes, 8 bytes of padding', () => {
    const table = sevHashesTable({
      kernel: new Uint8Array(32).fill(0xc),
      initrd: new Uint8Array(32).fill(0xb),
      cmdline: new Uint8Array(32).fill(0xa),
    });
    expect(table.length).toBe(SEV_HASHES_TABLE_BYTES);
    expect(SEV_HASHES_TABLE_BYTES).toBe(176);
    expect(guidText(table, 0)).toBe('9438d606-4f22-4cc9-b479-a793d411fd21');
    expect([table[16], table[17]]).toEqual([168, 0]);
    expect(guidText(table, 18)).toBe('97d02dd8-bd20-4c94-aa78-e7714d36ab2a');
    expect(table[18 + 16]).toBe(50);
    expect(table[18 + 18]).toBe(0xa);
    expect(table[18 + 50 + 18]).toBe(0xb);
    expect(table[18 + 100 + 18]).toBe(0xc);
    expect(table.subarray(168).every((b) => b === 0)).toBe(true);
    expect(cmdlineBytes(undefined)).toEqual(new Uint8Array([0]));
    expect(cmdlineBytes('a')).toEqual(new Uint8Array([0x61, 0]));
  });
});
