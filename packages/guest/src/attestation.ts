import {
  type AttestationReport,
  bytesToHex,
  decodeReportResponse,
  encodeReportRequest,
  MsgType,
  openGuestMessage,
  SecretsPage,
  sealGuestMessage,
  verifyReport,
} from '@snp-ref/psp-firmware';
import type { GuestVcpu } from './vcpu.js';

/**
 * The path from the guest to the firmware for SNP_GUEST_REQUEST (KVM's guest-request exit copies
 * the request page, runs the command and copies the response back): sealed request in, sealed
 * response out, or the firmware status when the command itself failed.
 */
export interface GuestRequestChannel {
  /**
   * Sends one sealed guest request page to the firmware.
   * @param request - The sealed MSG_REPORT_REQ (or other) guest message.
   * @returns The sealed response, or the firmware's status name when the command failed.
   */
  exchange(request: Uint8Array): { readonly response: Uint8Array } | { readonly fwError: string };
}

/** The decrypted attestation report, or why the guest could not get one. */
export type ReportOutcome =
  | { readonly ok: true; readonly report: Uint8Array }
  | { readonly ok: false; readonly reason: string };

/**
 * Requests an attestation report as a Linux guest does (sev-guest driver): VMPCK0 from the secrets
 * page, MSG_REPORT_REQ sealed with the next sequence number (the OS-area counter + 1), the response
 * checked for sequence number and type, then opened.
 */
export function requestReport(
  vcpu: GuestVcpu,
  channel: GuestRequestChannel,
  secretsGpa: number,
  reportData: Uint8Array,
  seqno = 1n,
): ReportOutcome {
  const secrets = vcpu.read(secretsGpa + SecretsPage.VMPCK0, SecretsPage.VMPCK_BYTES);
  if (secrets.kind !== 'data')
    return { ok: false, reason: `reading VMPCK0 from the secrets page: ${secrets.kind}` };
  const key = secrets.bytes;
  const payload = encodeReportRequest({ reportData, vmpl: vcpu.context.vmpl });
  const sealed = sealGuestMessage(key, {
    seqno,
    msgType: MsgType.REPORT_REQ,
    msgVersion: 1,
    vmpck: 0,
    payload,
  });
  const answer = channel.exchange(sealed);
  if ('fwError' in answer) return { ok: false, reason: `SNP_GUEST_REQUEST failed: ${answer.fwError}` };
  const message = openGuestMessage(key, answer.response);
  if (message === undefined) return { ok: false, reason: 'the response does not authenticate under VMPCK0' };
  if (message.seqno !== seqno + 1n || message.msgType !== MsgType.REPORT_RSP) {
    return { ok: false, reason: `unexpected response: seqno ${message.seqno}, type ${message.msgType}` };
  }
  const { status, report } = decodeReportResponse(message.payload);
  return status === 0
    ? { ok: true, report }
    : { ok: false, reason: `MSG_REPORT_RSP status 0x${status.toString(16)}` };
}

/** What the guest owner expects of a report. */
export interface AttestationExpectation {
  readonly vcekPublicKey: Uint8Array;
  /** Expected launch digest (e.g. from measurePlan). */
  readonly measurement?: Uint8Array | undefined;
  readonly reportData?: Uint8Array | undefined;
  readonly policy?: bigint | undefined;
}

/** A field of a report that differs from what the guest expected, both as hex. */
export interface FieldMismatch {
  readonly field: 'signature' | 'measurement' | 'reportData' | 'policy';
  readonly expected: string;
  readonly actual: string;
}

/**
 * The outcome of checking a report against expected values: ok when the signature holds and every field
 * matches.
 */
export interface AttestationVerdict {
  readonly ok: boolean;
  readonly mismatches: readonly FieldMismatch[];
  readonly report: AttestationReport;
}

/** Checks the report's signature and compares each expected field, naming every one that differs. */
export function verifyAttestation(
  reportBytes: Uint8Array,
  expected: AttestationExpectation,
): AttestationVerdict {
  const verified = verifyReport(reportBytes, expected.vcekPublicKey);
  const { report } = verified;
  const mismatches: FieldMismatch[] = [];
  if (!verified.valid)
    mismatches.push({ field: 'signature', expected: 'valid VCEK signature', actual: verified.reason });
  const compare = (field: 'measurement' | 'reportData', want: Uint8Array | undefined, got: Uint8Array) => {
    if (want !== undefined && bytesToHex(want) !== bytesToHex(got))
      mismatches.push({ field, expected: bytesToHex(want), actual: bytesToHex(got) });
  };
  compare('measurement', expected.measurement, report.measurement);
  compare('reportData', expected.reportData, report.reportData);
  if (expected.policy !== undefined && expected.policy !== report.policy) {
    mismatches.push({
      field: 'policy',
      expected: `0x${expected.policy.toString(16)}`,
      actual: `0x${report.policy.toString(16)}`,
    });
  }
  return { ok: mismatches.length === 0, mismatches, report };
}
