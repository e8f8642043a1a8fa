import { PageType, PhysicalMemory, SeededPages, SnpFirmware } from '@snp-ref/psp-firmware';
import { HostRmp, RmpTable, TraceRing } from '@snp-ref/rmp-core';
import type { GuestRequestChannel } from '../attestation.js';
import { GuestVcpu, type GuestVcpuOptions } from '../vcpu.js';

export const ASID = 1;
export const POLICY = 0x3_0000n;
export const SECRETS_GPA = 0x8000;
/** Guest pages gpa 0x0..0x3fff live at pfn 0x100..0x103; the secrets page at 0x108; 0x10_0000 is shared. */
export const GUEST_PAGES: readonly (readonly [gpa: number, pfn: number])[] = [
  [0x0, 0x100],
  [0x1000, 0x101],
  [0x2000, 0x102],
  [0x3000, 0x103],
  [SECRETS_GPA, 0x108],
  [0x10_0000, 0x110],
];

/**
 * A guest launched directly through the firmware (what kvm-svm does, without KVM): four NORMAL
 * pages with seeded contents and a secrets page, finished, with a vCPU, its NPT, a trace ring and
 * a guest-request channel to the firmware.
 */
export function launchedGuest(options: GuestVcpuOptions = {}) {
  const rmp = RmpTable.create(4096);
  const host = new HostRmp(rmp);
  const ring = new TraceRing();
  rmp.trace.subscribe(ring.sink);
  const memory = PhysicalMemory.create('guest test');
  const fw = new SnpFirmware(rmp, memory, { seed: 'guest test platform' });
  const [gctx, requestPfn, responsePfn] = [0xf00, 0xf01, 0xf02];
  const must = (status: { name: string }) => {
    if (status.name !== 'SUCCESS') throw new Error(`launch failed: ${status.name}`);
  };
  must(fw.snpInit());
  must(fw.dfFlush());
  host.makePrivate(gctx, 0, 0, true, 'kvm');
  host.makePrivate(responsePfn, 0, 0, true, 'kvm');
  must(fw.gctxCreate(gctx));
  must(fw.launchStart(gctx, { policy: POLICY }));
  must(fw.activate(gctx, ASID));
  const contents = new SeededPages('guest');
  const plaintext = new Map<number, Uint8Array>();
  for (const [gpa, pfn] of GUEST_PAGES.slice(0, 5)) {
    const type = gpa === SECRETS_GPA ? PageType.SECRETS : PageType.NORMAL;
    if (type === PageType.NORMAL) {
      const page = contents.next();
      plaintext.set(gpa, Uint8Array.from(page));
      memory.write(pfn, page);
    }
    host.makePrivate(pfn, gpa, ASID, true, 'kvm');
    must(fw.launchUpdate(gctx, { pfn, pageType: type }));
  }
  must(fw.launchFinish(gctx));
  const npt = new Map(GUEST_PAGES.map(([gpa, pfn]) => [gpa, pfn]));
  const nestedPageTable = { translate: (gpa: number) => npt.get(gpa - (gpa % 4096)) };
  const vcpu = new GuestVcpu(rmp, memory, nestedPageTable, { asid: ASID, vmpl: 0 }, options);
  const channel: GuestRequestChannel = {
    exchange(request) {
      memory.write(requestPfn, request);
      const status = fw.guestRequest(gctx, requestPfn, responsePfn);
      return status.name === 'SUCCESS' ? { response: memory.read(responsePfn) } : { fwError: status.name };
    },
  };
  return { rmp, host, ring, memory, fw, gctx, vcpu, channel, npt: nestedPageTable, plaintext };
}
