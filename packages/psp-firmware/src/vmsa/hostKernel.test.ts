import { describe, expect, it } from 'vitest';
import { LaunchOptionsError } from '../errors.js';
import {
  changesBehind,
  HOST_KERNEL_CHANGES,
  laterBackports,
  onHostKernel,
  parseKernelVersion,
} from './hostKernel.js';
import { vmsaField } from './layout.js';
import { resetSettings } from './resetState.js';

const inputs = { vmmType: 'qemu', eip: 0xfffffff0, vcpuSignature: 0x800f12, guestFeatures: 1n } as const;
const valuesOn = (kernel: string, keep: string[] = []) =>
  Object.fromEntries(
    resetSettings({ ...inputs, hostKernel: { version: parseKernelVersion(kernel), keep } }).map((s) => [
      s.field,
      s.value,
    ]),
  );

describe('host-kernels.json', () => {
  it('names real VMSA fields, in release order, each change with a commit and a public patch', () => {
    for (const c of HOST_KERNEL_CHANGES) {
      for (const field of Object.keys(c.fields)) expect(() => vmsaField(field)).not.toThrow();
      expect(c.commit).toMatch(/^[0-9a-f]{12}$/);
      expect(c.source).toMatch(/^https:\/\/lore\.kernel\.org\//);
    }
    const order = HOST_KERNEL_CHANGES.map((c) => c.kernel.major * 1000 + c.kernel.minor);
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });
});

describe('parseKernelVersion', () => {
  it.each([
    ['6.8', 6, 8],
    ['v6.10', 6, 10],
    ['6.8.0-45-generic', 6, 8],
    ['6.6.24', 6, 6],
  ])('%s', (text, major, minor) => {
    expect(parseKernelVersion(text)).toEqual({ major, minor });
  });

  it.each(['6', 'six.eight', '6.8 ', '', '6.8;rm'])('refuses %j', (text) => {
    expect(() => parseKernelVersion(text)).toThrow(LaunchOptionsError);
  });
});

describe('KVM initial VMSA per release', () => {
  it('DebugSwap from 6.6 to 6.7, the FPU state from 6.10, the profile value of every other field', () => {
    const today = Object.fromEntries(resetSettings(inputs).map((s) => [s.field, s.value]));
    expect(valuesOn('6.5')).toEqual({ ...today, mxcsr: 0n, x87_fcw: 0n });
    expect(valuesOn('6.7')).toEqual({ ...today, sev_features: 0x21n, mxcsr: 0n, x87_fcw: 0n });
    expect(valuesOn('6.9')).toEqual({ ...today, mxcsr: 0n, x87_fcw: 0n });
    expect(valuesOn('6.10')).toEqual(today);
    expect(valuesOn('6.7', ['sev_features']).sev_features).toBe(1n);
  });

  it('names the changes behind a value, and those behind a difference', () => {
    const [setting] = onHostKernel([{ field: 'mxcsr', value: 0x1f80n, from: 'QEMU' }], {
      major: 6,
      minor: 9,
    });
    expect(setting?.from).toBe(
      'Linux 6.9: copied into the VMSA only from 6.10 4f5defae7089 "KVM: SEV: introduce KVM_SEV_INIT2 operation" (QEMU)',
    );
    expect(changesBehind('sev_features', 0x1n, 0x21n).map((c) => c.commit)).toEqual([
      'd1f85fbe836e',
      '5abf6dceb066',
    ]);
    expect(changesBehind('sev_features', 0x1n, 0x3n)).toEqual([]);
    expect(changesBehind('x87_fcw', 0x37fn, 0n).map((c) => c.commit)).toEqual(['4f5defae7089']);
    expect(laterBackports({ major: 6, minor: 7 }).map((c) => c.commit)).toEqual(['5abf6dceb066']);
    expect(laterBackports({ major: 6, minor: 9 })).toEqual([]);
  });
});
