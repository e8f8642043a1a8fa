// A check's result: its id from a fixed vocabulary, pass or fail, and why.

/** The fixed vocabulary of check ids, in the order the checks are made. */
export const CHECK_IDS = [
  'report.version',
  'report.reserved',
  'signature',
  'signing-key',
  'chain.ark',
  'chain.ask',
  'chain.vek',
  'cert.validity',
  'tcb.reported',
  'chip-id',
  'measurement',
  'report-data',
  'host-data',
  'id-key-digest',
  'author-key-digest',
  'policy',
  'platform-info',
  'min-tcb',
  'min-launch-tcb',
  'vmpl',
] as const;
/** One of {@link CHECK_IDS}. */
export type CheckId = (typeof CHECK_IDS)[number];

/**
 * One check. `skipped` marks a check that was not made: with `ok: true` when it does not apply or
 * the caller waived it (a VLEK has no chip id; time not checked), with `ok: false` when an input it
 * needs is missing (no certificate, no chain): what was not checked is never called good.
 */
export interface Check {
  readonly id: CheckId;
  readonly ok: boolean;
  readonly skipped?: true;
  readonly expected?: string;
  readonly actual?: string;
  readonly why: string;
}

/** A check that could not be made for want of an input: never called good. */
export const notMade = (id: CheckId, why: string): Check => ({
  id,
  ok: false,
  skipped: true,
  why: `not checked: ${why}`,
});

/** A check that does not apply to this report, or that the caller waived. */
export const notApplicable = (id: CheckId, why: string): Check => ({ id, ok: true, skipped: true, why });
