import {
  encodeEcdsaPublicKey,
  encodeEcdsaSignature,
  encodeIdBlock,
  IdAuthInfo,
  P384SigningKey,
} from '@snp-ref/psp-firmware';
import { PAGE_SIZE, TraceRing } from '@snp-ref/rmp-core';
import type { KvmAbi } from '../checks.js';
import { Kvm } from '../kvm.js';
import { Machine } from '../machine.js';
import type { SnpVm } from '../snp/snpVm.js';

export const POLICY = 0x3_0000n;
export const HVA = 0x7f00_0000_0000;

/** A 4096-page host with KVM and a trace ring; `vm()` creates a VM and starts its launch. */
export function host(options: { abi?: KvmAbi; rejectAssignedOnUpdate?: boolean } = {}) {
  const machine = Machine.create({ hostPages: 4096, seed: 'kvm test', ...options });
  const ring = new TraceRing();
  machine.rmp.trace.subscribe(ring.sink);
  const kvm = new Kvm(machine, options.abi ?? 'reviewed');
  const vm = (name: string, mappings: readonly [pfn: number, pages: number][] = [[0x100, 16]]): SnpVm => {
    const created = kvm.createVm({ name });
    let hva = HVA;
    for (const [pfn, pages] of mappings) {
      created.addressSpace.map(hva, pfn, pages);
      hva += pages * PAGE_SIZE;
    }
    const started = created.launchStart({ policy: POLICY });
    if (!started.ok) throw new Error(`launch start failed: ${started.errno}`);
    return created;
  };
  return { machine, kvm, ring, vm };
}

/** The RMP entries and pin counts of pages [from, from + count): what must not change when a call fails. */
export function pagesState(machine: Machine, from: number, count: number): string {
  const state = Array.from({ length: count }, (_, i) => [
    machine.rmp.read(from + i),
    machine.pages.pinCount(from + i),
  ]);
  return JSON.stringify(state);
}

/**
 * Copies an ID block for launch digest `ld` to the VMM at `hva` and its ID auth at `hva + 4096`,
 * signed by `idKey` when given (unsigned otherwise). True when both copies landed.
 */
export function writeIdBlock(vm: SnpVm, hva: number, ld: Uint8Array, idKey?: P384SigningKey): boolean {
  const block = encodeIdBlock({
    ld,
    familyId: new Uint8Array(16),
    imageId: new Uint8Array(16),
    version: 1,
    guestSvn: 0,
    policy: POLICY,
  });
  const auth = IdAuthInfo.encode({
    idKeyAlgo: 1,
    authKeyAlgo: 0,
    idBlockSig: idKey ? encodeEcdsaSignature(idKey.sign(block)) : new Uint8Array(0x200),
    idKey: encodeEcdsaPublicKey((idKey ?? new P384SigningKey('k')).publicKey),
    idKeySig: new Uint8Array(0x200),
    authorKey: new Uint8Array(0x404),
  });
  return vm.copyToUser(hva, block) && vm.copyToUser(hva + PAGE_SIZE, auth);
}
