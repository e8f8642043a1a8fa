import { type HostRmp, hostRmpUpdateRetName, PAGE_SIZE, PvalidateRet, RmpUpdateRet } from '@snp-ref/rmp-core';
import {
  decodePscRequest,
  decodePscResponse,
  encodePscRequest,
  encodePscResponse,
  PSC_RESP_ERROR,
  type PscOperationName,
  TermReason,
} from './ghcb/msr.js';
import type { GuestVcpu, NestedPageTable } from './vcpu.js';

/** The hypervisor's side of the GHCB MSR protocol: a request MSR value in, a response MSR value out. */
export interface PscHypervisor {
  /**
   * Answers one GHCB MSR protocol request.
   * @param request - The MSR value the guest wrote.
   * @returns The MSR value the guest reads back.
   */
  handleMsr(request: bigint): bigint;
}

/**
 * A hypervisor that carries out page-state changes on the RMP itself, as KVM does for an SNP guest
 * (snp_begin_psc_msr / __snp_complete_one_psc in arch/x86/kvm/svm/sev.c, with the VMM flipping the
 * page): private → rmp_make_private(gpa, asid, 4K, not immutable); shared → back to
 * hypervisor-owned. Traced as kind 'rmpupdate' by 'kvm:psc'.
 */
export class RmpPscHypervisor implements PscHypervisor {
  /** Why the last request failed, for debugging (the guest only sees the error code). */
  lastFailure: string | undefined;

  constructor(
    readonly hostRmp: HostRmp,
    readonly npt: NestedPageTable,
    readonly asid: number,
  ) {}

  handleMsr(request: bigint): bigint {
    let gfn: number;
    let operation: PscOperationName;
    try {
      ({ gfn, operation } = decodePscRequest(request));
    } catch (error) {
      return this.failed(String(error));
    }
    const gpa = gfn * PAGE_SIZE;
    const pfn = this.npt.translate(gpa);
    if (pfn === undefined) return this.failed(`gpa 0x${gpa.toString(16)} is not mapped`);
    const ret =
      operation === 'private'
        ? this.hostRmp.makePrivate(pfn, gpa, this.asid, false, 'kvm:psc')
        : this.hostRmp.resetToHypervisor(pfn, 'kvm:psc');
    if (ret !== RmpUpdateRet.SUCCESS)
      return this.failed(`rmpupdate of pfn 0x${pfn.toString(16)}: ${hostRmpUpdateRetName(ret)}`);
    this.lastFailure = undefined;
    return encodePscResponse(0);
  }

  private failed(why: string): bigint {
    this.lastFailure = why;
    return encodePscResponse(PSC_RESP_ERROR);
  }
}

/**
 * A page state change done, with the MSR values exchanged, or the step (PVALIDATE or the request) that failed
 * and why.
 */
export type PscOutcome =
  | { readonly ok: true; readonly request: bigint; readonly response: bigint }
  | { readonly ok: false; readonly step: 'pvalidate' | 'psc'; readonly detail: string };

/**
 * A guest page-state change over the GHCB MSR protocol, as Linux does it (__set_pages_state,
 * arch/x86/coco/sev): to shared, rescind validation first, then ask; to private, ask, then
 * validate. A failure terminates the guest with the Linux reason (PSC or PVALIDATE).
 */
export function changePageState(
  vcpu: GuestVcpu,
  hypervisor: PscHypervisor,
  gpa: number,
  to: PscOperationName,
): PscOutcome {
  if (to === 'shared') {
    const rescinded = vcpu.pvalidate(gpa, false);
    if (
      rescinded.kind === 'ret' &&
      rescinded.ret !== PvalidateRet.SUCCESS &&
      rescinded.ret !== PvalidateRet.FAIL_NOUPDATE
    ) {
      vcpu.terminate(TermReason.LINUX_PVALIDATE);
      return { ok: false, step: 'pvalidate', detail: `PVALIDATE returned ${rescinded.ret}` };
    }
  }
  const request = encodePscRequest(gpa / PAGE_SIZE, to);
  const response = hypervisor.handleMsr(request);
  const { error } = decodePscResponse(response);
  if (error !== 0) {
    vcpu.terminate(TermReason.LINUX_PSC);
    return { ok: false, step: 'psc', detail: `PSC response error 0x${error.toString(16)}` };
  }
  if (to === 'private') {
    const validated = vcpu.pvalidate(gpa, true);
    if (validated.kind !== 'ret' || validated.ret !== PvalidateRet.SUCCESS) {
      vcpu.terminate(TermReason.LINUX_PVALIDATE);
      return {
        ok: false,
        step: 'pvalidate',
        detail: `PVALIDATE: ${validated.kind === 'ret' ? validated.ret : validated.kind}`,
      };
    }
  }
  return { ok: true, request, response };
}
