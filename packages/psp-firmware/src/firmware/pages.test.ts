import { PAGE_SIZE, PAGES_PER_2M } from '@snp-ref/rmp-core';
import { describe, expect, it } from 'vitest';
import { ASID, GCTX, machineIn, observable } from '../test/machine.js';

const BASE = 0x400; // a 2 MiB-aligned run of 512 pages

describe('SNP_PAGE_RECLAIM', () => {
  it('clears Immutable of a failed launch page so the host can take it back (KVM snp_page_reclaim)', () => {
    const m = machineIn('ACTIVE');
    m.host.makePrivate(BASE, 0, ASID, true, 'kvm');
    expect(m.host.resetToHypervisor(BASE, 'kvm')).toBe(2); // RMPUPDATE FAIL_PERMISSION: still immutable
    expect(m.fw.pageReclaim(BASE).name).toBe('SUCCESS');
    expect(m.rmp.read(BASE)).toMatchObject({
      assigned: true,
      asid: ASID,
      immutable: false,
      validated: false,
    });
    expect(m.host.resetToHypervisor(BASE, 'kvm')).toBe(0);
  });

  it('refuses a live guest context (INVALID_PAGE_STATE) and succeeds without change on a mutable page', () => {
    const m = machineIn('ACTIVE');
    expect(m.fw.pageReclaim(GCTX).name).toBe('INVALID_PAGE_STATE');
    m.host.makePrivate(BASE, 0, ASID, false, 'kvm');
    const before = observable(m);
    expect(m.fw.pageReclaim(BASE).name).toBe('SUCCESS');
    expect(observable(m)).toBe(before);
    expect(m.fw.pageReclaim(BASE, '2M').name).toBe('INVALID_PAGE_SIZE');
  });
});

describe('SNP_PAGE_UNSMASH', () => {
  function launchRange(m: ReturnType<typeof machineIn>, gpaOf: (i: number) => number) {
    for (let i = 0; i < PAGES_PER_2M; i++) m.host.makePrivate(BASE + i, gpaOf(i), ASID, true, 'kvm');
  }

  it('merges 512 consecutive pre-guest pages into one 2 MiB page', () => {
    const m = machineIn('ACTIVE');
    launchRange(m, (i) => 0x20_0000 + i * PAGE_SIZE);
    expect(m.fw.pageUnsmash(BASE).name).toBe('SUCCESS');
    expect(m.rmp.read(BASE)).toMatchObject({ pageSize: '2M', gpa: 0x20_0000, immutable: true });
    expect(m.rmp.read(BASE + 511).pageSize).toBe('2M');
  });

  it.each([
    ['gpas that are not consecutive', (i: number) => 0x20_0000 + (i === 7 ? 0 : i * PAGE_SIZE)],
    ['a first gpa that is not 2 MiB aligned', (i: number) => 0x1000 + i * PAGE_SIZE],
  ])('refuses %s with INVALID_PAGE_STATE, changing nothing', (_, gpaOf) => {
    const m = machineIn('ACTIVE');
    launchRange(m, gpaOf);
    const before = observable(m);
    expect(m.fw.pageUnsmash(BASE).name).toBe('INVALID_PAGE_STATE');
    expect(observable(m)).toBe(before);
  });

  it('refuses an address that is not 2 MiB aligned with INVALID_PARAM', () => {
    expect(machineIn('ACTIVE').fw.pageUnsmash(BASE + 1).name).toBe('INVALID_PARAM');
  });
});
