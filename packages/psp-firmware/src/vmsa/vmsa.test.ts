import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VmsaError } from '../errors.js';
import { cpuSignature, vcpuTypeSignature } from './cpuSignature.js';
import { decodeVmsa, encodeVmsa, VMSA_BYTES, VMSA_FIELDS, type VmsaValues } from './layout.js';
import { BSP_RESET_EIP, resetSettings, resetVmsaValues } from './resetState.js';

/** Any assignment of non-zero values to a subset of the fields. */
const values: fc.Arbitrary<VmsaValues> = fc
  .subarray([...VMSA_FIELDS])
  .chain((fields) =>
    fc
      .tuple(
        ...fields.map((f) =>
          f.array === true
            ? fc.uint8Array({ minLength: f.bytes, maxLength: f.bytes }).filter((b) => b.some((x) => x !== 0))
            : fc.bigInt({ min: 1n, max: (1n << BigInt(8 * f.bytes)) - 1n }),
        ),
      )
      .map((vs) => Object.fromEntries(fields.map((f, i) => [f.name, vs[i] as bigint | Uint8Array]))),
  );

describe('the VMSA layout', () => {
  it('decodes what it encodes, every field', () => {
    fc.assert(
      fc.property(values, (v) => {
        const decoded = decodeVmsa(encodeVmsa(v));
        expect(decoded.values).toEqual(v);
        expect(decoded.reservedNonZero).toEqual([]);
      }),
    );
  });

  it('has no two fields on the same byte, all inside the page', () => {
    const owner = new Array<string | undefined>(VMSA_BYTES);
    for (const f of VMSA_FIELDS) {
      for (let i = f.offset; i < f.offset + f.bytes; i++) {
        expect(owner[i], `${f.name} overlaps ${owner[i]}`).toBeUndefined();
        owner[i] = f.name;
      }
    }
    expect(owner.length).toBe(VMSA_BYTES);
  });

  it('puts the fields where the APM and Linux do (sev_features 0x3b0, xcr0 0x3e8, x87_fcw 0x410)', () => {
    const page = encodeVmsa({ sev_features: 0x21n, xcr0: 1n, x87_fcw: 0x37fn, 'cs.selector': 0xf000n });
    expect(page[0x3b0]).toBe(0x21);
    expect(page[0x3e8]).toBe(1);
    expect([page[0x410], page[0x411]]).toEqual([0x7f, 0x03]);
    expect([page[0x10], page[0x11]]).toEqual([0x00, 0xf0]);
  });

  it('shows reserved bytes that are set instead of dropping them', () => {
    const page = encodeVmsa({});
    page[0xc8] = 1;
    expect(decodeVmsa(page).reservedNonZero).toEqual([0xc8]);
  });

  it.each([
    ['an unknown field', { rip2: 1n }, 'rip2: not a VMSA field'],
    ['a value too wide', { 'cs.attrib': 0x10000n }, 'cs.attrib: expected an integer of 16 bits'],
    ['an array too long', { fpreg_x87: new Uint8Array(81) }, 'fpreg_x87: expected at most 80 bytes'],
  ])('refuses %s', (_, v, message) => {
    expect(() => encodeVmsa(v)).toThrow(VmsaError);
    expect(() => encodeVmsa(v)).toThrow(message);
  });
});

describe('the initial VMSA', () => {
  const epycV4 = vcpuTypeSignature('EPYC-v4') ?? 0;

  it('is the BSP page of the published Debian case (sev-snp-measure --dump-vmsa: SHA-384 77920c4c…)', () => {
    const page = encodeVmsa(
      resetVmsaValues({ vmmType: 'qemu', eip: BSP_RESET_EIP, vcpuSignature: epycV4, guestFeatures: 1n }),
    );
    expect(createHash('sha384').update(page).digest('hex')).toBe(
      '77920c4c629ff47e90c0e174fc1ad0eb6fa664f88cd4739488058a8c6cb1a77b3856f55378e9518d0da99452d51c553a',
    );
  });

  it('starts the BSP at the reset vector and the APs at the reset block, per VMM profile', () => {
    const of = (vmmType: 'qemu' | 'ec2' | 'gce', eip: number) =>
      resetVmsaValues({ vmmType, eip, vcpuSignature: epycV4, guestFeatures: 1n });
    expect(of('qemu', BSP_RESET_EIP)).toMatchObject({ 'cs.base': 0xffff0000n, rip: 0xfff0n, rdx: 0x800f12n });
    expect(of('qemu', 0x80b004)).toMatchObject({ 'cs.base': 0x800000n, rip: 0xb004n, mxcsr: 0x1f80n });
    expect(of('ec2', BSP_RESET_EIP)['cs.attrib']).toBe(0x9an);
    expect(of('ec2', 0x80b004)).toMatchObject({ 'cs.attrib': 0x9bn, rdx: 0x600n });
    expect(of('ec2', 0x80b004).mxcsr).toBeUndefined();
    expect(of('gce', BSP_RESET_EIP).g_pat).toBe(0x70106n);
  });

  it('says where every value comes from', () => {
    const settings = resetSettings({
      vmmType: 'qemu',
      eip: BSP_RESET_EIP,
      vcpuSignature: 1,
      guestFeatures: 0x21n,
    });
    expect(settings.find((s) => s.field === 'sev_features')).toMatchObject({
      value: 0x21n,
      from: expect.stringMatching(/--guest-features/),
    });
    expect(settings.every((s) => s.from.length > 0)).toBe(true);
  });
});

describe(cpuSignature, () => {
  it('encodes family, model and stepping as CPUID Fn0000_0001 EAX', () => {
    expect(cpuSignature(23, 1, 2)).toBe(0x800f12);
    expect(cpuSignature(25, 17, 0)).toBe(0xa10f10);
    expect(cpuSignature(6, 0x55, 4)).toBe(0x50654);
    expect(vcpuTypeSignature('EPYC-Milan')).toBe(0xa00f11);
    expect(vcpuTypeSignature('toString')).toBeUndefined();
  });
});
