import { SevStatus, type SevStatusName } from '@snp-ref/psp-firmware';
import {
  checkHostAccess,
  type ErrnoName,
  hex,
  hostRmpUpdateRetName,
  PAGE_SIZE,
  RmpUpdateRet,
} from '@snp-ref/rmp-core';
import type { CheckId } from '../checks.js';
import { advance, fail, type KvmFailure, type KvmResult } from '../result.js';
import { KvmSnpPageType } from '../uapi/structs.js';
import { firmwareLaunchUpdate } from './firmwareCalls.js';
import { copyParamsFromUser, KVM_PAGE_TYPES } from './launchUpdate.js';
import type { SnpVm } from './snpVm.js';

const PAGE = BigInt(PAGE_SIZE);
/** The model addresses 2^53 bytes: a source beyond is unmapped. */
const MAX_SAFE_ADDRESS = BigInt(Number.MAX_SAFE_INTEGER);

/** struct kvm_sev_snp_launch_update as upstream reads it: its u64 fields exact, as bigints. */
export interface UpstreamLaunchUpdate {
  readonly gfnStart: bigint;
  /** The source of the contents (ignored for ZERO). */
  readonly uaddr: bigint;
  /** Bytes, a multiple of 4096. */
  readonly len: bigint;
  /** KVM_SEV_SNP_PAGE_TYPE_*. */
  readonly type: number;
  /** Must be zero. */
  readonly flags?: number;
}

/** Why populate stopped at a page: the check, the errno populate returned and the firmware status. */
interface PopulateStop {
  readonly check: CheckId;
  readonly inner: ErrnoName;
  readonly message: string;
  readonly fwError?: SevStatusName;
  readonly rmpRet?: string;
  readonly leaked?: number[];
}

/**
 * KVM_SEV_SNP_LAUNCH_UPDATE as Linux 6.11 merged it (snp_launch_update, arch/x86/kvm/svm/sev.c;
 * docs/spec-notes.md §3.3, §4): the review's gfn_start + uaddr in 4 KiB pages, over guest_memfd.
 * Under kvm->slots_lock (not kvm->srcu) KVM looks up the memslot at gfn_start, which must have a
 * guest_memfd; kvm_gmem_populate then takes each gfn's guest_memfd page, and
 * sev_gmem_post_populate copies the source page from uaddr into it, makes it private and has the
 * firmware measure it. The VMM's page is only read: it is never pinned or converted. A call that
 * did at least one page writes the struct back advanced and returns 0 (`next`, and `stopped` when a
 * refusal ended it early); a refusal of its first page is EIO, whatever populate returned
 * (`innerErrno`), with the firmware status (SUCCESS, i.e. 0, when the firmware never ran).
 * @conforms kvm.snp_launch_update upstream
 */
export function launchUpdateUpstream(vm: SnpVm, params: UpstreamLaunchUpdate): KvmResult {
  const { gfnStart, uaddr, len, type } = params;
  const gctx = vm.gctx;
  // Only the SNP context is checked: after LAUNCH_FINISH the call goes on and the firmware refuses
  // the page (INVALID_GUEST_STATE), reclaimed, EIO (sev.c snp_launch_update: !sev->snp_context).
  if (gctx === undefined)
    return fail('launch_update.state', 'the VM has no SNP context: no LAUNCH_START yet');
  const copied = copyParamsFromUser(vm);
  if (copied !== undefined) return copied;
  // len 0 is refused since "KVM: SEV: Reject non-positive effective lengths during LAUNCH_UPDATE"
  // (after 6.11, which populated nothing and returned 0; docs/spec-notes.md §3.3).
  if (len === 0n) return fail('launch_update.len', 'len must be a positive number of bytes');
  if (len % PAGE !== 0n) return fail('launch_update.len', 'len is not a multiple of 4096');
  if ((params.flags ?? 0) !== 0) return fail('launch_update.flags', 'flags must be 0');
  if (!KVM_PAGE_TYPES.includes(type)) return fail('launch_update.type', `unknown page type ${type}`);
  // The uaddr alignment check came after the merge (docs/spec-notes.md §3.3); ZERO ignores uaddr.
  const src = type === KvmSnpPageType.ZERO ? undefined : uaddr;
  if (src !== undefined && src % PAGE !== 0n) return fail('launch_update.hva', 'uaddr is not 4 KiB aligned');

  // gfn_to_memslot + kvm_slot_can_be_private, under kvm->slots_lock: no memslot change can race it.
  const slot = gfnStart * PAGE < 2n ** 53n ? vm.memslots.byGpa(Number(gfnStart) * PAGE_SIZE) : undefined;
  const gmem = slot?.gmem;
  if (slot === undefined || gmem === undefined)
    return fail('launch_update.no_gmem', `no guest_memfd memslot holds gfn 0x${gfnStart.toString(16)}`);

  // kvm_gmem_populate: the range is clipped to the end of the memslot. guest_memfd hands out
  // order-0 folios, so each post_populate chunk is one page and its revert loop of earlier pages of
  // the chunk has nothing to revert: pages done earlier in the call stay private and measured.
  const gfn = Number(gfnStart);
  const slotGfn = slot.gpa / PAGE_SIZE;
  const left = slotGfn + slot.size / PAGE_SIZE - gfn;
  const npages = len / PAGE < BigInt(left) ? Number(len / PAGE) : left;
  let done = 0;
  let stop: PopulateStop | undefined;
  let pageSrc = src; // the source of page `done`: one bigint addition per page
  for (; done < npages; done++) {
    const index = gfn + done - slotGfn + gmem.offset / PAGE_SIZE;
    const pfn = gmem.file.pfnAt(index);
    if (gmem.file.isPrepared(index))
      stop = stopAt(
        'launch_update.populate_prepared',
        'EEXIST',
        `the guest_memfd page of gfn ${hex(gfn + done)} is already populated`,
      );
    else if (!vm.attributes.isPrivate(gfn + done))
      stop = stopAt('launch_update.populate_not_private', 'EINVAL', `gfn ${hex(gfn + done)} is not private`);
    else stop = postPopulate(vm, gctx, gfn + done, pfn, pageSrc, type);
    if (stop !== undefined) break;
    gmem.file.markPrepared(index); // kvm_gmem_mark_prepared, on success only
    vm.privateMappings.set(gfn + done, pfn);
    if (pageSrc !== undefined) pageSrc += PAGE;
  }
  // count < 0: kvm_sev_cmd.error = the firmware status of the populate (0 if it never ran), -EIO.
  if (stop !== undefined && done === 0)
    return refusal(stop, { fwError: stop.fwError ?? 'SUCCESS', pages: 0 });
  return {
    ok: true,
    pages: done,
    next: advance(params, done),
    ...(stop !== undefined && { stopped: refusal(stop) }),
    ...(stop?.leaked !== undefined && { leaked: stop.leaked }),
  };
}

const stopAt = (
  check: CheckId,
  inner: ErrnoName,
  message: string,
  more: Partial<PopulateStop> = {},
): PopulateStop => ({ check, inner, message, ...more });

/** The KvmFailure of a populate stop: EIO from the catalogue, the inner errno beside it. */
function refusal(stop: PopulateStop, extra: Partial<Pick<KvmFailure, 'fwError' | 'pages'>> = {}): KvmFailure {
  const { check, inner, message, ...more } = stop;
  return { ...fail(check, message, { ...more, ...extra }), innerErrno: inner };
}

/**
 * sev_gmem_post_populate for one page (arch/x86/kvm/svm/sev.c; docs/spec-notes.md §4): the RMP
 * lookup (assigned: -EEXIST), the copy of the source page into the guest_memfd page (-EFAULT), the
 * page made private and immutable at its gpa, then the firmware's SNP_LAUNCH_UPDATE. A firmware
 * refusal reclaims that page only (leaked if reclaim fails); a CPUID page refused with
 * INVALID_PARAM, reclaimed, is copied back to the source as the firmware corrected it (a failed
 * copy is only logged). Undefined when the page is done.
 * @conforms kvm.gmem_post_populate upstream
 */
function postPopulate(
  vm: SnpVm,
  gctx: number,
  gfn: number,
  pfn: number,
  src: bigint | undefined,
  type: number,
): PopulateStop | undefined {
  const { machine } = vm;
  if (machine.rmp.read(pfn).assigned)
    return stopAt('launch_update.populate_assigned', 'EEXIST', `pfn ${hex(pfn)} is already assigned`);
  if (src !== undefined && !copyPageFromUser(vm, src, pfn))
    return stopAt(
      'launch_update.populate_copy',
      'EFAULT',
      `copy_from_user of uaddr 0x${src.toString(16)} failed`,
    );
  const made = machine.hostRmp.makePrivate(pfn, gfn * PAGE_SIZE, vm.asid, true, 'kvm');
  if (made !== RmpUpdateRet.SUCCESS)
    return stopAt('launch_update.populate_rmpupdate', 'EFAULT', `rmpupdate of pfn ${hex(pfn)} failed`, {
      rmpRet: hostRmpUpdateRetName(made),
    });
  const status = firmwareLaunchUpdate(machine, gctx, pfn, type);
  if (status.name === 'SUCCESS') return undefined;
  const reclaimed = vm.reclaimAndReset(pfn);
  if (
    reclaimed &&
    src !== undefined &&
    type === KvmSnpPageType.CPUID &&
    status.code === SevStatus.INVALID_PARAM
  )
    copyPageToUser(vm, src, machine.memory.read(pfn));
  return stopAt('launch_update.populate_firmware', 'EIO', `SNP_LAUNCH_UPDATE of pfn ${hex(pfn)} failed`, {
    fwError: status.name,
    ...(!reclaimed && { leaked: [pfn] }),
  });
}

/**
 * copy_from_user of one source page straight into guest_memfd page `pfn`, as sev_gmem_post_populate
 * copies into the kmapped folio: one copy. False (EFAULT) if the source is unmapped or an injected
 * fault fails it.
 */
function copyPageFromUser(vm: SnpVm, src: bigint, pfn: number): boolean {
  const { faults, pages, memory } = vm.machine;
  if (faults.fails('copy_from_user') || src > MAX_SAFE_ADDRESS) return false;
  const from = vm.addressSpace.translate(Number(src)); // src is page-aligned: one source page
  if (from === undefined || !pages.has(from)) return false;
  memory.write(pfn, memory.peek(from)); // peek: the host's view (ciphertext if private), not copied twice
  return true;
}

/**
 * copy_to_user of one page to the source: skipped (KVM only logs it) if the page is unmapped, an
 * injected fault fails it, or the host may not write it (an RMP #PF: APM Vol 2 Table 15-39).
 */
function copyPageToUser(vm: SnpVm, src: bigint, bytes: Uint8Array): void {
  const pfn = vm.addressSpace.translate(Number(src));
  if (vm.machine.faults.fails('copy_to_user') || pfn === undefined) return;
  if (checkHostAccess(vm.machine.rmp, { pfn, kind: 'write' }).kind !== 'OK') return;
  vm.copyToUser(Number(src), bytes);
}
