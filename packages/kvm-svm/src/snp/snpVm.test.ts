import { type LaunchPlan, measurePlan, P384SigningKey, SeededPages } from '@snp-ref/psp-firmware';
import { TraceRing } from '@snp-ref/rmp-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Kvm } from '../kvm.js';
import { Machine } from '../machine.js';
import { HVA, host, POLICY, writeIdBlock } from '../test/host.js';
import { launchUpdateReviewed } from './launchUpdate.js';

const HYPERVISOR = Machine.create({ hostPages: 1 }).rmp.read(0);

describe('KVM_SEV_SNP_LAUNCH_START', () => {
  it.each([
    ['a policy without bit 17', 0x1_0000n, 0],
    ['a policy bit KVM does not accept (MIGRATE_MA)', 0x7_0000n, 0],
    ['non-zero flags', POLICY, 1],
  ])('refuses %s with EINVAL, creating no context', (_, policy, flags) => {
    const { kvm, machine } = host();
    const vm = kvm.createVm({ name: 'a' });
    const before = [...machine.rmp.entries()].length;
    expect(vm.launchStart({ policy, flags })).toMatchObject({ ok: false, errno: 'EINVAL' });
    expect(vm.state).toBe('CREATED');
    expect([...machine.rmp.entries()].length).toBe(before);
  });

  it('refuses a second context with EINVAL', () => {
    const { vm } = host();
    expect(vm('a').launchStart({ policy: POLICY })).toMatchObject({ ok: false, errno: 'EINVAL' });
  });

  it('decommissions and frees the context when the firmware refuses ACTIVATE (ASID taken by another VMM’s VM)', () => {
    const { machine, vm } = host();
    const a = vm('a');
    const rogue = new Kvm(machine).createVm({ name: 'rogue', asid: a.asid }); // a second VMM, same ASID
    const result = rogue.launchStart({ policy: POLICY });
    expect(result).toMatchObject({ ok: false, errno: 'EIO', fwError: 'ASID_OWNED' });
    expect(rogue.state).toBe('CREATED');
    // The context page went back to the host: only a's context remains firmware-owned.
    expect([...machine.rmp.entries()].filter(([, e]) => e.assigned && e.asid === 0)).toHaveLength(1);
  });
  it('after a refused ACTIVATE, the VM has no context and its page is the host’s again', () => {
    const { machine, vm } = host();
    const a = vm('a');
    const rogue = new Kvm(machine).createVm({ name: 'rogue', asid: a.asid });
    expect(rogue.launchStart({ policy: POLICY }).leaked).toBeUndefined();
    expect([rogue.state, rogue.gctx]).toEqual(['CREATED', undefined]);
    expect(machine.rmp.read(0xffe)).toEqual(HYPERVISOR); // decommissioned, reclaimed, reset
    expect(machine.firmware.guestStatus(0xffe).status.name).not.toBe('SUCCESS');
    expect(machine.pages.leaked.size).toBe(0);
  });

  it('after a refused GCTX_CREATE whose page cannot be reclaimed, leaks the page, still firmware-owned', () => {
    const { kvm, machine } = host();
    machine.firmware.snpShutdown();
    const a = kvm.createVm({ name: 'a' });
    expect(a.launchStart({ policy: POLICY })).toMatchObject({ errno: 'ENOTTY', leaked: [0xfff] });
    expect([a.state, a.gctx]).toEqual(['CREATED', undefined]);
    expect([...machine.pages.leaked]).toEqual([0xfff]);
    expect(machine.rmp.read(0xfff)).toMatchObject({ assigned: true, asid: 0, immutable: true });
  });

  it('with no free host page, fails before touching the RMP', () => {
    const machine = Machine.create({ hostPages: 4, seed: 'kvm test' });
    const ring = new TraceRing();
    machine.rmp.trace.subscribe(ring.sink);
    const a = new Kvm(machine).createVm({ name: 'a' });
    a.addressSpace.map(HVA, 0, 4);
    expect(a.launchStart({ policy: POLICY })).toMatchObject({
      errno: 'ENOTTY',
      check: 'launch_start.no_page',
    });
    expect(ring.events()).toEqual([]);
    expect(a.state).toBe('CREATED');
  });

  it('takes the context page from the top of memory, never one a VMM maps or one already assigned', () => {
    const machine = Machine.create({ hostPages: 8, seed: 'kvm test' });
    const kvm = new Kvm(machine);
    const a = kvm.createVm({ name: 'a' });
    a.addressSpace.map(HVA, 5, 2);
    expect(a.launchStart({ policy: POLICY }).ok).toBe(true);
    expect(a.gctx).toBe(7);
    expect(launchUpdateReviewed(a, { gpa: 0, hva: HVA, len: 2 * 4096, type: 1 }).ok).toBe(true);
    a.addressSpace.unmap(HVA, 2); // pages 5 and 6 stay a's guest pages
    const b = kvm.createVm({ name: 'b' });
    b.addressSpace.map(HVA, 4, 1);
    expect(b.launchStart({ policy: POLICY }).ok).toBe(true);
    expect(b.gctx).toBe(3);
    expect([machine.pages.isKernelPage(3), machine.pages.isKernelPage(4)]).toEqual([true, false]);
  });
});

describe('KVM_SEV_SNP_LAUNCH_FINISH', () => {
  it('measures one VMSA per vCPU at the VMSA gpa before finishing', () => {
    const { machine, kvm } = host();
    const vm = kvm.createVm({ name: 'a', vcpus: 2 });
    vm.launchStart({ policy: POLICY });
    const before = machine.firmware.launchDigest(vm.gctx ?? 0);
    expect(vm.launchFinish()).toEqual({ ok: true });
    expect(vm.vmsas).toHaveLength(2);
    for (const pfn of vm.vmsas)
      expect(machine.rmp.read(pfn)).toMatchObject({ vmsa: true, validated: true, gpa: 0xffff_ffff_f000 });
    expect(machine.firmware.launchDigest(vm.gctx ?? 0)).not.toEqual(before);
    expect(machine.firmware.guestStatus(vm.gctx ?? 0).guest?.state).toBe(2);
  });

  it('copies a signed ID block and ID auth from the VMM and passes them to the firmware', () => {
    const { machine, vm } = host();
    const a = vm('a');
    a.addressSpace.map(0x6000_0000, 0x900, 2);
    const ld = machine.firmware.launchDigest(a.gctx ?? 0) ?? new Uint8Array();
    expect(writeIdBlock(a, 0x6000_0000, ld, new P384SigningKey('owner'))).toBe(true);
    expect(a.launchFinish({ idBlockEn: true, idBlockHva: 0x6000_0000, idAuthHva: 0x6000_1000 })).toEqual({
      ok: true,
    });
  });

  it('returns EIO with BAD_MEASUREMENT for an ID block of another launch, and EFAULT for an unmapped one', () => {
    const { vm } = host();
    const a = vm('a');
    a.addressSpace.map(0x6000_0000, 0x900, 2);
    expect(writeIdBlock(a, 0x6000_0000, new Uint8Array(48).fill(0xff))).toBe(true);
    expect(
      a.launchFinish({ idBlockEn: true, idBlockHva: 0x6000_0000, idAuthHva: 0x6000_1000 }),
    ).toMatchObject({ ok: false, errno: 'EIO', fwError: 'BAD_MEASUREMENT' });
    expect(
      a.launchFinish({ idBlockEn: true, idBlockHva: 0x7000_0000, idAuthHva: 0x6000_1000 }),
    ).toMatchObject({ ok: false, errno: 'EFAULT' });
  });
  it('leaves the VM RUNNING', () => {
    const { vm } = host();
    const a = vm('a');
    expect(a.state).toBe('LAUNCH');
    expect(a.launchFinish()).toEqual({ ok: true });
    expect(a.state).toBe('RUNNING');
  });

  it('after a refused VMSA stays launching and gives the page back; a retry measures the VMSAs left', () => {
    const { machine, kvm } = host();
    const vm = kvm.createVm({ name: 'a', vcpus: 2 });
    vm.launchStart({ policy: POLICY });
    machine.faults.inject('psp.launch_update', 2, 0x1a); // the second vCPU's VMSA
    expect(vm.launchFinish()).toMatchObject({ errno: 'EIO', leaked: [] });
    expect([vm.state, vm.vmsas]).toEqual(['LAUNCH', [0xffe]]);
    expect(machine.rmp.read(0xffd)).toEqual(HYPERVISOR);
    expect(vm.launchFinish()).toEqual({ ok: true });
    expect([vm.state, vm.vmsas]).toEqual(['RUNNING', [0xffe, 0xffc]]);
  });

  it('leaks a refused VMSA it cannot reset, and never uses it again', () => {
    const { machine, kvm } = host();
    const vm = kvm.createVm({ name: 'a', vcpus: 1 });
    vm.launchStart({ policy: POLICY });
    machine.faults.inject('psp.launch_update', 1, 0x1a);
    machine.faults.inject('rmpupdate', 2, 3);
    expect(vm.launchFinish()).toMatchObject({ errno: 'EIO', leaked: [0xffe] });
    expect([...machine.pages.leaked]).toEqual([0xffe]);
    expect(machine.rmp.read(0xffe)).toMatchObject({ assigned: true, asid: vm.asid, immutable: false });
    expect(vm.launchFinish()).toEqual({ ok: true });
    expect(vm.vmsas).toEqual([0xffd]);
  });

  it('traces the VMSA and the context page rmpupdates by kvm', () => {
    const { machine, kvm, ring } = host();
    const vm = kvm.createVm({ name: 'a', vcpus: 1 });
    vm.launchStart({ policy: POLICY });
    machine.faults.inject('psp.launch_update', 1, 0x1a);
    vm.launchFinish();
    const updates = ring.events().filter((e) => e.kind === 'rmpupdate');
    expect(updates.map((e) => [e.pfn, e.by, e.new.assigned])).toEqual([
      [0xfff, 'kvm', true], // the context page made FIRMWARE
      [0xffe, 'kvm', true], // the VMSA made private
      [0xffe, 'kvm', false], // and reset after SNP_PAGE_RECLAIM
    ]);
  });
});

describe('a launch through KVM', () => {
  it('gives the firmware the measurement measurePlan computes for the same pages', () => {
    const { machine, vm } = host();
    const a = vm('a');
    const contents = new SeededPages('kvm e2e');
    for (let i = 0; i < 4; i++) machine.memory.write(0x100 + i, contents.next());
    expect(launchUpdateReviewed(a, { gpa: 0x10_0000, hva: HVA, len: 4 * 4096, type: 1 }).ok).toBe(true);
    expect(launchUpdateReviewed(a, { gpa: 0x20_0000, hva: HVA + 4 * 4096, len: 2 * 4096, type: 3 }).ok).toBe(
      true,
    );
    const plan: LaunchPlan = {
      name: 'e2e',
      seed: 'kvm e2e',
      ops: [
        { op: 'normal', gpa: 0x10_0000, pages: 4 },
        { op: 'zero', gpa: 0x20_0000, pages: 2 },
      ],
    };
    expect(Buffer.from(machine.firmware.launchDigest(a.gctx ?? 0) ?? []).toString('hex')).toBe(
      measurePlan(plan).digest,
    );
  });
});

describe('SnpVm.translateGpa', () => {
  it('finds the page a LAUNCH_UPDATE put at a gpa first, then the memslot and the VMM’s mapping', () => {
    const { vm } = host();
    const a = vm('a'); // HVA .. HVA + 15 pages → pfns 0x100 .. 0x10f
    a.memslots.set(0, 0x10_0000, HVA + 4096, 4 * 4096); // pfns 0x101 .. 0x104
    a.memslots.set(1, 0x40_0000, HVA + 8 * 4096, 2 * 4096); // pfns 0x108, 0x109
    expect([0x10_0000, 0x10_1000, 0x10_3fff, 0x40_1234].map((gpa) => a.translateGpa(gpa))).toEqual([
      0x101, 0x102, 0x104, 0x109,
    ]);
    // Outside every slot (below, at the end, in a hole), even where the VMM maps the hva next to it.
    expect([0x0f_ffff, 0x10_4000, 0x40_2000, 0].map((gpa) => a.translateGpa(gpa))).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(launchUpdateReviewed(a, { gpa: 0x10_1000, hva: HVA + 12 * 4096, len: 4096, type: 1 }).ok).toBe(
      true,
    );
    expect([a.translateGpa(0x10_1000), a.translateGpa(0x10_1fff), a.translateGpa(0x10_2000)]).toEqual([
      0x10c, 0x10c, 0x103,
    ]);
  });

  it('gives undefined for a memslot whose hva the VMM does not map', () => {
    const { vm } = host();
    const a = vm('a');
    a.memslots.set(0, 0, HVA + 16 * 4096, 4096);
    expect(a.translateGpa(0)).toBeUndefined();
  });
});

describe('SnpVm.copyFromUser and copyToUser', () => {
  const { machine, vm } = host();
  const a = vm('a', [[0x100, 3]]); // HVA .. HVA + 3 pages
  const contents = new SeededPages('copy');
  const initial = [0, 1, 2].map(() => contents.next());
  const reset = () => {
    for (const [i, page] of initial.entries()) machine.memory.write(0x100 + i, page);
    return Buffer.concat(initial);
  };
  const memory = () => Buffer.concat([0, 1, 2].map((i) => machine.memory.read(0x100 + i)));
  // Buffer.equals: a deep toEqual over 12 KiB is too slow for hundreds of runs.
  const same = (got: Uint8Array | undefined, want: Buffer) => got !== undefined && want.equals(got);
  const range = fc
    .tuple(fc.nat(3 * 4096), fc.nat(3 * 4096))
    .map(([x, y]) => [Math.min(x, y), Math.abs(x - y)] as const);

  it('copyFromUser reads the bytes at any hva range of mapped pages, across page boundaries (property)', () => {
    const all = reset();
    fc.assert(
      fc.property(range, ([offset, len]) => {
        expect(same(a.copyFromUser(HVA + offset, len), all.subarray(offset, offset + len))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('copyToUser writes exactly the bytes at any hva range, and nothing else (property)', () => {
    fc.assert(
      fc.property(range, fc.integer({ min: 1, max: 255 }), ([offset, len], fill) => {
        const expected = reset();
        expected.fill(fill, offset, offset + len);
        expect(a.copyToUser(HVA + offset, new Uint8Array(len).fill(fill))).toBe(true);
        expect(same(memory(), expected)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('fail on a range reaching an unmapped page or one beyond host memory, reading and writing nothing', () => {
    const all = reset();
    a.addressSpace.map(HVA + 4 * 4096, 4096, 1); // a pfn the host does not have
    for (const hva of [HVA + 2 * 4096 + 100, HVA + 4 * 4096]) {
      expect(a.copyFromUser(hva, 4096)).toBeUndefined();
      expect(a.copyToUser(hva, new Uint8Array(4096).fill(7))).toBe(false);
    }
    expect(same(memory(), all)).toBe(true);
  });
});
