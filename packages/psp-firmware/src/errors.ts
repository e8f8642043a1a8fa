/** Codes of the errors a caller of this package can cause with bad input (not firmware statuses). */
export type FirmwareInputErrorCode = 'PLAN_INVALID' | 'REPORT_FORMAT' | 'BAD_LENGTH';

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
