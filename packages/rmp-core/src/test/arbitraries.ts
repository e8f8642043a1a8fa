import fc from 'fast-check';
import type { RmpEntry } from '../entry.js';
import { GPA_LIMIT, MAX_ASID, VMPL_PERMS_ALL } from '../layout.js';

/** Any entry the 16-byte layout can hold. */
export const anyEntry: fc.Arbitrary<RmpEntry> = fc.record({
  assigned: fc.boolean(),
  pageSize: fc.constantFrom('4K' as const, '2M' as const),
  immutable: fc.boolean(),
  gpa: fc.integer({ min: 0, max: GPA_LIMIT / 4096 - 1 }).map((gfn) => gfn * 4096),
  asid: fc.integer({ min: 0, max: MAX_ASID }),
  vmsa: fc.boolean(),
  validated: fc.boolean(),
  vmplPerms: fc.tuple(...[1, 2, 3].map(() => fc.integer({ min: 0, max: VMPL_PERMS_ALL }))) as fc.Arbitrary<
    [number, number, number]
  >,
});
