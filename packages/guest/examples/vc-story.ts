// The review's guest-visible hazard: the hypervisor may RMPUPDATE a page at any time, which clears
// Validated, and the guest's next private access to it raises #VC.
import {
  changePageState,
  GuestVcpu,
  RmpPscHypervisor,
  requestReport,
  verifyAttestation,
} from '@snp-ref/guest';
import { PageType, PhysicalMemory, SnpFirmware } from '@snp-ref/psp-firmware';
import { HostRmp, RmpTable } from '@snp-ref/rmp-core';

// A host and a guest launched through the firmware: one data page (gpa 0x0) and a secrets page.
const rmp = RmpTable.create(4096);
const host = new HostRmp(rmp);
const memory = PhysicalMemory.create('example');
const fw = new SnpFirmware(rmp, memory, { seed: 'example platform' });
const [gctx, request, response, asid] = [0xf00, 0xf01, 0xf02, 1];
fw.snpInit();
fw.dfFlush();
for (const pfn of [gctx, response]) host.makePrivate(pfn, 0, 0, true, 'kvm');
fw.gctxCreate(gctx);
fw.launchStart(gctx, { policy: 0x3_0000n });
fw.activate(gctx, asid);
memory.write(0x100, new TextEncoder().encode('launched data'));
for (const [pfn, gpa, pageType] of [
  [0x100, 0x0, PageType.NORMAL],
  [0x101, 0x1000, PageType.SECRETS],
] as const) {
  host.makePrivate(pfn, gpa, asid, true, 'kvm');
  fw.launchUpdate(gctx, { pfn, pageType });
}
fw.launchFinish(gctx);
const npt = { translate: (gpa: number) => ({ 0: 0x100, 4096: 0x101, 8192: 0x102 })[gpa - (gpa % 4096)] };
const text = (o: ReturnType<GuestVcpu['read']>) =>
  o.kind === 'data' ? new TextDecoder().decode(o.bytes) : o.kind;

// 1. After launch the page is validated: the guest reads its data.
const vcpu = new GuestVcpu(rmp, memory, npt, { asid, vmpl: 0 }, { vcHandler: 'none' });
console.log('read after launch:', text(vcpu.read(0x0, 13)));

// 2. The hypervisor re-assigns the page to the same guest and gpa: RMPUPDATE clears Validated.
host.makePrivate(0x100, 0x0, asid, false, 'hv');
console.log('read after RMPUPDATE:', text(vcpu.read(0x0, 13)), vcpu.events.at(-1));
console.log('PVALIDATE:', vcpu.pvalidate(0x0, true));
console.log('read after PVALIDATE:', text(vcpu.read(0x0, 13)));

// 3. A Linux guest has no handler for that #VC: it asks the hypervisor to terminate it.
host.makePrivate(0x100, 0x0, asid, false, 'hv');
const linux = new GuestVcpu(rmp, memory, npt, { asid, vmpl: 0 });
console.log('Linux guest read:', text(linux.read(0x0, 13)), linux.events.at(-1));

// 4. Page-state changes over the GHCB MSR protocol: gpa 0x2000 shared → private → shared.
const hv = new RmpPscHypervisor(host, npt, asid);
for (const to of ['private', 'shared'] as const) {
  const outcome = changePageState(vcpu, hv, 0x2000, to);
  console.log(
    `PSC to ${to}:`,
    outcome.ok ? `request 0x${outcome.request.toString(16)}` : outcome,
    rmp.read(0x102).assigned,
  );
}

// 5. Attestation: a report through SNP_GUEST_REQUEST, checked against the VCEK and expectations.
const channel = {
  exchange(bytes: Uint8Array) {
    memory.write(request, bytes);
    const status = fw.guestRequest(gctx, request, response);
    return status.name === 'SUCCESS' ? { response: memory.read(response) } : { fwError: status.name };
  },
};
const reportData = new Uint8Array(64).fill(7);
const report = requestReport(vcpu, channel, 0x1000, reportData);
if (report.ok) {
  const verdict = verifyAttestation(report.report, {
    vcekPublicKey: fw.vcek.publicKey,
    reportData,
    measurement: fw.launchDigest(gctx),
  });
  console.log('attestation:', verdict.ok, verdict.mismatches);
}
