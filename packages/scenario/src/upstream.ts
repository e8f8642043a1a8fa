// The steps of the upstream ABI (README.md "The upstream ABI"): guest_memfd, memory attributes,
// LAUNCH_UPDATE through kvm_gmem_populate, and the vCPU state VMSAs are built from.
import {
  createGuestMemfd,
  type Kvm,
  launchUpdateUpstream,
  type SnpVm,
  setGmemMemoryRegion,
  setMemoryAttributes,
  setMemoryRegion,
  type VmsaProfile,
} from '@snp-ref/kvm-svm';
import { vcpuTypeSignature } from '@snp-ref/psp-firmware/measure';
import { hex, PAGE_SIZE } from '@snp-ref/rmp-core';
import { failed, fromKvm, type Outcome } from './outcome.js';
import type { Step } from './schema.js';
import { kvmWhy } from './why.js';

type VmCreate = Extract<Step, { op: 'vm.create' }>;

/** A vm.create's `vmsa` as kvm-svm's profile: the signature from vcpuSig or vcpuType, SEV_FEATURES default 0x1 (SNP active, as `snp-ref measure`). */
export function vmsaProfileOf(vmsa: NonNullable<VmCreate['vmsa']>): VmsaProfile {
  const type = vmsa.vcpuType === undefined ? undefined : vcpuTypeSignature(vmsa.vcpuType);
  return {
    vmmType: vmsa.vmm,
    vcpuSignature: vmsa.vcpuSig ?? type ?? 0, // EC2 and GCE load a fixed RDX: no signature needed
    guestFeatures: vmsa.guestFeatures ?? 1n,
    ...(vmsa.apResetEip !== undefined && { apResetEip: vmsa.apResetEip }),
  };
}

/** memslot.set (with or without a guest_memfd), gmem.create and memory.attributes. */
export function gmemStep(
  kvm: Kvm,
  vm: SnpVm,
  step: Extract<Step, { op: 'memslot.set' | 'gmem.create' | 'memory.attributes' }>,
): Outcome {
  switch (step.op) {
    case 'gmem.create':
      try {
        return fromKvm(createGuestMemfd(vm, step.name, step.pfn, step.pages));
      } catch (error) {
        return failed('EINVAL', (error as Error).message);
      }
    case 'memory.attributes':
      return fromKvm(setMemoryAttributes(vm, step.gpa, step.size, step.private));
    case 'memslot.set': {
      if (step.gmem === undefined) {
        if (step.gmemOffset !== undefined) return failed('EINVAL', 'gmemOffset needs gmem');
        return fromKvm(setMemoryRegion(vm, step.slot, step.gpa, step.hva, step.size));
      }
      // Its own VM's guest_memfd of that name, else another VM's (which KVM refuses to bind).
      const gmem = [vm, ...kvm.all()].map((v) => v.gmems.get(step.gmem ?? '')).find((g) => g !== undefined);
      if (gmem === undefined) return failed('EINVAL', `no guest_memfd named "${step.gmem}" (gmem.create)`);
      const region = { ...step, gmem, gmemOffset: step.gmemOffset ?? 0 };
      return fromKvm(setGmemMemoryRegion(vm, region));
    }
  }
}

/**
 * snp.launch_update on an upstream VM: one ioctl. Done pages give `ok: true` with `pages` and the
 * written-back `next` (and `stopped`, the why of a refusal after the first page); a refusal of the
 * first page is EIO with the firmware status and, in its why, populate's own errno.
 */
export function launchUpdateUpstreamStep(
  vm: SnpVm,
  step: Extract<Step, { op: 'snp.launch_update' }>,
  type: number,
): Outcome {
  if (step.gpa % PAGE_SIZE !== 0)
    return failed('EINVAL', `gpa ${hex(step.gpa)} is not 4 KiB aligned: the struct carries gfn_start`);
  const params = {
    gfnStart: BigInt(step.gpa / PAGE_SIZE),
    uaddr: BigInt(step.hva),
    len: BigInt(step.len),
    type,
  };
  const result = launchUpdateUpstream(vm, params);
  if (!result.ok || result.next === undefined) return fromKvm(result, step.gpa);
  const { next, stopped, pages, leaked } = result;
  return {
    ok: true,
    pages: pages ?? 0,
    ...(leaked !== undefined && { leaked }),
    next: {
      gpa: `0x${(next.gfnStart * BigInt(PAGE_SIZE)).toString(16)}`,
      hva: `0x${next.uaddr.toString(16)}`,
      len: Number(next.len),
    },
    ...(stopped && {
      stopped: {
        ...kvmWhy({ ...stopped, pages: pages ?? 0 }, step.gpa),
        ...(stopped.fwError !== undefined && { fwError: stopped.fwError }),
      },
    }),
  };
}
