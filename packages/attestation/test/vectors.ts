// For the tests: the real reports beside the repository (their README says where each comes from).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The folder of real reports, next to the repository's checkout. */
export const REPORTS = resolve(import.meta.dirname, '../../../../shared/vectors/attestation-reports');

export const vectorPath = (file: string) => join(REPORTS, file);
export const readVector = (file: string): Uint8Array => readFileSync(vectorPath(file));

export interface ReportVector {
  readonly report: string;
  /** The VCEK or VLEK file; a PEM bundle may carry the ASK and ARK too. */
  readonly vek: string;
  readonly signer: 'VCEK' | 'VLEK';
  readonly chain: string;
  readonly version: number;
  readonly product: 'Milan' | 'Genoa' | 'Turin';
  /** A date inside every certificate's validity. */
  readonly validAt: string;
}

const MILAN = 'go-sev-guest/ask_ark_milan.pem';
const GENOA = 'go-sev-guest/ask_ark_genoa.pem';

/** Every report with the certificates that sign it (README of the folder: sections 1 to 4). */
export const REPORT_VECTORS: readonly ReportVector[] = [
  {
    report: 'go-sev-guest/attestation.bin',
    vek: 'go-sev-guest/vcek.testcer.der',
    signer: 'VCEK',
    chain: MILAN,
    version: 2,
    product: 'Milan',
    validAt: '2023-01-01',
  },
  {
    report: 'virtee-sev/report_milan.hex',
    vek: 'virtee-sev/vcek_milan.der',
    signer: 'VCEK',
    chain: MILAN,
    version: 2,
    product: 'Milan',
    validAt: '2024-01-01',
  },
  {
    report: 'trustee/snp-test-report.bin',
    vek: 'trustee/snp-test-vcek.der',
    signer: 'VCEK',
    chain: MILAN,
    version: 2,
    product: 'Milan',
    validAt: '2024-06-01',
  },
  {
    report: 'trustee/snp-test-vlek-report.bin',
    vek: 'trustee/snp-test-vlek.der',
    signer: 'VLEK',
    chain: 'go-sev-guest/ask_ark_milan_vlek.pem',
    version: 3,
    product: 'Milan',
    validAt: '2025-06-01',
  },
  {
    report: 'trustee/az-snp-vtpm-hcl-report.bin',
    vek: 'trustee/az-snp-vtpm-vcek.pem',
    signer: 'VCEK',
    chain: MILAN,
    version: 2,
    product: 'Milan',
    validAt: '2024-01-01',
  },
  {
    report: 'trustee/az-snp-vtpm-evidence-genoa.hcl-report.bin',
    vek: 'trustee/az-snp-vtpm-vcek-genoa.pem',
    signer: 'VCEK',
    chain: GENOA,
    version: 3,
    product: 'Genoa',
    validAt: '2025-06-01',
  },
  {
    report: 'oak/milan_oc_release.report.bin',
    vek: 'oak/milan_oc_release.vcek.der',
    signer: 'VCEK',
    chain: MILAN,
    version: 3,
    product: 'Milan',
    validAt: '2025-08-01',
  },
  {
    report: 'oak/genoa_oc.report.bin',
    vek: 'oak/genoa_oc.vcek.der',
    signer: 'VCEK',
    chain: GENOA,
    version: 5,
    product: 'Genoa',
    validAt: '2025-09-01',
  },
  {
    report: 'oak/turin_oc.report.bin',
    vek: 'oak/turin_oc.vcek.der',
    signer: 'VCEK',
    chain: 'go-sev-guest/ask_ark_turin_vcek.pem',
    version: 5,
    product: 'Turin',
    validAt: '2025-08-01',
  },
];
