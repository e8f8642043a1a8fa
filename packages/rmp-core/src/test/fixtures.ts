import type { GuestAsidVmpl } from '../access.js';
import { HYPERVISOR_OWNED, type RmpEntry } from '../entry.js';
import type { RmpState } from '../instructions/rmpupdate.js';
import { RmpTable } from '../table.js';

export const GUEST: GuestAsidVmpl = { asid: 1, vmpl: 0 };

export const privateState = (gpa: number, fields: Partial<RmpState> = {}): RmpState => ({
  gpa,
  assigned: true,
  pageSize: '4K',
  immutable: false,
  asid: GUEST.asid,
  ...fields,
});

export const entry = (fields: Partial<RmpEntry>): RmpEntry => ({ ...HYPERVISOR_OWNED, ...fields });

/** A 4096-page host (two 2 MiB regions … eight), all hypervisor-owned. */
export const smallHost = (): RmpTable => RmpTable.create(4096);

/** Every non-zero entry, to compare a table before and after an operation. */
export const snapshot = (table: RmpTable) => [...table.entries()];
