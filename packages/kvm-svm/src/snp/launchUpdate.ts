import type { PageSize } from '@snp-ref/rmp-core';
import { hostRmpUpdateRetName, PAGE_SIZE, RMPUPDATE_REFUSED_ASSIGNED, RmpUpdateRet } from '@snp-ref/rmp-core';
import { fail, type KvmFailure, type KvmResult } from '../result.js';
import { KvmSnpPageType } from '../uapi/structs.js';
import { firmwareLaunchUpdate } from './firmwareCalls.js';
import type { SnpVm } from './snpVm.js';

/** The RMP records gpas below 2^51 (its gfn field is bits 50:12; docs/spec-notes.md §1.1). */
const GPA_LIMIT = 2 ** 51;
/** The page types KVM_SEV_SNP_LAUNCH_UPDATE accepts (KVM_SEV_SNP_PAGE_TYPE_*, no VMSA). */
export const KVM_PAGE_TYPES: readonly number[] = Object.values(KvmSnpPageType);

/**
 * The parameters of KVM_SEV_SNP_LAUNCH_UPDATE as the review settled them (struct kvm_sev_snp_launch_update).
 */
export interface ReviewedLaunchUpdate {
  /** Guest physical address of the first page (gfn_start × 4096). */
  readonly gpa: number;
  /** Userspace address of the first page (uaddr). */
  readonly hva: number;
  /** Bytes, a multiple of 4096. */
  readonly len: number;
  /** KVM_SEV_SNP_PAGE_TYPE_*. */
  readonly type: number;
  /** Must be zero. */
  readonly flags?: number;
}

/**
 * KVM_SEV_SNP_LAUNCH_UPDATE as the review settled it (docs/review.md):
 * userspace gives hva and gpa; KVM pins the hva range and never looks at memslots or takes srcu;
 * each 4 KiB page is made private (assigned, ASID, gpa, immutable) by the traced rmpupdate(), then
 * measured by the firmware. On failure exactly the entries this call changed go back to
 * hypervisor-owned (the failed page through SNP_PAGE_RECLAIM first); a page that cannot be given
 * back is leaked and keeps its pin. Every other pinned page is marked dirty and accessed and unpinned, whatever happens.
 * @conforms kvm.snp_launch_update
 */
export function launchUpdateReviewed(vm: SnpVm, params: ReviewedLaunchUpdate): KvmResult {
  const { gpa, hva, len, type } = params;
  const gctx = vm.gctx;
  if (vm.state !== 'LAUNCH' || gctx === undefined)
    return fail('launch_update.state', 'the VM is not launching');
  const copied = copyParamsFromUser(vm);
  if (copied !== undefined) return copied;
  if ((params.flags ?? 0) !== 0) return fail('launch_update.flags', 'flags must be 0');
  if (!KVM_PAGE_TYPES.includes(type)) return fail('launch_update.type', `unknown page type ${type}`);
  const invalid = checkRange(hva, len);
  if (invalid !== undefined) return invalid;
  if (gpa % PAGE_SIZE !== 0) return fail('launch_update.gpa', 'gpa is not 4 KiB aligned');
  if (gpa + len > GPA_LIMIT)
    return fail('launch_update.gpa', 'gpa + len overflows the guest physical address space');
  const pages = len / PAGE_SIZE;
  const pfns = pinUserRange(vm, hva, pages);
  if (!Array.isArray(pfns)) return pfns;
  // The pfn list (kvcalloc in reviewed.patch): its failure releases every pinned page like any other.
  if (vm.machine.faults.fails('alloc')) {
    for (const pfn of pfns) vm.machine.pages.releaseDirty(pfn);
    return fail('launch_update.alloc', 'allocating the pfn list failed', { pages: 0 });
  }

  const changed: number[] = []; // pages this call made private, in order
  let result: KvmResult = { ok: true, pages };
  for (const [i, pfn] of pfns.entries()) {
    const made = vm.machine.hostRmp.makePrivate(pfn, gpa + i * PAGE_SIZE, vm.asid, true, 'kvm');
    if (made !== RmpUpdateRet.SUCCESS) {
      result = rmpupdateFailure(made, pfn, i);
      break;
    }
    changed.push(pfn);
    const refused = firmwareUpdate(vm, gctx, pfn, type, i);
    if (refused !== undefined) {
      result = refused;
      break;
    }
  }
  if (result.ok) for (const [i, pfn] of pfns.entries()) vm.privateMappings.set(gpa / PAGE_SIZE + i, pfn);
  const leaked = result.ok ? [] : revertTouched(vm, changed);
  for (const pfn of pfns) {
    // A leaked page keeps its pin: __snp_leak_pages (arch/x86/virt/svm/sev.c) only lists the page and
    // takes no reference, so the pin is what keeps it from the allocator once the VMM unmaps it.
    if (vm.machine.pages.leaked.has(pfn)) continue;
    vm.machine.pages.releaseDirty(pfn);
  }
  return leaked.length > 0 ? { ...result, leaked } : result;
}

/**
 * The review's revert: only what this call changed, newest first, through the dedicated reset
 * helper; a page the firmware still holds (immutable) is reclaimed first. A page that cannot be
 * given back is leaked (HostPages.leaked: never reused), and keeps its pin (launchUpdateReviewed).
 * @conforms kvm.revert_touched
 */
function revertTouched(vm: SnpVm, changed: readonly number[]): number[] {
  const leaked: number[] = [];
  for (const pfn of [...changed].reverse()) {
    const stillImmutable = vm.machine.rmp.read(pfn).immutable;
    const given = stillImmutable
      ? vm.reclaimAndReset(pfn)
      : vm.machine.hostRmp.resetToHypervisor(pfn, 'kvm') === RmpUpdateRet.SUCCESS || leak(vm, pfn);
    if (!given) leaked.push(pfn);
  }
  return leaked;
}

/**
 * The copy_from_user() of the command struct, which snp_launch_update makes after its state check
 * (arch/x86/kvm/svm/sev.c): the parameters arrive decoded (the ioctl layer copies the bytes), so
 * this is where an injected `copy_from_user` fault fails the call. Undefined when it succeeds.
 */
export function copyParamsFromUser(vm: SnpVm): KvmFailure | undefined {
  if (!vm.machine.faults.fails('copy_from_user')) return undefined;
  return fail('launch_update.copy_from_user', 'copy_from_user of the struct failed');
}

/**
 * sev_pin_memory (arch/x86/kvm/svm/sev.c): the page array is allocated first (kmalloc or
 * __vmalloc, -ENOMEM when it fails), then every page is pinned; a page that is not mapped, or
 * whose pin fails (injected `pin`), unpins what was pinned and fails the call with EFAULT.
 */
function pinUserRange(vm: SnpVm, hva: number, pages: number): number[] | KvmFailure {
  const faults = vm.machine.faults;
  if (faults.fails('alloc')) return fail('launch_update.alloc', 'allocating the page array failed');
  const pfns = vm.addressSpace.pinRange(vm.machine.pages, hva, pages, () => faults.fails('pin'));
  return pfns ?? fail('launch_update.pin', 'the hva range is not fully mapped');
}

function leak(vm: SnpVm, pfn: number): false {
  vm.machine.pages.leak(pfn);
  return false;
}

/** A failed rmpupdate() of page `done` of the call: EBUSY from the sanity check, else EFAULT. */
function rmpupdateFailure(ret: number, pfn: number, done: number): KvmFailure {
  const at = `pfn 0x${pfn.toString(16)}`;
  if (ret === RMPUPDATE_REFUSED_ASSIGNED)
    return fail('launch_update.assigned', `${at} is already assigned`, { pages: done });
  return fail('launch_update.rmpupdate', `rmpupdate of ${at} failed`, {
    rmpRet: hostRmpUpdateRetName(ret),
    pages: done,
  });
}

/** The firmware's SNP_LAUNCH_UPDATE of page `done` of the call: undefined on success, else EIO with its status. */
function firmwareUpdate(
  vm: SnpVm,
  gctx: number,
  pfn: number,
  type: number,
  done: number,
): KvmFailure | undefined {
  const status = firmwareLaunchUpdate(vm.machine, gctx, pfn, type);
  if (status.name === 'SUCCESS') return undefined;
  return fail('launch_update.firmware', `SNP_LAUNCH_UPDATE of pfn 0x${pfn.toString(16)} failed`, {
    fwError: status.name,
    pages: done,
  });
}

/** EINVAL refusals shared by both ABIs: length and userspace address. */
function checkRange(hva: number, len: number): KvmFailure | undefined {
  if (!Number.isSafeInteger(len) || len <= 0)
    return fail('launch_update.len', 'len must be a positive number of bytes');
  if (len % PAGE_SIZE !== 0) return fail('launch_update.len', 'len is not a multiple of 4096');
  if (!Number.isInteger(hva) || hva < 0) return fail('launch_update.hva', 'hva is not a 64-bit address');
  // The model addresses 2^53 bytes (uaddr arrives as a u64): a range beyond it overflows.
  if (!Number.isSafeInteger(hva + len))
    return fail('launch_update.hva', 'hva + len overflows the 2^53 bytes the model addresses');
  if (hva % PAGE_SIZE !== 0) return fail('launch_update.hva', 'hva is not 4 KiB aligned');
  return undefined;
}

/**
 * The parameters of KVM_SEV_SNP_LAUNCH_UPDATE as RFC v4 posted them: the userspace range and the page type,
 * no gpa.
 */
export interface V4LaunchUpdate {
  readonly hva: number;
  readonly len: number;
  /** The firmware page type, passed through as the RFC did. */
  readonly type: number;
}

// RFC v4's page-level indirection: the path carried a level and derived size and mask from it,
// though only 4K was ever used.
const PG_LEVEL_4K = 1;
const pageLevelSize = (level: number) => PAGE_SIZE << (9 * (level - 1));
const pageLevelPageSize = (level: number): PageSize => (level === PG_LEVEL_4K ? '4K' : '2M');

/**
 * KVM_SEV_SNP_LAUNCH_UPDATE as posted in RFC v4 (2021), kept to show how it goes wrong: the gpa
 * of each page comes from the memslot its hva lies in (so a missing or moved memslot fails the call
 * or targets another gpa), sizes go through a page level, pinned pages are unpinned without being
 * marked dirty, and on any error every entry of the range is purged to zero, including pages this
 * call never touched, which may belong to another VM.
 * @conforms kvm.snp_launch_update v4
 */
export function launchUpdateV4(vm: SnpVm, params: V4LaunchUpdate): KvmResult {
  const { hva, len, type } = params;
  const gctx = vm.gctx;
  if (vm.state !== 'LAUNCH' || gctx === undefined)
    return fail('launch_update.state', 'the VM is not launching');
  const copied = copyParamsFromUser(vm);
  if (copied !== undefined) return copied;
  const invalid = checkRange(hva, len);
  if (invalid !== undefined) return invalid;
  const level = PG_LEVEL_4K;
  const pages = len / pageLevelSize(level);
  const pfns = pinUserRange(vm, hva, pages);
  if (!Array.isArray(pfns)) return pfns;

  let result: KvmResult = { ok: true, pages };
  const gfns: number[] = [];
  for (const [i, pfn] of pfns.entries()) {
    const gpa = vm.memslots.gpaOf(hva + i * pageLevelSize(level)); // under kvm->srcu in the RFC
    if (gpa === undefined) {
      result = fail(
        'launch_update.no_memslot',
        `no memslot maps hva 0x${(hva + i * PAGE_SIZE).toString(16)}`,
        { pages: i },
      );
      break;
    }
    gfns.push(gpa / PAGE_SIZE);
    const made = vm.machine.hostRmp.rmpupdate(
      pfn,
      { gpa, assigned: true, pageSize: pageLevelPageSize(level), immutable: true, asid: vm.asid },
      'kvm',
    );
    if (made !== RmpUpdateRet.SUCCESS) {
      result = rmpupdateFailure(made, pfn, i);
      break;
    }
    const refused = firmwareUpdate(vm, gctx, pfn, type, i);
    if (refused !== undefined) {
      result = refused;
      break;
    }
  }
  if (result.ok) for (const [i, pfn] of pfns.entries()) vm.privateMappings.set(gfns[i] ?? 0, pfn);
  if (!result.ok) {
    for (const pfn of pfns) {
      vm.machine.hostRmp.rmpupdate(
        pfn,
        { gpa: 0, assigned: false, pageSize: '4K', immutable: false, asid: 0 },
        'kvm',
      );
    }
  }
  for (const pfn of pfns) vm.machine.pages.unpin(pfn);
  return result;
}
