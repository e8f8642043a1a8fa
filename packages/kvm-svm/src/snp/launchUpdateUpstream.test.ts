import { LaunchDigest, PageType, SevStatus, VMSA_GPA } from '@snp-ref/psp-firmware';
import { PAGE_SIZE } from '@snp-ref/rmp-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryAttributes } from '../host/memoryAttributes.js';
import { HVA } from '../test/host.js';
import { GMEM_PFN, update, upstreamVm } from '../test/upstream.js';
import { memEncryptOp } from '../uapi/ioctl.js';
import { KvmSevCmd, KvmSevCommand, KvmSevSnpLaunchUpdate } from '../uapi/structs.js';
import { launchUpdateUpstream } from './launchUpdateUpstream.js';
import { vmsaPage } from './vmsaProfile.js';

// Upstream's LAUNCH_UPDATE over guest_memfd (docs/spec-notes.md §3.3, §4): what it does when it works.

const digest = (vm: ReturnType<typeof upstreamVm>) =>
  Buffer.from(vm.machine.firmware.launchDigest(vm.vm.gctx ?? 0) ?? []).toString('hex');
const source = (page: number) => new Uint8Array(PAGE_SIZE).fill(page + 1);

describe('upstream LAUNCH_UPDATE', () => {
  it('copies each source page into its guest_memfd page, which alone becomes private and measured', () => {
    const h = upstreamVm();
    const result = launchUpdateUpstream(h.vm, update(0, 3));
    expect(result).toEqual({
      ok: true,
      pages: 3,
      next: { gfnStart: 3n, uaddr: BigInt(HVA + 3 * PAGE_SIZE), len: 0n },
    });
    const expected = new LaunchDigest();
    for (let i = 0; i < 3; i++) {
      expect(h.machine.rmp.read(GMEM_PFN + i)).toMatchObject({
        assigned: true,
        asid: 1,
        gpa: i * PAGE_SIZE,
        validated: true,
        immutable: false,
      });
      expect(h.machine.rmp.read(0x100 + i).assigned).toBe(false); // the source is never converted
      expect(h.machine.memory.read(0x100 + i)).toEqual(Buffer.from(source(i))); // nor changed
      expect(h.vm.translateGpa(i * PAGE_SIZE)).toBe(GMEM_PFN + i);
      expect(h.machine.pages.pinCount(0x100 + i)).toBe(0); // nor pinned
      expected.update(PageType.NORMAL, i * PAGE_SIZE, source(i));
    }
    expect(digest(h)).toBe(expected.hex());
  });

  it('stops at a refused page after the first: returns 0 with the progress, earlier pages stay, the refused one is given back', () => {
    const h = upstreamVm();
    h.machine.faults.inject('psp.launch_update', 3, SevStatus.INVALID_PAGE_STATE);
    const result = launchUpdateUpstream(h.vm, update(0, 5));
    expect(result).toMatchObject({
      ok: true,
      pages: 2,
      next: { gfnStart: 2n, uaddr: BigInt(HVA + 2 * PAGE_SIZE), len: BigInt(3 * PAGE_SIZE) },
      stopped: {
        check: 'launch_update.populate_firmware',
        errno: 'EIO',
        innerErrno: 'EIO',
        fwError: 'INVALID_PAGE_STATE',
      },
    });
    expect([0, 1, 2, 3].map((i) => h.machine.rmp.read(GMEM_PFN + i).assigned)).toEqual([
      true,
      true,
      false,
      false,
    ]);
    // The caller loops with the written-back struct: the refused page is populated now.
    expect(launchUpdateUpstream(h.vm, { ...update(0, 5), ...(result.ok ? result.next : {}) })).toMatchObject({
      ok: true,
      pages: 3,
    });
  });

  it('stops at the end of the memslot (kvm_gmem_populate clips the range)', () => {
    const h = upstreamVm();
    expect(launchUpdateUpstream(h.vm, update(14, 4))).toMatchObject({
      ok: true,
      pages: 2,
      next: { gfnStart: 16n, len: BigInt(2 * PAGE_SIZE) },
    });
  });

  it('ignores uaddr for ZERO pages: nothing copied, uaddr not advanced', () => {
    const h = upstreamVm();
    const zero = { ...update(0, 2, 3), uaddr: 0x123n };
    expect(launchUpdateUpstream(h.vm, zero)).toEqual({
      ok: true,
      pages: 2,
      next: { gfnStart: 2n, uaddr: 0x123n, len: 0n },
    });
  });
});

describe('upstream LAUNCH_UPDATE through the ioctl', () => {
  const STRUCT = HVA + 15 * PAGE_SIZE;
  const ioctl = (h: ReturnType<typeof upstreamVm>, params: ReturnType<typeof update>) => {
    h.vm.copyToUser(STRUCT, KvmSevSnpLaunchUpdate.encode({ ...params, flags: 0 }));
    const cmd = KvmSevCmd.encode({
      id: KvmSevCommand.KVM_SEV_SNP_LAUNCH_UPDATE,
      data: BigInt(STRUCT),
      error: 0,
      sevFd: 0,
    });
    const out = memEncryptOp(h.vm, cmd);
    const struct = KvmSevSnpLaunchUpdate.decode(h.vm.copyFromUser(STRUCT, 64) ?? new Uint8Array(64));
    return { ret: out.ret, error: KvmSevCmd.decode(out.cmd).error, struct };
  };

  it('writes partial progress back and returns 0; a refused first page is -EIO with the status, the struct untouched', () => {
    const h = upstreamVm(2);
    expect(ioctl(h, update(0, 4))).toMatchObject({
      ret: 0,
      error: 0,
      struct: { gfnStart: 2n, uaddr: BigInt(HVA + 2 * PAGE_SIZE), len: BigInt(2 * PAGE_SIZE) },
    });
    expect(ioctl(h, update(2, 2))).toMatchObject({
      ret: -5,
      error: 0,
      struct: { gfnStart: 2n, len: BigInt(2 * PAGE_SIZE) },
    });
  });

  it('reports the firmware status of a refused first page in kvm_sev_cmd.error', () => {
    const h = upstreamVm();
    h.machine.faults.inject('psp.launch_update', 1, SevStatus.INVALID_PAGE_OWNER);
    expect(ioctl(h, update(0, 1))).toMatchObject({
      ret: -5,
      error: SevStatus.INVALID_PAGE_OWNER,
      struct: { gfnStart: 0n },
    });
  });
});

describe('LAUNCH_FINISH with a VMSA profile', () => {
  it("measures each vCPU's VMSA as built from its state, BSP then APs at their reset EIP", () => {
    const h = upstreamVm(16, { vcpus: 0 });
    const profile = {
      vmmType: 'qemu',
      vcpuSignature: 0xa00f11,
      guestFeatures: 1n,
      apResetEip: 0xffff_f0c0,
    } as const;
    const vm = h.kvm.createVm({ name: 'b', vcpus: 2, vmsa: profile });
    expect(vm.launchStart({ policy: 0x3_0000n }).ok && vm.launchFinish().ok).toBe(true);
    const expected = new LaunchDigest();
    expected.update(PageType.VMSA, VMSA_GPA, vmsaPage(profile, 0));
    expected.update(PageType.VMSA, VMSA_GPA, vmsaPage(profile, 1));
    expect(Buffer.from(h.machine.firmware.launchDigest(vm.gctx ?? 0) ?? []).toString('hex')).toBe(
      expected.hex(),
    );
    expect(vmsaPage(profile, 1)).not.toEqual(vmsaPage(profile, 0));
    expect(vmsaPage(profile, 0).some((b) => b !== 0)).toBe(true);
  });
});

describe('MemoryAttributes', () => {
  it('says private exactly for the gfns last set private (property)', () => {
    const op = fc.record({
      start: fc.nat(40),
      pages: fc.integer({ min: 1, max: 12 }),
      isPrivate: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 20 }), (ops) => {
        const attributes = new MemoryAttributes();
        const model = new Set<number>();
        for (const { start, pages, isPrivate } of ops) {
          attributes.set(start, start + pages, isPrivate);
          for (let g = start; g < start + pages; g++) isPrivate ? model.add(g) : model.delete(g);
        }
        for (let g = 0; g < 56; g++) expect(attributes.isPrivate(g)).toBe(model.has(g));
      }),
      { numRuns: 300 },
    );
  });
});
