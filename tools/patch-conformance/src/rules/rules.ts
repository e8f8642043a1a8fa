import { PATH_RULES } from './onPath.js';
import { dirtyAccessedUnpin } from './release.js';
import { revertOnlyTouched } from './revert.js';
import type { Rule } from './rule.js';
import { tracedRmpupdate } from './traced.js';
import { uapiCodecLayout, uapiHvaAndGpa } from './uapi.js';

/** The static rules, each tied to a point of the review (docs/review.md). */
export const RULES: readonly Rule[] = [
  ...PATH_RULES,
  dirtyAccessedUnpin,
  revertOnlyTouched,
  uapiHvaAndGpa,
  uapiCodecLayout,
  tracedRmpupdate,
];
