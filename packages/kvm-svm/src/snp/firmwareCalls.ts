import { type FwStatus, fwStatusOfCode, runCommand, SnpAddr, SnpCommand } from '@snp-ref/psp-firmware';
import { expectDefined, hex } from '@snp-ref/rmp-core';
import type { Machine } from '../machine.js';

export const paddr = (pfn: number) => BigInt(pfn) << 12n;

/**
 * SNP_LAUNCH_UPDATE of one 4 KiB page with what KVM puts in the command (sev_gmem_post_populate,
 * arch/x86/kvm/svm/sev.c): page_size 0, no IMI, no VMPL permissions. It calls the firmware's typed
 * command rather than encoding sev_data_snp_launch_update for the mailbox: this runs once per guest
 * page, and the byte-exact buffer is covered by psp-firmware's mailbox tests. An injected
 * `psp.launch_update` fault fails it before the firmware runs.
 */
export function firmwareLaunchUpdate(
  machine: Machine,
  gctx: number,
  pfn: number,
  pageType: number,
): FwStatus {
  const injected = machine.faults.next('psp.launch_update');
  // FaultInjector.inject takes only the codes the ABI defines.
  if (injected !== undefined) return expectDefined(fwStatusOfCode(injected), `status ${hex(injected)}`);
  return machine.firmware.launchUpdate(gctx, { pfn, pageType });
}

/** SNP_PAGE_RECLAIM of a 4 KiB page (snp_page_reclaim in arch/x86/kvm/svm/sev.c). */
export function firmwareReclaim(machine: Machine, pfn: number): FwStatus {
  return runCommand(machine.firmware, SnpCommand.SNP_PAGE_RECLAIM, SnpAddr.encode({ address: paddr(pfn) }));
}
