import {
  NPF_PRIVATE_RMP,
  PvalidateRet,
  RmpAdjustRet,
  VC_PAGE_NOT_VALIDATED,
  VmplPerm,
} from '@snp-ref/rmp-core';
import { describe, expect, it } from 'vitest';
import { decodeTermRequest } from './ghcb/msr.js';
import { ASID, launchedGuest } from './test/launchedGuest.js';
import { GuestVcpu } from './vcpu.js';

describe('a guest after launch', () => {
  it('reads a launched page: validated by the firmware, the host’s plaintext', () => {
    const { vcpu, plaintext } = launchedGuest();
    expect(vcpu.read(0x1000, 4096)).toEqual({ kind: 'data', bytes: plaintext.get(0x1000) });
    expect(vcpu.events).toEqual([]);
  });

  it('takes #VC after the hypervisor re-RMPUPDATEs its page (Validated cleared), and reads it again after PVALIDATE', () => {
    const { host, vcpu, plaintext } = launchedGuest({ vcHandler: 'none' });
    host.makePrivate(0x101, 0x1000, ASID, false, 'hv'); // same ASID and gpa: only Validated changes
    expect(vcpu.read(0x1000, 16)).toMatchObject({ kind: '#VC', errorCode: VC_PAGE_NOT_VALIDATED });
    expect(vcpu.events).toEqual([{ kind: '#VC', gpa: 0x1000, errorCode: 0x404 }]);
    expect(vcpu.pvalidate(0x1000, true)).toEqual({ kind: 'ret', ret: PvalidateRet.SUCCESS });
    // RMPUPDATE does not touch memory: the page still holds the guest's data under its key.
    expect(vcpu.read(0x1000, 16)).toEqual({ kind: 'data', bytes: plaintext.get(0x1000)?.slice(0, 16) });
  });

  it('terminates as Linux does on that #VC: a GHCB termination request, and nothing runs after', () => {
    const { host, vcpu } = launchedGuest();
    host.makePrivate(0x101, 0x1000, ASID, false, 'hv');
    vcpu.read(0x1000, 16);
    const termination = vcpu.events.at(-1);
    expect(termination).toMatchObject({ kind: 'terminate', reasonSet: 0, reasonCode: 0 });
    expect(decodeTermRequest(termination?.kind === 'terminate' ? termination.msr : 0n)).toEqual({
      reasonSet: 0,
      reasonCode: 0,
    });
    expect(vcpu.read(0x0, 16)).toEqual({ kind: 'terminated' });
  });

  it('takes NPF when the hypervisor gives its page to another ASID', () => {
    const { host, vcpu } = launchedGuest();
    host.makePrivate(0x102, 0x2000, ASID + 1, false, 'hv');
    const outcome = vcpu.read(0x2000, 8);
    expect(outcome).toMatchObject({ kind: 'NPF', check: 'Guest-Owned', exitCode: 0x400 });
    // EXITINFO1 has bits above 31 (GUEST_FINAL 32, ENC 34): compare as 64-bit values.
    const info = outcome.kind === 'NPF' ? BigInt(outcome.exitInfo1) : 0n;
    expect(info & BigInt(NPF_PRIVATE_RMP)).toBe(BigInt(NPF_PRIVATE_RMP));
    expect(vcpu.terminated).toBe(false);
  });

  it('reports FAIL_NOUPDATE for a PVALIDATE that changes nothing, and writes private data it reads back', () => {
    const { vcpu } = launchedGuest();
    expect(vcpu.pvalidate(0x0, true)).toEqual({ kind: 'ret', ret: PvalidateRet.FAIL_NOUPDATE });
    expect(vcpu.write(0x10, Uint8Array.of(1, 2, 3))).toEqual({ kind: 'written' });
    expect(vcpu.read(0x10, 3)).toEqual({ kind: 'data', bytes: Uint8Array.of(1, 2, 3) });
  });

  it('lets VMPL0 grant a lower VMPL read-only access with RMPADJUST; that VMPL then faults on write', () => {
    const { vcpu, rmp, memory, npt } = launchedGuest();
    const vmpl1 = new GuestVcpu(rmp, memory, npt, { asid: ASID, vmpl: 1 });
    expect(vmpl1.read(0x3000, 4)).toMatchObject({ kind: 'NPF', check: 'VMPL' });
    expect(vcpu.rmpadjust(0x3000, 1, VmplPerm.READ)).toEqual({ kind: 'ret', ret: RmpAdjustRet.SUCCESS });
    expect(vmpl1.read(0x3000, 4)).toMatchObject({ kind: 'data' });
    expect(vmpl1.write(0x3000, Uint8Array.of(1))).toMatchObject({ kind: 'NPF', check: 'VMPL' });
  });

  it('keeps accesses within a page: one that crosses is refused as a value, not thrown', () => {
    const { vcpu } = launchedGuest();
    expect(vcpu.read(0xff8, 16)).toMatchObject({ kind: 'invalid' });
    expect(vcpu.write(0xffe, Uint8Array.of(1, 2, 3, 4))).toMatchObject({ kind: 'invalid' });
    expect(vcpu.read(0xff8, 8)).toMatchObject({ kind: 'data' });
  });

  it('traces RMPADJUST like the other RMP changes', () => {
    const { vcpu, ring } = launchedGuest();
    vcpu.rmpadjust(0x3000, 1, VmplPerm.READ);
    expect(ring.events().at(-1)).toMatchObject({
      kind: 'rmpadjust',
      by: 'guest',
      retName: 'SUCCESS',
      pfn: 0x103,
    });
  });
});
