import { measurePlan } from '@snp-ref/psp-firmware';
import { describe, expect, it } from 'vitest';
import { requestReport, verifyAttestation } from './attestation.js';
import { launchedGuest, POLICY, SECRETS_GPA } from './test/launchedGuest.js';

const reportData = new Uint8Array(64).fill(0x5a);
/** The launch of launchedGuest() as a plan: four seeded NORMAL pages, then the secrets page. */
const expectedDigest = Buffer.from(
  measurePlan({
    name: 'guest',
    seed: 'guest',
    ops: [
      { op: 'normal', gpa: 0, pages: 4 },
      { op: 'secrets', gpa: SECRETS_GPA, pages: 1 },
    ],
  }).digest,
  'hex',
);

function attested() {
  const guest = launchedGuest();
  const outcome = requestReport(guest.vcpu, guest.channel, SECRETS_GPA, reportData);
  if (!outcome.ok) throw new Error(outcome.reason);
  return { ...guest, report: outcome.report };
}

describe('attestation from the guest', () => {
  it('gets a report whose signature, report data, policy and measurement (= measurePlan of the launch) all check', () => {
    const { report, fw } = attested();
    const verdict = verifyAttestation(report, {
      vcekPublicKey: fw.vcek.publicKey,
      measurement: expectedDigest,
      reportData,
      policy: POLICY,
    });
    expect(verdict.mismatches).toEqual([]);
    expect(verdict.ok).toBe(true);
  });

  it('names the field that differs: a tampered report, a wrong measurement, wrong report data', () => {
    const { report, fw } = attested();
    const expectation = { vcekPublicKey: fw.vcek.publicKey, measurement: expectedDigest, reportData };
    const tampered = Uint8Array.from(report);
    tampered[0x20] = (tampered[0x20] ?? 0) ^ 1; // IMAGE_ID, inside the signed part
    expect(verifyAttestation(tampered, expectation).mismatches.map((m) => m.field)).toEqual(['signature']);
    const otherLaunch = new Uint8Array(48).fill(1);
    expect(verifyAttestation(report, { ...expectation, measurement: otherLaunch }).mismatches).toEqual([
      { field: 'measurement', expected: '01'.repeat(48), actual: expectedDigest.toString('hex') },
    ]);
    expect(
      verifyAttestation(report, { ...expectation, reportData: new Uint8Array(64) }).mismatches.map(
        (m) => m.field,
      ),
    ).toEqual(['reportData']);
  });

  it('checks the response sequence number: a replayed request is refused by the firmware', () => {
    const { vcpu, channel } = attested();
    expect(requestReport(vcpu, channel, SECRETS_GPA, reportData, 1n)).toEqual({
      ok: false,
      reason: 'SNP_GUEST_REQUEST failed: AEAD_OFLOW',
    });
    expect(requestReport(vcpu, channel, SECRETS_GPA, reportData, 3n)).toMatchObject({ ok: true });
  });
});
