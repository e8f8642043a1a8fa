import {
  C_BIT,
  type FwStatus,
  fwStatus,
  runCommand,
  type SevStatusName,
  SnpAddr,
  SnpCommand,
  SnpLaunchUpdate,
  sevStatusName,
} from '@snp-ref/psp-firmware';
import type { Machine } from '../machine.js';

/** A system physical address as KVM hands it to the firmware: the C-bit set (__sme_set). */
export const sysPaddr = (pfn: number) => (BigInt(pfn) << 12n) | (1n << BigInt(C_BIT));
export const paddr = (pfn: number) => BigInt(pfn) << 12n;

/**
 * SNP_LAUNCH_UPDATE of one 4 KiB page through the firmware mailbox, with the command buffer KVM
 * builds (sev_gmem_post_populate, arch/x86/kvm/svm/sev.c): page_size 0, no IMI, no VMPL permissions.
 * An injected `psp.launch_update` fault fails it before the firmware runs.
 */
export function firmwareLaunchUpdate(
  machine: Machine,
  gctx: number,
  pfn: number,
  pageType: number,
): FwStatus {
  const injected = machine.faults.next('psp.launch_update');
  if (injected !== undefined) return fwStatus(sevStatusName(injected) as SevStatusName); // validated by FaultInjector.inject
  const buffer = SnpLaunchUpdate.encode({
    gctxPaddr: paddr(gctx),
    flags: pageType << 1,
    rsvd2: 0,
    address: sysPaddr(pfn),
    perms: 0,
    rsvd4: 0,
  });
  return runCommand(machine.firmware, SnpCommand.SNP_LAUNCH_UPDATE, buffer);
}

/** SNP_PAGE_RECLAIM of a 4 KiB page (snp_page_reclaim in arch/x86/kvm/svm/sev.c). */
export function firmwareReclaim(machine: Machine, pfn: number): FwStatus {
  return runCommand(machine.firmware, SnpCommand.SNP_PAGE_RECLAIM, SnpAddr.encode({ address: paddr(pfn) }));
}
