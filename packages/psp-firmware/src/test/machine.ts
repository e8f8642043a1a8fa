import { HostRmp, RmpTable } from '@snp-ref/rmp-core';
import { encodeReportRequest, MsgType, sealGuestMessage } from '../attestation/guestMessage.js';
import { vmpckOf } from '../firmware/secretsPage.js';
import { SnpFirmware } from '../firmware/snpFirmware.js';
import { PhysicalMemory } from '../memory/physicalMemory.js';
import { PageType } from '../pageType.js';

export const GCTX = 0x100;
export const ASID = 5;
export const POLICY = 0x3_0000n; // SMT allowed, RSVD_MBO
/** Guest pages at pfn 0x200.. map gpa 0x0..; the secrets page sits at gpa SECRETS_GPA. */
export const GUEST_BASE = 0x200;
export const SECRETS_PFN = 0x2f0;
export const REQUEST_PFN = 0x300;
export const RESPONSE_PFN = 0x301;

/** A small host (8192 pages) with its RMP, memory and firmware, before SNP_INIT. */
export function machine() {
  const rmp = RmpTable.create(8192);
  const host = new HostRmp(rmp);
  const memory = PhysicalMemory.create('test memory');
  const fw = new SnpFirmware(rmp, memory, { seed: 'test platform' });
  return { rmp, host, memory, fw };
}
export type Machine = ReturnType<typeof machine>;

/** What snp_alloc_firmware_page() does: the page becomes FIRMWARE (assigned, ASID 0, immutable). */
export function firmwarePage(m: Machine, pfn: number): void {
  m.host.makePrivate(pfn, 0, 0, true, 'kvm');
}

/** KVM's pre-LAUNCH_UPDATE step: host writes the plaintext, then rmp_make_private(immutable). */
export function preGuestPage(m: Machine, pfn: number, gpa: number, contents?: Uint8Array): void {
  if (contents !== undefined) m.memory.write(pfn, contents);
  m.host.makePrivate(pfn, gpa, ASID, true, 'kvm');
}

/** The states a test can put the platform and one guest (at GCTX) in, in launch order. */
export const STATES = [
  'UNINIT',
  'NO_GUEST',
  'INIT',
  'LAUNCH',
  'ACTIVE',
  'RUNNING',
  'DECOMMISSIONED',
] as const;
export type TestState = (typeof STATES)[number];

/** Drives a fresh machine the way Linux does (sev-dev.c, kvm/svm/sev.c) up to `state`. */
export function machineIn(state: TestState): Machine {
  const m = machine();
  const upTo = STATES.indexOf(state);
  const step = (i: number, run: () => { name: string }) => {
    if (upTo < i) return;
    const result = run();
    if (result.name !== 'SUCCESS') throw new Error(`setup step ${STATES[i]} failed: ${result.name}`);
  };
  step(1, () => m.fw.snpInit());
  step(1, () => m.fw.dfFlush());
  step(2, () => {
    firmwarePage(m, GCTX);
    firmwarePage(m, RESPONSE_PFN);
    return m.fw.gctxCreate(GCTX);
  });
  step(3, () => m.fw.launchStart(GCTX, { policy: POLICY }));
  step(4, () => m.fw.activate(GCTX, ASID));
  step(5, () => {
    preGuestPage(m, SECRETS_PFN, 0x8000);
    return m.fw.launchUpdate(GCTX, { pfn: SECRETS_PFN, pageType: PageType.SECRETS });
  });
  step(5, () => m.fw.launchFinish(GCTX));
  step(6, () => m.fw.decommission(GCTX));
  return m;
}

/** The guest's side of a report request: VMPCK0 from its secrets page, sealed into the request page. */
export function writeReportRequest(m: Machine, reportData: Uint8Array, seqno = 1n, vmpl = 0): Uint8Array {
  const vmpck0 = vmpckOf(m.memory.readPrivate(ASID, SECRETS_PFN), 0);
  const sealed = sealGuestMessage(vmpck0, {
    seqno,
    msgType: MsgType.REPORT_REQ,
    msgVersion: 1,
    vmpck: 0,
    payload: encodeReportRequest({ reportData, vmpl }),
  });
  m.memory.write(REQUEST_PFN, sealed);
  return vmpck0;
}

/** Everything a command could change: RMP entries, guest status and digest, platform status. */
export function observable(m: Machine) {
  return JSON.stringify(
    {
      rmp: [...m.rmp.entries()],
      guest: m.fw.guestStatus(GCTX),
      digest: m.fw.launchDigest(GCTX),
      platform: m.fw.platformStatus(),
      response: m.memory.read(RESPONSE_PFN).toString('hex'),
    },
    (_, v) => (typeof v === 'bigint' ? v.toString() : v),
  );
}
