import { PAGE_SIZE } from '@snp-ref/rmp-core';
import { PlanError } from '../errors.js';
import { isContentMeasured } from '../pageType.js';
import { LaunchDigest } from './launchDigest.js';
import { explicitPage, type LaunchPlan, PLAN_OP_TYPES, type PlanOp, SeededPages } from './plan.js';

/** The digest after one plan operation (after its last page). */
export interface PlanStep {
  readonly op: PlanOp;
  readonly digest: string;
}

/** What measuring a plan gives: the launch digest and the digest after each operation. */
export interface PlanMeasurement {
  /** The launch digest, as MEASUREMENT in the attestation report: 96 lowercase hex digits. */
  readonly digest: string;
  readonly steps: readonly PlanStep[];
}

/**
 * The launch digest of a plan without a VM: each op measured page by page in ascending gpa, as
 * the firmware's SNP_LAUNCH_UPDATE would (test/vectors/README.md). Pure: same plan, same digest.
 */
export function measurePlan(plan: LaunchPlan): PlanMeasurement {
  const withFile = plan.ops.findIndex((op) => op.file !== undefined);
  if (withFile >= 0)
    throw new PlanError(`ops[${withFile}].file`, 'file contents need measurePlanWithFiles (snp-ref measure)');
  const digest = new LaunchDigest(plan.initialDigest);
  const seeded = new SeededPages(plan.seed);
  const steps = plan.ops.map((op) => {
    measureOp(digest, op, seeded);
    return { op, digest: digest.hex() };
  });
  return { digest: digest.hex(), steps };
}

const scratch = Buffer.alloc(PAGE_SIZE);

/** Measures every page of an op whose contents are not in a file: spelled out, or the next seeded pages. */
export function measureOp(digest: LaunchDigest, op: PlanOp, seeded: SeededPages): void {
  const type = PLAN_OP_TYPES[op.op];
  for (let i = 0; i < op.pages; i++) {
    const contents = isContentMeasured(type) ? (explicitPage(op, i) ?? seeded.next(scratch)) : undefined;
    digest.update(type, op.gpa + i * PAGE_SIZE, contents);
  }
}
