/** Codes of the errors a caller of this package can cause with bad input (not firmware statuses). */
export type FirmwareInputErrorCode =
  | 'PLAN_INVALID'
  | 'REPORT_FORMAT'
  | 'CERTIFICATE_FORMAT'
  | 'KEY_FORMAT'
  | 'BAD_LENGTH'
  | 'VMSA_INVALID'
  | 'OVMF_INVALID'
  | 'LAUNCH_OPTIONS';

/** Bad input to the package's API: names what was wrong and where. Firmware failures are statuses, not errors. */
export class FirmwareInputError extends Error {
  override readonly name: string = 'FirmwareInputError';
  constructor(
    readonly code: FirmwareInputErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A launch plan that does not follow the plan format; `path` names the offending field, e.g. `ops[3].gpa`. */
export class PlanError extends FirmwareInputError {
  override readonly name = 'PlanError';
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super('PLAN_INVALID', `${path}: ${problem}`);
  }
}

/** A byte buffer of the wrong size for the structure it should hold. */
export class LengthError extends FirmwareInputError {
  override readonly name = 'LengthError';
  constructor(what: string, expected: string, actual: number) {
    super('BAD_LENGTH', `${what} must be ${expected} bytes, got ${actual}`);
  }
}

/** A VMSA field that does not exist or a value that does not fit it. */
export class VmsaError extends FirmwareInputError {
  override readonly name = 'VmsaError';
  constructor(message: string) {
    super('VMSA_INVALID', message);
  }
}

/** An OVMF image that cannot be measured: `where` names the part (footer table, metadata, section k). */
export class OvmfError extends FirmwareInputError {
  override readonly name = 'OvmfError';
  constructor(
    readonly where: string,
    readonly problem: string,
  ) {
    super('OVMF_INVALID', `${where}: ${problem}`);
  }
}

/** Launch options that do not make a launch (no vCPUs, an AP without a reset block, a kernel without a hashes section). */
export class LaunchOptionsError extends FirmwareInputError {
  override readonly name = 'LaunchOptionsError';
  constructor(message: string) {
    super('LAUNCH_OPTIONS', message);
  }
}
