import {
  type FwStatus,
  ID_BLOCK_BYTES,
  PageType,
  runCommand,
  SnpActivate,
  SnpAddr,
  SnpCommand,
  SnpLaunchFinish,
  SnpLaunchStart,
  VMSA_GPA,
} from '@snp-ref/psp-firmware';
import {
  expectDefined,
  hex,
  hostRmpUpdateRetName,
  PAGE_SIZE,
  PageMap,
  RmpUpdateRet,
} from '@snp-ref/rmp-core';
import type { KvmAbi } from '../checks.js';
import { AddressSpace } from '../host/addressSpace.js';
import type { GuestMemfd } from '../host/guestMemfd.js';
import { MemoryAttributes } from '../host/memoryAttributes.js';
import { Memslots } from '../host/memslots.js';
import type { Machine } from '../machine.js';
import { fail, type KvmFailure, type KvmResult, OK } from '../result.js';
import { ID_AUTH_SIZE, ID_BLOCK_SIZE } from '../uapi/structs.js';
import { firmwareLaunchUpdate, firmwareReclaim, paddr } from './firmwareCalls.js';
import { type VmsaProfile, vmsaPage } from './vmsaProfile.js';

/** KVM's view of the launch: no firmware context yet, launching, or finished. */
export type SnpVmState = 'CREATED' | 'LAUNCH' | 'RUNNING';

/** SNP_POLICY_MASK_VALID: bits KVM accepts (API minor/major, SMT, RSVD_MBO, DEBUG, SINGLE_SOCKET; docs/spec-notes.md §2.3). */
const POLICY_MASK_VALID = 0x1b_ffffn; // bits 17:0, 19, 20
const POLICY_RSVD_MBO = 1n << 17n;

/**
 * KVM_SEV_SNP_LAUNCH_START's parameters, the fields of struct kvm_sev_snp_launch_start (not the
 * firmware's SNP_LAUNCH_START, psp-firmware's LaunchStartParams).
 */
export interface KvmLaunchStartParams {
  readonly policy: bigint;
  readonly gosvw?: Uint8Array;
  /** Must be zero. */
  readonly flags?: number;
}

/** KVM_SEV_SNP_LAUNCH_FINISH's parameters, from struct kvm_sev_snp_launch_finish (hvas where it has uaddrs). */
export interface KvmLaunchFinishParams {
  readonly idBlockHva?: number;
  readonly idAuthHva?: number;
  readonly idBlockEn?: boolean;
  readonly authKeyEn?: boolean;
  readonly vcekDisabled?: boolean;
  readonly hostData?: Uint8Array;
  /** Must be zero. */
  readonly flags?: number;
}

/**
 * One SNP VM as KVM keeps it (struct kvm_sev_info): its ASID, the firmware context, its vCPUs'
 * VMSAs, and the VMM process's address space and memslots.
 */
export class SnpVm {
  readonly addressSpace: AddressSpace;
  readonly memslots = new Memslots();
  state: SnpVmState = 'CREATED';
  gctx: number | undefined;
  /**
   * The nested page table's private mappings: guest frame → host page, set by a successful
   * LAUNCH_UPDATE (a PageMap: one entry per launched page, set at the rate pages are measured).
   */
  readonly privateMappings = new PageMap<number>();
  readonly vmsas: number[] = [];
  /** upstream: the guest_memfds created on this VM, by name. */
  readonly gmems = new Map<string, GuestMemfd>();
  /** upstream: the gfns KVM_SET_MEMORY_ATTRIBUTES made private. */
  readonly attributes = new MemoryAttributes();

  constructor(
    readonly machine: Machine,
    readonly name: string,
    readonly asid: number,
    readonly abi: KvmAbi,
    readonly vcpus: number,
    /** The vCPU state each VMSA is built from; zero VMSAs without it. */
    readonly vmsaProfile?: VmsaProfile,
  ) {
    this.addressSpace = new AddressSpace(machine.pages);
  }

  /**
   * KVM_SEV_SNP_LAUNCH_START (snp_launch_start in arch/x86/kvm/svm/sev.c): policy checks, then a
   * firmware page for the context, SNP_GCTX_CREATE, SNP_LAUNCH_START and SNP_ACTIVATE; any firmware
   * failure decommissions and frees the context.
   */
  launchStart(params: KvmLaunchStartParams): KvmResult {
    if (this.state !== 'CREATED') return fail('launch_start.state', 'the VM already has an SNP context');
    if ((params.flags ?? 0) !== 0) return fail('launch_start.flags', 'flags must be 0');
    if ((params.policy & ~POLICY_MASK_VALID) !== 0n)
      return fail('launch_start.policy_mask', 'policy has bits KVM does not accept');
    if ((params.policy & POLICY_RSVD_MBO) === 0n)
      return fail('launch_start.policy_mbo', 'policy bit 17 (must be one) is clear');
    const gctx = this.firmwarePage();
    if (gctx === undefined) return fail('launch_start.no_page', 'no free host page for the guest context');
    const created = runCommand(
      this.machine.firmware,
      SnpCommand.SNP_GCTX_CREATE,
      SnpAddr.encode({ address: paddr(gctx) }),
    );
    if (created.name !== 'SUCCESS')
      return this.freeContext(
        gctx,
        fail('launch_start.gctx_create', 'SNP_GCTX_CREATE failed', { fwError: created.name }),
      );
    const start = SnpLaunchStart.encode({
      gctxPaddr: paddr(gctx),
      policy: params.policy,
      maGctxPaddr: 0n,
      flags: 0,
      desiredTscKhz: 0,
      gosvw: params.gosvw ?? new Uint8Array(16),
    });
    for (const [command, buffer] of [
      [SnpCommand.SNP_LAUNCH_START, start],
      [SnpCommand.SNP_ACTIVATE, SnpActivate.encode({ gctxPaddr: paddr(gctx), asid: this.asid })],
    ] as const) {
      const status = runCommand(this.machine.firmware, command, buffer);
      if (status.name !== 'SUCCESS') return this.decommission(gctx, status);
    }
    this.gctx = gctx;
    this.state = 'LAUNCH';
    return OK;
  }

  /**
   * KVM_SEV_SNP_LAUNCH_FINISH (snp_launch_finish): each vCPU's VMSA is made private at the VMSA gpa
   * and measured (SNP_LAUNCH_UPDATE, type VMSA), then SNP_LAUNCH_FINISH with the ID block and ID
   * authentication copied from userspace when enabled, and HOST_DATA.
   */
  launchFinish(params: KvmLaunchFinishParams = {}): KvmResult {
    const gctx = this.gctx;
    if (this.state !== 'LAUNCH' || gctx === undefined)
      return fail('launch_finish.state', 'the VM is not launching');
    if ((params.flags ?? 0) !== 0) return fail('launch_finish.flags', 'flags must be 0');
    for (let vcpu = this.vmsas.length; vcpu < this.vcpus; vcpu++) {
      const measured = this.measureVmsa(gctx, vcpu);
      if (!measured.ok) return measured;
    }
    const idBlockEn = params.idBlockEn ?? false;
    const authKeyEn = idBlockEn && (params.authKeyEn ?? false); // auth_key_en only counts with id_block_en
    let [idBlockPaddr, idAuthPaddr] = [0n, 0n];
    if (idBlockEn) {
      const block = this.copyFromUser(params.idBlockHva ?? 0, ID_BLOCK_SIZE);
      const auth = this.copyFromUser(params.idAuthHva ?? 0, ID_AUTH_SIZE);
      if (block === undefined || auth === undefined)
        return fail('launch_finish.id_block', 'the ID block or ID auth is not mapped');
      const [blockPfn, authPfn] = [this.kernelPage(block.subarray(0, ID_BLOCK_BYTES)), this.kernelPage(auth)];
      if (blockPfn === undefined || authPfn === undefined)
        return fail('launch_finish.no_page', 'no free host page for the ID block');
      [idBlockPaddr, idAuthPaddr] = [paddr(blockPfn), paddr(authPfn)];
    }
    const flags = (idBlockEn ? 1n : 0n) | (authKeyEn ? 2n : 0n) | (params.vcekDisabled === true ? 4n : 0n);
    const finish = SnpLaunchFinish.encode({
      gctxPaddr: paddr(gctx),
      idBlockPaddr,
      idAuthPaddr,
      flags,
      hostData: params.hostData ?? new Uint8Array(32),
    });
    const status = runCommand(this.machine.firmware, SnpCommand.SNP_LAUNCH_FINISH, finish);
    if (status.name !== 'SUCCESS')
      return fail('launch_finish.firmware', 'SNP_LAUNCH_FINISH failed', { fwError: status.name });
    this.state = 'RUNNING';
    return OK;
  }

  /**
   * The host page behind a gpa, as the nested page table maps it: the page a LAUNCH_UPDATE put
   * there, else through the memslot holding the gpa and the VMM's mapping of its hva.
   */
  translateGpa(gpa: number): number | undefined {
    const gfn = Math.floor(gpa / PAGE_SIZE);
    const slot = this.memslots.byGpa(gpa);
    if (slot?.gmem !== undefined) {
      // A private gfn of a guest_memfd slot maps its guest_memfd page (kvm_gmem_get_pfn), a shared one the hva.
      if (this.attributes.isPrivate(gfn))
        return slot.gmem.file.pfnAt(gfn - slot.gpa / PAGE_SIZE + slot.gmem.offset / PAGE_SIZE);
    } else {
      const launched = this.privateMappings.get(gfn);
      if (launched !== undefined) return launched;
    }
    return slot === undefined ? undefined : this.addressSpace.translate(slot.hva + (gpa - slot.gpa));
  }

  /** copy_from_user(): the bytes at [hva, hva + len) of the VMM, or undefined (EFAULT) if unmapped. */
  copyFromUser(hva: number, len: number): Uint8Array | undefined {
    for (let page = Math.floor(hva / PAGE_SIZE); page * PAGE_SIZE < hva + len; page++) {
      const pfn = this.addressSpace.translate(page * PAGE_SIZE);
      if (pfn === undefined || !this.machine.pages.has(pfn)) return undefined; // before allocating anything
    }
    const bytes = new Uint8Array(len);
    for (let done = 0; done < len; ) {
      const pfn = expectDefined(
        this.addressSpace.translate(hva + done),
        `the page at hva ${hex(hva + done)}`,
      );
      const offset = (hva + done) % PAGE_SIZE;
      const chunk = Math.min(len - done, PAGE_SIZE - offset);
      bytes.set(this.machine.memory.peek(pfn).subarray(offset, offset + chunk), done); // peek: copied once, here
      done += chunk;
    }
    return bytes;
  }

  /** copy_to_user(): writes `bytes` at `hva`; false (EFAULT) if any page is unmapped, writing nothing. */
  copyToUser(hva: number, bytes: Uint8Array): boolean {
    const pfns: number[] = [];
    for (let page = Math.floor(hva / PAGE_SIZE); page * PAGE_SIZE < hva + bytes.length; page++) {
      const pfn = this.addressSpace.translate(page * PAGE_SIZE);
      if (pfn === undefined || !this.machine.pages.has(pfn)) return false;
      pfns.push(pfn);
    }
    for (let done = 0; done < bytes.length; ) {
      const at = hva + done;
      const offset = at % PAGE_SIZE;
      const chunk = Math.min(bytes.length - done, PAGE_SIZE - offset);
      this.machine.memory.write(
        pfns[Math.floor(at / PAGE_SIZE) - Math.floor(hva / PAGE_SIZE)] ?? 0,
        bytes.subarray(done, done + chunk),
        offset,
      );
      done += chunk;
    }
    return true;
  }

  /**
   * The VMSA page of vCPU `vcpu`, built from its state (sev_es_sync_vmsa; a zero page without a
   * profile), made private at VMSA_GPA and measured; reclaimed if the firmware refuses it.
   */
  private measureVmsa(gctx: number, vcpu: number): KvmResult {
    const profile = this.vmsaProfile;
    const pfn = this.kernelPage(profile === undefined ? new Uint8Array(PAGE_SIZE) : vmsaPage(profile, vcpu));
    if (pfn === undefined) return fail('launch_finish.no_page', 'no free host page for a VMSA');
    const hostRmp = this.machine.hostRmp;
    const made = hostRmp.makePrivate(pfn, VMSA_GPA, this.asid, true, 'kvm');
    if (made !== RmpUpdateRet.SUCCESS) {
      return fail('launch_finish.vmsa_rmpupdate', 'rmpupdate of a VMSA failed', {
        rmpRet: hostRmpUpdateRetName(made),
      });
    }

    const status = firmwareLaunchUpdate(this.machine, gctx, pfn, PageType.VMSA);
    if (status.name !== 'SUCCESS') {
      const leaked = this.reclaimAndReset(pfn) ? [] : [pfn];
      return fail('launch_finish.firmware', 'SNP_LAUNCH_UPDATE of a VMSA failed', {
        fwError: status.name,
        leaked,
      });
    }
    this.vmsas.push(pfn);
    return OK;
  }

  /**
   * Gives a page the firmware still holds (immutable) back to the host: SNP_PAGE_RECLAIM, then
   * reset to hypervisor-owned. False when either fails: the caller leaks the page.
   */
  reclaimAndReset(pfn: number): boolean {
    if (firmwareReclaim(this.machine, pfn).name !== 'SUCCESS') return this.leak(pfn);
    if (this.machine.hostRmp.resetToHypervisor(pfn, 'kvm') !== RmpUpdateRet.SUCCESS) return this.leak(pfn);
    return true;
  }

  private leak(pfn: number): false {
    this.machine.pages.leak(pfn);
    return false;
  }

  /** snp_alloc_firmware_page(): a kernel page made FIRMWARE (assigned, ASID 0, immutable). */
  private firmwarePage(): number | undefined {
    const pfn = this.kernelPage(new Uint8Array(PAGE_SIZE));
    if (pfn === undefined) return undefined;
    return this.machine.hostRmp.makePrivate(pfn, 0, 0, true, 'kvm') === RmpUpdateRet.SUCCESS
      ? pfn
      : undefined;
  }

  /**
   * A page for the kernel holding `bytes` (the firmware reads command inputs from physical memory):
   * hypervisor-owned, mapped by no VMM, not pinned.
   */
  private kernelPage(bytes: Uint8Array): number | undefined {
    const rmp = this.machine.rmp;
    const pfn = this.machine.pages.allocateKernelPage((p) => !rmp.read(p).assigned);
    if (pfn !== undefined) this.machine.memory.write(pfn, bytes);
    return pfn;
  }

  /** snp_decommission_context() after a failed LAUNCH_START or ACTIVATE. */
  private decommission(gctx: number, status: FwStatus): KvmFailure {
    runCommand(this.machine.firmware, SnpCommand.SNP_DECOMMISSION, SnpAddr.encode({ address: paddr(gctx) }));
    return this.freeContext(
      gctx,
      fail('launch_start.firmware', 'SNP_LAUNCH_START or SNP_ACTIVATE failed', { fwError: status.name }),
    );
  }

  private freeContext(gctx: number, result: KvmFailure): KvmFailure {
    return this.reclaimAndReset(gctx) ? result : { ...result, leaked: [gctx] };
  }
}
