import {
  encodeEcdsaPublicKey,
  encodeEcdsaSignature,
  encodeIdBlock,
  IdAuthInfo,
  type LaunchPlan,
  measurePlan,
  P384SigningKey,
  SeededPages,
} from '@snp-ref/psp-firmware';
import { describe, expect, it } from 'vitest';
import { Kvm } from '../kvm.js';
import { HVA, host, POLICY } from '../test/host.js';
import { launchUpdateReviewed } from './launchUpdate.js';

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
    const idKey = new P384SigningKey('owner');
    const block = {
      ld: machine.firmware.launchDigest(a.gctx ?? 0) ?? new Uint8Array(),
      familyId: new Uint8Array(16),
      imageId: new Uint8Array(16),
      version: 1,
      guestSvn: 0,
      policy: POLICY,
    };
    const auth = IdAuthInfo.encode({
      idKeyAlgo: 1,
      authKeyAlgo: 0,
      idBlockSig: encodeEcdsaSignature(idKey.sign(encodeIdBlock(block))),
      idKey: encodeEcdsaPublicKey(idKey.publicKey),
      idKeySig: new Uint8Array(0x200),
      authorKey: new Uint8Array(0x404),
    });
    a.copyToUser(0x6000_0000, encodeIdBlock(block));
    a.copyToUser(0x6000_1000, auth);
    expect(a.launchFinish({ idBlockEn: true, idBlockHva: 0x6000_0000, idAuthHva: 0x6000_1000 })).toEqual({
      ok: true,
    });
  });

  it('returns EIO with BAD_MEASUREMENT for an ID block of another launch, and EFAULT for an unmapped one', () => {
    const { vm } = host();
    const a = vm('a');
    a.addressSpace.map(0x6000_0000, 0x900, 2);
    const block = {
      ld: new Uint8Array(48).fill(0xff),
      familyId: new Uint8Array(16),
      imageId: new Uint8Array(16),
      version: 1,
      guestSvn: 0,
      policy: POLICY,
    };
    a.copyToUser(0x6000_0000, encodeIdBlock(block));
    a.copyToUser(
      0x6000_1000,
      IdAuthInfo.encode({
        idKeyAlgo: 1,
        authKeyAlgo: 0,
        idBlockSig: new Uint8Array(0x200),
        idKey: encodeEcdsaPublicKey(new P384SigningKey('k').publicKey),
        idKeySig: new Uint8Array(0x200),
        authorKey: new Uint8Array(0x404),
      }),
    );
    expect(
      a.launchFinish({ idBlockEn: true, idBlockHva: 0x6000_0000, idAuthHva: 0x6000_1000 }),
    ).toMatchObject({ ok: false, errno: 'EIO', fwError: 'BAD_MEASUREMENT' });
    expect(
      a.launchFinish({ idBlockEn: true, idBlockHva: 0x7000_0000, idAuthHva: 0x6000_1000 }),
    ).toMatchObject({ ok: false, errno: 'EFAULT' });
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
