import { checkHostAccess, checkInvariants, PAGE_SIZE, PAGES_PER_2M } from '@snp-ref/rmp-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { measurePlan } from '../measure/measurePlan.js';
import { type LaunchPlan, PLAN_OP_TYPES, type PlanOpName, SeededPages } from '../measure/plan.js';
import { isContentMeasured, PageType } from '../pageType.js';
import {
  ASID,
  GCTX,
  GUEST_BASE,
  type Machine,
  machineIn,
  observable,
  preGuestPage,
  SECRETS_PFN,
} from '../test/machine.js';
import { defaultPlatformCpuid } from './config.js';
import { cpuidKey, decodeCpuidPage, encodeCpuidPage } from './cpuidPage.js';
import { SECRETS_PAGE_VERSION, SecretsPage } from './secretsPage.js';
import type { LaunchUpdateParams } from './snpFirmware.js';

const page = (byte: number) => new Uint8Array(PAGE_SIZE).fill(byte);

function update(m: Machine, pfn: number, gpa: number, pageType: number, contents?: Uint8Array) {
  preGuestPage(m, pfn, gpa, contents);
  return m.fw.launchUpdate(GCTX, { pfn, pageType }).name;
}

describe('SNP_LAUNCH_UPDATE', () => {
  it('leaves each page type GUEST_VALID: validated, immutable cleared, VMSA bit only on VMSA pages', () => {
    const m = machineIn('ACTIVE');
    const types = [PageType.NORMAL, PageType.VMSA, PageType.ZERO, PageType.UNMEASURED, PageType.SECRETS];
    for (const [i, type] of types.entries()) {
      expect(update(m, GUEST_BASE + i, i * PAGE_SIZE, type, page(7))).toBe('SUCCESS');
      expect(m.rmp.read(GUEST_BASE + i)).toMatchObject({
        assigned: true,
        asid: ASID,
        gpa: i * PAGE_SIZE,
        immutable: false,
        validated: true,
        vmsa: type === PageType.VMSA,
      });
    }
    expect(checkInvariants(m.rmp)).toEqual([]);
  });

  it('encrypts the page under the guest key: the host reads ciphertext, the guest its plaintext', () => {
    const m = machineIn('ACTIVE');
    update(m, GUEST_BASE, 0, PageType.NORMAL, page(7));
    update(m, GUEST_BASE + 1, PAGE_SIZE, PageType.NORMAL, page(7));
    expect(m.memory.readPrivate(ASID, GUEST_BASE)).toEqual(Buffer.from(page(7)));
    const [a, b] = [m.memory.read(GUEST_BASE), m.memory.read(GUEST_BASE + 1)];
    expect(a.equals(Buffer.from(page(7)))).toBe(false);
    expect(a.equals(b)).toBe(false); // same plaintext, another address
    expect(m.memory.readPrivate(ASID + 1, GUEST_BASE).equals(Buffer.from(page(7)))).toBe(false);
  });

  it('zeroes ZERO pages and writes the secrets page (version 3, VMPCKs) for SECRETS', () => {
    const m = machineIn('ACTIVE');
    update(m, GUEST_BASE, 0, PageType.ZERO, page(0xee));
    expect(m.memory.readPrivate(ASID, GUEST_BASE)).toEqual(Buffer.alloc(PAGE_SIZE));
    update(m, SECRETS_PFN, 0x8000, PageType.SECRETS, page(0xee));
    const secrets = m.memory.readPrivate(ASID, SECRETS_PFN);
    expect(secrets.readUInt32LE(SecretsPage.VERSION)).toBe(SECRETS_PAGE_VERSION);
    expect(secrets.subarray(SecretsPage.VMPCK0, SecretsPage.VMPCK0 + 32).some((b) => b !== 0)).toBe(true);
    expect(secrets.subarray(SecretsPage.OS_AREA, SecretsPage.OS_AREA + 96).every((b) => b === 0)).toBe(true);
  });

  const refusals: [string, string, (m: Machine) => void, LaunchUpdateParams][] = [
    ['a hypervisor-owned page', 'INVALID_PAGE_STATE', () => {}, { pfn: GUEST_BASE, pageType: 1 }],
    [
      'a page not yet made immutable',
      'INVALID_PAGE_STATE',
      (m) => m.host.makePrivate(GUEST_BASE, 0, ASID, false, 'kvm'),
      { pfn: GUEST_BASE, pageType: 1 },
    ],
    [
      'a page of another ASID',
      'INVALID_PAGE_OWNER',
      (m) => m.host.makePrivate(GUEST_BASE, 0, ASID + 1, true, 'kvm'),
      { pfn: GUEST_BASE, pageType: 1 },
    ],
    [
      'a 4 KiB command on a 2 MiB RMP page',
      'INVALID_PAGE_SIZE',
      (m) => m.host.makePrivate(0x400, 0, ASID, true, 'kvm', '2M'),
      { pfn: 0x400, pageType: 1 },
    ],
    [
      'a 2 MiB command not 2 MiB aligned',
      'INVALID_ADDRESS',
      (m) => m.host.makePrivate(0x400, 0, ASID, true, 'kvm', '2M'),
      { pfn: 0x401, pageType: 1, pageSize: '2M' },
    ],
    [
      'a 2 MiB VMSA page',
      'INVALID_PAGE_SIZE',
      (m) => m.host.makePrivate(0x400, 0, ASID, true, 'kvm', '2M'),
      { pfn: 0x400, pageType: PageType.VMSA, pageSize: '2M' },
    ],
    [
      'an undefined page type',
      'INVALID_PARAM',
      (m) => preGuestPage(m, GUEST_BASE, 0),
      { pfn: GUEST_BASE, pageType: 7 },
    ],
    ['a negative pfn', 'INVALID_PARAM', () => {}, { pfn: -1, pageType: 1 }],
  ];

  it.each(refusals)('refuses %s with %s and changes nothing', (_, expected, setup, params) => {
    const m = machineIn('ACTIVE');
    setup(m);
    const before = observable(m);
    expect(m.fw.launchUpdate(GCTX, params).name).toBe(expected);
    expect(observable(m)).toBe(before);
  });

  it('measures a 2 MiB page as 512 pages at consecutive gpas', () => {
    const m = machineIn('ACTIVE');
    m.host.makePrivate(0x400, 0x20_0000, ASID, true, 'kvm', '2M');
    expect(m.fw.launchUpdate(GCTX, { pfn: 0x400, pageType: PageType.ZERO, pageSize: '2M' }).name).toBe(
      'SUCCESS',
    );
    const plan: LaunchPlan = {
      name: '2m',
      seed: '',
      ops: [{ op: 'zero', gpa: 0x20_0000, pages: PAGES_PER_2M }],
    };
    expect(Buffer.from(m.fw.launchDigest(GCTX) ?? []).toString('hex')).toBe(measurePlan(plan).digest);
    expect(m.rmp.read(0x400 + 511)).toMatchObject({ validated: true, immutable: false, pageSize: '2M' });
  });

  it('rewrites a CPUID page the platform contradicts, unencrypted, and leaves RMP and digest as they were', () => {
    const m = machineIn('ACTIVE');
    const leaf1 = defaultPlatformCpuid().get(cpuidKey(1, 0)) ?? [0, 0, 0, 0];
    const entry = {
      eaxIn: 1,
      ecxIn: 0,
      xcr0In: 0n,
      xssIn: 0n,
      eax: leaf1[0],
      ebx: leaf1[1],
      ecx: leaf1[2],
      edx: leaf1[3],
    };
    const good = encodeCpuidPage([entry]);
    expect(update(m, GUEST_BASE, 0, PageType.CPUID, good)).toBe('SUCCESS');

    const lying = encodeCpuidPage([
      { ...entry, ecx: 0xffff_ffff },
      { ...entry, eaxIn: 0x4000_0000, eax: 1 },
    ]);
    preGuestPage(m, GUEST_BASE + 1, PAGE_SIZE, lying);
    const before = observable(m);
    expect(m.fw.launchUpdate(GCTX, { pfn: GUEST_BASE + 1, pageType: PageType.CPUID }).name).toBe(
      'INVALID_PARAM',
    );
    expect(observable(m)).toBe(before);
    expect(decodeCpuidPage(m.memory.read(GUEST_BASE + 1))).toEqual([
      { ...entry, ecx: leaf1[2] },
      { ...entry, eaxIn: 0x4000_0000, eax: 0, ebx: 0, ecx: 0, edx: 0 },
    ]);
  });

  it('keeps firmware pages out of the host’s reach: a guest context page faults on write', () => {
    const m = machineIn('ACTIVE');
    expect(checkHostAccess(m.rmp, { pfn: GCTX, kind: 'write' }).kind).toBe('#PF');
  });
});

describe('firmware launch digest = measurePlan of the same launch', () => {
  const ops: fc.Arbitrary<PlanOpName> = fc.constantFrom('normal', 'zero', 'unmeasured', 'secrets', 'vmsa');

  it('holds for random launches (page contents from the plan seed)', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 8 }),
        fc.array(ops, { minLength: 1, maxLength: 12 }),
        (seed, names) => {
          const m = machineIn('ACTIVE');
          const contents = new SeededPages(seed);
          const plan: LaunchPlan = {
            name: 'random',
            seed,
            ops: names.map((op, i) => ({ op, gpa: i * PAGE_SIZE, pages: 1 })),
          };
          for (const [i, op] of plan.ops.entries()) {
            const type = PLAN_OP_TYPES[op.op];
            const data = isContentMeasured(type) ? contents.next() : undefined;
            expect(update(m, GUEST_BASE + i, op.gpa, type, data)).toBe('SUCCESS');
          }
          expect(Buffer.from(m.fw.launchDigest(GCTX) ?? []).toString('hex')).toBe(measurePlan(plan).digest);
        },
      ),
      { numRuns: 25 },
    );
  });
});
