import {
  checkGuestAccess,
  codeName,
  expectDefined,
  type Fault,
  type GuestAsidVmpl,
  type InstructionOutcome,
  PAGE_SIZE,
  type PageSize,
  PvalidateRet as PvalidateCodes,
  type PvalidateRet,
  pvalidate,
  RmpAdjustRet as RmpAdjustCodes,
  type RmpAdjustRet,
  type RmpTable,
  rmpadjust,
  traceChange,
  VC_PAGE_NOT_VALIDATED,
} from '@snp-ref/rmp-core';
import { encodeTermRequest, TermReason } from './ghcb/msr.js';

/** An access that would cross into the next page: the model's accesses stay within one page. */
function withinPage(gpa: number, len: number): AccessRefusal | undefined {
  if ((gpa % PAGE_SIZE) + len <= PAGE_SIZE) return undefined;
  return { kind: 'invalid', reason: `${len} bytes at gpa 0x${gpa.toString(16)} cross a page boundary` };
}

/** RMPADJUST's return code by name for the trace; -1 marks a fault instead of a return. */
const rmpadjustName = (ret: number) => (ret < 0 ? 'FAULT' : codeName(RmpAdjustCodes, ret));

/** PVALIDATE's return code by name for the trace; -1 marks a fault (#VC / NPF) instead of a return. */
const pvalidateName = (ret: number) => (ret < 0 ? 'FAULT' : codeName(PvalidateCodes, ret));

/** Physical memory as the guest's accesses reach it (psp-firmware's PhysicalMemory fits). */
export interface GuestMemory {
  /** The raw bytes of a page, as an unencrypted access sees them. */
  read(pfn: number): Uint8Array;
  /** Writes raw bytes into a page at `offset` (default 0), unencrypted. */
  write(pfn: number, bytes: Uint8Array, offset?: number): void;
  /** A page decrypted with the key of `asid`, as the guest's private access sees it. */
  readPrivate(asid: number, pfn: number): Uint8Array;
  /** Encrypts `plaintext` with the key of `asid` into the page, as the guest's private write does. */
  writePrivate(asid: number, pfn: number, plaintext: Uint8Array): void;
}

/** The hypervisor's nested page table: the host page a guest page is mapped to. */
export interface NestedPageTable {
  /** The host page frame `gpa` is mapped to, or undefined when it is not mapped (a nested page fault). */
  translate(gpa: number): number | undefined;
}

/** What the vCPU did or suffered, in order: faults it took and how its #VC handler answered. */
export type GuestEvent =
  | { readonly kind: '#VC'; readonly gpa: number; readonly errorCode: number }
  | { readonly kind: 'NPF'; readonly gpa: number; readonly exitInfo1: number }
  | {
      readonly kind: 'terminate';
      readonly reasonSet: number;
      readonly reasonCode: number;
      readonly msr: bigint;
    };

/** What a guest access gave: the bytes read, the write done, or why it did not happen. */
export type AccessOutcome =
  | { readonly kind: 'data'; readonly bytes: Uint8Array }
  | { readonly kind: 'written' }
  | AccessRefusal;

/** Why an access or instruction did not happen: the fault it raised, or what stopped it first. */
export type AccessRefusal =
  | Fault
  | { readonly kind: 'unmapped'; readonly gpa: number }
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'terminated' };

/** How a GuestVcpu behaves where the hardware leaves the choice to the guest's software. */
export interface GuestVcpuOptions {
  /**
   * 'linux' (default): on a #VC for an unvalidated private page, do what a Linux guest does, which
   * has no handler for it: request termination through the GHCB MSR protocol (sev_es_terminate,
   * reason set 0 general); the vCPU runs nothing after. 'none': report the #VC and carry on, to
   * explore what happens next.
   */
  readonly vcHandler?: 'linux' | 'none';
}

/**
 * One vCPU of an SNP guest: reads and writes of guest physical addresses, private (C-bit set) or
 * shared, through the rmp-core access check (APM vol. 2 Table 15-39), and the guest's RMP
 * instructions. Faults come back as values and are recorded in `events`, never thrown.
 */
export class GuestVcpu {
  readonly events: GuestEvent[] = [];
  terminated = false;
  private readonly vcHandler: 'linux' | 'none';

  constructor(
    readonly rmp: RmpTable,
    readonly memory: GuestMemory,
    readonly npt: NestedPageTable,
    readonly context: GuestAsidVmpl,
    options: GuestVcpuOptions = {},
  ) {
    this.vcHandler = options.vcHandler ?? 'linux';
  }

  /** Reads `len` bytes at `gpa`, within one page (an access that crosses one is `invalid`). */
  read(
    gpa: number,
    len: number,
    options: { private?: boolean } = {},
  ): Extract<AccessOutcome, { kind: 'data' }> | AccessRefusal {
    const crossing = withinPage(gpa, len);
    if (crossing !== undefined) return crossing;
    const checked = this.access(gpa, 'read', options.private ?? true);
    if (checked.kind !== 'OK') return checked;
    const offset = gpa % PAGE_SIZE;
    const page =
      (options.private ?? true)
        ? this.memory.readPrivate(this.context.asid, checked.pfn)
        : this.memory.read(checked.pfn);
    return { kind: 'data', bytes: Uint8Array.from(page.subarray(offset, offset + len)) };
  }

  /** Writes `bytes` at `gpa`, within one page; private writes go through the guest's key. */
  write(
    gpa: number,
    bytes: Uint8Array,
    options: { private?: boolean } = {},
  ): Extract<AccessOutcome, { kind: 'written' }> | AccessRefusal {
    const crossing = withinPage(gpa, bytes.length);
    if (crossing !== undefined) return crossing;
    const isPrivate = options.private ?? true;
    const checked = this.access(gpa, 'write', isPrivate);
    if (checked.kind !== 'OK') return checked;
    const offset = gpa % PAGE_SIZE;
    if (!isPrivate) {
      this.memory.write(checked.pfn, bytes, offset);
      return { kind: 'written' };
    }
    const page = Uint8Array.from(this.memory.readPrivate(this.context.asid, checked.pfn));
    page.set(bytes, offset);
    this.memory.writePrivate(this.context.asid, checked.pfn, page);
    return { kind: 'written' };
  }

  /** PVALIDATE of the page at `gpa` (RCX = page size, RDX = validate). */
  pvalidate(
    gpa: number,
    validate: boolean,
    pageSize: PageSize = '4K',
  ): InstructionOutcome<PvalidateRet> | AccessRefusal {
    const pfn = this.npt.translate(gpa);
    if (this.terminated) return { kind: 'terminated' };
    if (pfn === undefined) return { kind: 'unmapped', gpa };
    let outcome: InstructionOutcome<PvalidateRet> | undefined;
    traceChange(
      this.rmp,
      'pvalidate',
      'guest',
      pfn,
      () => {
        outcome = pvalidate(this.rmp, this.context, { pfn, gpa, pageSize, validate });
        return outcome.kind === 'ret' ? outcome.ret : -1;
      },
      pvalidateName,
    );
    const result = expectDefined<InstructionOutcome<PvalidateRet>>(outcome, 'the PVALIDATE outcome');
    if (result.kind !== 'ret') this.recordFault(gpa, result);
    return result;
  }

  /** RMPADJUST: VMPL0 grants a lower VMPL permissions on its page. */
  rmpadjust(
    gpa: number,
    targetVmpl: 1 | 2 | 3,
    perms: number,
    pageSize: PageSize = '4K',
  ): InstructionOutcome<RmpAdjustRet> | AccessRefusal {
    const pfn = this.npt.translate(gpa);
    if (this.terminated) return { kind: 'terminated' };
    if (pfn === undefined) return { kind: 'unmapped', gpa };
    let outcome: InstructionOutcome<RmpAdjustRet> | undefined;
    traceChange(
      this.rmp,
      'rmpadjust',
      'guest',
      pfn,
      () => {
        outcome = rmpadjust(this.rmp, this.context, { pfn, gpa, pageSize, targetVmpl, perms, vmsa: false });
        return outcome.kind === 'ret' ? outcome.ret : -1;
      },
      rmpadjustName,
    );
    const result = expectDefined<InstructionOutcome<RmpAdjustRet>>(outcome, 'the RMPADJUST outcome');
    if (result.kind !== 'ret') this.recordFault(gpa, result);
    return result;
  }

  /** Asks the hypervisor to end the guest (GHCB MSR termination request), as Linux's sev_es_terminate(). */
  terminate(reason: { set: number; code: number }): void {
    const msr = encodeTermRequest(reason.set, reason.code);
    this.events.push({ kind: 'terminate', reasonSet: reason.set, reasonCode: reason.code, msr });
    this.terminated = true;
  }

  private access(
    gpa: number,
    kind: 'read' | 'write',
    isPrivate: boolean,
  ): { kind: 'OK'; pfn: number } | AccessRefusal {
    if (this.terminated) return { kind: 'terminated' };
    const pfn = this.npt.translate(gpa);
    if (pfn === undefined) return { kind: 'unmapped', gpa };
    const result = checkGuestAccess(this.rmp, this.context, {
      pfn,
      gpa: gpa - (gpa % PAGE_SIZE),
      kind,
      private: isPrivate,
    });
    if (result.kind === 'OK') return { kind: 'OK', pfn };
    this.recordFault(gpa, result);
    return result;
  }

  private recordFault(gpa: number, fault: Fault): void {
    if (fault.kind === 'NPF') {
      this.events.push({ kind: 'NPF', gpa, exitInfo1: fault.exitInfo1 });
      return;
    }
    if (fault.kind !== '#VC') return;
    this.events.push({ kind: '#VC', gpa, errorCode: fault.errorCode });
    // Linux has no #VC handler for a page that is not validated: it is fatal (vc_handle_exitcode
    // returns ES_UNSUPPORTED → sev_es_terminate with the general reason).
    if (this.vcHandler === 'linux' && fault.errorCode === VC_PAGE_NOT_VALIDATED)
      this.terminate(TermReason.GENERAL);
  }
}
