// An SNP launch through the firmware, then an attestation report the guest checks: the firmware's
// measurement equals the digest computed from the launch plan without a VM.
import {
  decodeReportResponse,
  encodeReportRequest,
  MsgType,
  measurePlan,
  openGuestMessage,
  PageType,
  PhysicalMemory,
  SeededPages,
  SnpFirmware,
  sealGuestMessage,
  verifyReport,
  vmpckOf,
} from '@snp-ref/psp-firmware';
import { HostRmp, RmpTable } from '@snp-ref/rmp-core';

const rmp = RmpTable.create(2 ** 18); // a 1 GiB host
const host = new HostRmp(rmp);
const memory = PhysicalMemory.create('example host');
const fw = new SnpFirmware(rmp, memory, { seed: 'example platform' });
const show = (command: string, status: { name: string; code: number }) =>
  console.log(`${command.padEnd(22)} ${status.name} (0x${status.code.toString(16)})`);

show('SNP_INIT', fw.snpInit());
show('SNP_DF_FLUSH', fw.dfFlush());
const [gctx, response, asid] = [0x100, 0x101, 1];
for (const pfn of [gctx, response]) host.makePrivate(pfn, 0, 0, true, 'kvm'); // firmware pages
show('SNP_GCTX_CREATE', fw.gctxCreate(gctx));
show('SNP_LAUNCH_START', fw.launchStart(gctx, { policy: 0x3_0000n }));
show('SNP_ACTIVATE', fw.activate(gctx, asid));

// KVM's LAUNCH_UPDATE loop: host writes the page, makes it private and immutable, firmware measures it.
const plan = {
  name: 'example',
  seed: 'example',
  ops: [
    { op: 'normal', gpa: 0x0, pages: 2 },
    { op: 'secrets', gpa: 0x2000, pages: 1 },
  ],
} as const;
const contents = new SeededPages(plan.seed);
const secrets = 0x1002;
for (const [pfn, gpa, type] of [
  [0x1000, 0x0, PageType.NORMAL],
  [0x1001, 0x1000, PageType.NORMAL],
  [secrets, 0x2000, PageType.SECRETS],
] as const) {
  if (type === PageType.NORMAL) memory.write(pfn, contents.next());
  host.makePrivate(pfn, gpa, asid, true, 'kvm');
  show(`SNP_LAUNCH_UPDATE ${gpa.toString(16)}`, fw.launchUpdate(gctx, { pfn, pageType: type }));
}
show('SNP_LAUNCH_UPDATE 3000', fw.launchUpdate(gctx, { pfn: 0x1003, pageType: PageType.NORMAL })); // never made private
show('SNP_LAUNCH_FINISH', fw.launchFinish(gctx));
console.log(
  'host reads a guest page as ciphertext:',
  !memory.read(0x1000).equals(new SeededPages(plan.seed).next()),
);

// The guest: VMPCK0 from its secrets page, a sealed MSG_REPORT_REQ, the firmware's sealed answer.
const vmpck0 = vmpckOf(memory.readPrivate(asid, secrets), 0);
const reportData = new Uint8Array(64).fill(0xab);
const request = encodeReportRequest({ reportData, vmpl: 0 });
memory.write(
  0x2000,
  sealGuestMessage(vmpck0, {
    seqno: 1n,
    msgType: MsgType.REPORT_REQ,
    msgVersion: 1,
    vmpck: 0,
    payload: request,
  }),
);
show('SNP_GUEST_REQUEST', fw.guestRequest(gctx, 0x2000, response));
const answer = openGuestMessage(vmpck0, memory.read(response));
const { report } = decodeReportResponse(answer?.payload ?? new Uint8Array());
const verified = verifyReport(report, fw.vcek.publicKey);
const measurement = Buffer.from(verified.report.measurement).toString('hex');
console.log('report signature valid:', verified.valid);
console.log('MEASUREMENT:', measurement);
console.log('equals measurePlan:', measurement === measurePlan(plan).digest);
