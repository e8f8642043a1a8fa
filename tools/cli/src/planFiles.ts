import { resolve } from 'node:path';
import type { LaunchPlan } from '@snp-ref/psp-firmware/measure';

/** The plan with its file paths made absolute: they are relative to the plan's directory. */
export function withBaseDir(plan: LaunchPlan, baseDir: string): LaunchPlan {
  return {
    ...plan,
    ops: plan.ops.map((op) =>
      op.file ? { ...op, file: { ...op.file, path: resolve(baseDir, op.file.path) } } : op,
    ),
  };
}
