import { FirmwareInputError } from '@snp-ref/psp-firmware';

/** Bytes that are not an attestation report (wrong size, not hex, a wrapper cut short). */
export class ReportFormatError extends FirmwareInputError {
  override readonly name = 'ReportFormatError';
  constructor(message: string) {
    super('REPORT_FORMAT', message);
  }
}

/** Bytes that are not a certificate, or not one of AMD's: `where` names the file and the certificate. */
export class CertificateError extends FirmwareInputError {
  override readonly name = 'CertificateError';
  constructor(
    readonly where: string,
    readonly problem: string,
  ) {
    super('CERTIFICATE_FORMAT', `${where}: ${problem}`);
  }
}

/** Bytes that are not a private key snp-ref can sign an ID block with: `where` names the file. */
export class KeyFormatError extends FirmwareInputError {
  override readonly name = 'KeyFormatError';
  constructor(
    readonly where: string,
    readonly problem: string,
  ) {
    super('KEY_FORMAT', `${where}: ${problem}`);
  }
}
