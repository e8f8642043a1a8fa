// Where AMD's Key Distribution Service serves a product's certificate chain and a chip's VCEK
// (AMD 57230, "VCEK Certificate and KDS Interface Specification"; the same URLs as
// virtee/snpguest src/fetch.rs). Building the URL only: this package does no network I/O.
import { ReportFormatError } from './errors.js';
import type { DecodedReport } from './layout.js';
import type { Product } from './product.js';
import { decodeTcb } from './tcb.js';

/** AMD's Key Distribution Service, which serves the certificate chains and each chip's VCEK. */
export const KDS_BASE_URL = 'https://kdsintf.amd.com';

/** The ASK + ARK (VCEK) or ASVK + ARK (VLEK) bundle of a product, PEM: `/{vcek|vlek}/v1/{product}/cert_chain`. */
export const kdsCertChainUrl = (product: Product, key: 'VCEK' | 'VLEK' = 'VCEK'): string =>
  `${KDS_BASE_URL}/${key.toLowerCase()}/v1/${product}/cert_chain`;

const spl = (n: number | undefined) => String(n ?? 0).padStart(2, '0');

/**
 * The VCEK of the chip and TCB that signed `report`, DER: `/vcek/v1/{product}/{hwid}?blSPL=…`,
 * hwid the CHIP_ID in lowercase hex (its first 8 bytes on Turin), the SPLs the parts of
 * REPORTED_TCB, two digits, `fmcSPL` first on Turin. A report whose CHIP_ID is masked (zero)
 * names no chip: a ReportFormatError.
 */
export function kdsVcekUrl(report: DecodedReport, product: Product): string {
  const chipId = report.fields.chipId;
  if (chipId.every((b) => b === 0))
    throw new ReportFormatError(
      'CHIP_ID (0x1A0) is zero (MASK_CHIP_KEY): the report names no chip, so KDS cannot serve its VCEK',
    );
  const hwid = Buffer.from(product === 'Turin' ? chipId.subarray(0, 8) : chipId).toString('hex');
  const tcb = decodeTcb(report.fields.reportedTcb, product);
  const fmc = product === 'Turin' ? `fmcSPL=${spl(tcb.fmc)}&` : '';
  return `${KDS_BASE_URL}/vcek/v1/${product}/${hwid}?${fmc}blSPL=${spl(tcb.bootloader)}&teeSPL=${spl(tcb.tee)}&snpSPL=${spl(tcb.snp)}&ucodeSPL=${spl(tcb.microcode)}`;
}
