import { PAGE_SIZE } from '@snp-ref/rmp-core';
import { describe, expect, it } from 'vitest';
import { PlanError } from '../errors.js';
import { parseLaunchPlan, SeededPages } from './plan.js';

const plan = (ops: unknown[]) => ({ name: 'p', seed: 's', ops });

describe(parseLaunchPlan, () => {
  it('reads the vector plan format', () => {
    expect(
      parseLaunchPlan(
        plan([
          { op: 'normal', gpa: '0xffe00000', pages: 8 },
          { op: 'vmsa', gpa: '0x1000' },
        ]),
      ),
    ).toEqual({
      name: 'p',
      seed: 's',
      ops: [
        { op: 'normal', gpa: 0xffe0_0000, pages: 8 },
        { op: 'vmsa', gpa: 0x1000, pages: 1 },
      ],
    });
  });

  it.each([
    [{ name: 'p', seed: 1, ops: [] }, 'seed: expected a string'],
    [plan([{ op: 'measured', gpa: '0x0' }]), 'ops[0].op: unknown page type "measured"'],
    [plan([{ op: 'zero', gpa: '0x1800', pages: 1 }]), 'ops[0].gpa: 0x1800 is not 4 KiB aligned'],
    [
      plan([{ op: 'zero', gpa: 4096, pages: 1 }]),
      'ops[0].gpa: expected a hex string such as "0x1000", got 4096',
    ],
    [plan([7]), 'ops[0]: expected an object'],
    [plan([{ gpa: '0x0' }]), 'ops[0].op: unknown page type (missing)'],
    [plan([{ op: 'cpuid', gpa: '0x8000000000000' }]), 'ops[0].gpa: 0x8000000000000 is beyond the 51-bit'],
    [plan([{ op: 'normal', gpa: '0x0', pages: 1.5 }]), 'ops[0].pages: expected a page count ≥ 0, got 1.5'],
    [plan([{ op: 'secrets', gpa: '0x0', pages: 2 }]), 'ops[0].pages: a secrets op covers exactly one page'],
    [
      plan([{ op: 'zero', gpa: '0x0', pages: 1, bytes: { hex: '00' } }]),
      'ops[0].bytes: only normal pages take bytes',
    ],
    [
      plan([{ op: 'normal', gpa: '0x0', pages: 1, bytes: { offset: 4095, hex: '0000' } }]),
      'ops[0].bytes: 2 bytes at offset 4095 do not fit in 1 page(s)',
    ],
    [
      plan([{ op: 'normal', gpa: '0x0', pages: 1, bytes: { hex: 'xyz' } }]),
      'ops[0].bytes.hex: expected bytes as an even number of hex digits',
    ],
    [
      plan([{ op: 'vmsa', gpa: '0x0', vmsa: { rip: 5 } }]),
      'ops[0].vmsa.rip: expected a hex string such as "0x1f80", got 5',
    ],
    [plan([{ op: 'vmsa', gpa: '0x0', vmsa: { cs: '0x1' } }]), 'ops[0].vmsa.cs: cs: not a VMSA field'],
    [
      plan([{ op: 'vmsa', gpa: '0x0', vmsa: { cpl: '0x100' } }]),
      'ops[0].vmsa: cpl: expected an integer of 8 bits',
    ],
    [{ ...plan([]), initialDigest: 'abc' }, 'initialDigest: expected 48 bytes as 96 hex digits'],
  ])('names the bad field: %j', (value, message) => {
    expect(() => parseLaunchPlan(value)).toThrow(PlanError);
    expect(() => parseLaunchPlan(value)).toThrow(message);
  });
});

describe(SeededPages, () => {
  it('streams SHA-256(seed || u32le(counter)) blocks across pages (vectors README worked example)', () => {
    const pages = new SeededPages('single');
    const first = pages.next();
    expect(first.subarray(0, 32).toString('hex')).toBe(
      'ff8c77f2dd5ced8eb7d5c2df74eff7292d4ac8adb101dd4cfea6114180eb4cd8',
    );
    expect(first.length).toBe(PAGE_SIZE);
    const second = new SeededPages('single');
    second.next();
    expect(second.next().equals(pages.next())).toBe(true);
  });
});
