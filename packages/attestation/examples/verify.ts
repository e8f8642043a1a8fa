// Decode a report by its version, then verify it: every check with its reason. This one is made
// here, unsigned and without certificates, so the checks that need AMD's chain say they were not made.
import {
  decodeAttestationReport,
  encodeAttestationReport,
  type ReportFields,
  shownFields,
  verifyAttestation,
} from '@snp-ref/attestation';

const fields: ReportFields = {
  version: 5,
  guestSvn: 0,
  policy: 0x3_0000n,
  familyId: new Uint8Array(16),
  imageId: new Uint8Array(16),
  vmpl: 0,
  signatureAlgo: 1,
  currentTcb: 0x4700_0000_0200_0100n,
  platformInfo: 1n,
  flags: 0,
  reportData: new Uint8Array(64),
  measurement: new Uint8Array(48).fill(0xab),
  hostData: new Uint8Array(32),
  idKeyDigest: new Uint8Array(48),
  authorKeyDigest: new Uint8Array(48),
  reportId: new Uint8Array(32),
  reportIdMa: new Uint8Array(32).fill(0xff),
  reportedTcb: 0x4700_0000_0200_0100n,
  cpuidFamId: 0x1a,
  cpuidModId: 0x02,
  cpuidStep: 1,
  chipId: new Uint8Array(64),
  committedTcb: 0x4700_0000_0200_0100n,
  currentBuild: 61,
  currentMinor: 55,
  currentMajor: 1,
  committedBuild: 61,
  committedMinor: 55,
  committedMajor: 1,
  launchTcb: 0x4700_0000_0200_0100n,
  launchMitVector: 0n,
  currentMitVector: 0n,
};
const bytes = encodeAttestationReport(fields, { r: new Uint8Array(48), s: new Uint8Array(48) });
const report = decodeAttestationReport(bytes);

for (const f of shownFields(report, 'Turin').filter((f) =>
  ['REPORTED_TCB', 'CPUID_FAM_ID', 'FLAGS'].includes(f.name),
))
  console.log(f.offset, f.name, f.value, f.meaning ?? '');

const verdict = verifyAttestation(report, { expected: { measurement: new Uint8Array(48), vmpl: 0 } });
console.log('ok:', verdict.ok);
for (const check of verdict.checks) console.log(check.ok ? 'pass' : 'FAIL', check.id.padEnd(15), check.why);
