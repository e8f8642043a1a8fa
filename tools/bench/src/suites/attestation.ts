import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  decodeAttestationReport,
  parseCertificates,
  readReportInput,
  verifyAttestation,
} from '@snp-ref/attestation';
import type { Figure } from '../figure.js';
import { opensslEcdsaP384Verify } from '../references.js';
import { vectorsDir } from '../vectors.js';

/** Each rate is the best of ROUNDS rounds of SECONDS, the two taken in turn, so both see the same load. */
const SECONDS = 1;
const ROUNDS = 3;

/**
 * `report verify` in process on a real Genoa v5 report with its VCEK, ASK and ARK parsed once: every
 * check of the issue, from the report's bytes each time, against OpenSSL's ECDSA P-384 verify rate.
 */
export async function attestationFigures(): Promise<Figure[]> {
  const reports = vectorsDir('attestation-reports', 'attestation figure');
  if (reports === undefined) return [];
  const read = (file: string) => readFileSync(join(reports, file));
  const bytes = readReportInput(read('oak/genoa_oc.report.bin')).report;
  const [vek] = parseCertificates(read('oak/genoa_oc.vcek.der'), 'vcek');
  const chain = parseCertificates(read('go-sev-guest/ask_ark_genoa.pem'), 'chain');
  const options = { vek, signer: 'VCEK', chain, at: new Date('2026-01-01') } as const;
  if (!verifyAttestation(decodeAttestationReport(bytes), options).ok)
    throw new Error('the bench report does not verify');
  const verifies = () => {
    let count = 0;
    const start = process.hrtime.bigint();
    const end = start + BigInt(SECONDS * 1e9);
    let now = start;
    for (; now < end; count++) {
      verifyAttestation(decodeAttestationReport(bytes), options);
      now = process.hrtime.bigint();
    }
    return count / (Number(now - start) / 1e9);
  };
  let [value, reference] = [0, 0];
  for (let round = 0; round < ROUNDS; round++) {
    reference = Math.max(reference, opensslEcdsaP384Verify(SECONDS));
    value = Math.max(value, verifies());
  }
  return [
    {
      name: 'report verify, Genoa v5 + VCEK, ASK, ARK parsed once, in process',
      value,
      unit: 'verifies/s',
      reference: { name: 'openssl speed -elapsed ecdsap384 verify', value: reference },
      target: { min: 0.8 * reference },
    },
  ];
}
