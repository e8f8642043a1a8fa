import type { RmpEntry } from './entry.js';

/** Lower-case hex with a 0x prefix, exact for any safe integer and any bigint. */
export function hex(value: number | bigint): string {
  return `0x${value.toString(16)}`;
}

/** A count and its noun, singular for exactly one: "1 page", "2 pages", "0 pages"; `plural` for irregular nouns. */
export function counted(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}

/** An entry as JSON: the shape `snp-ref run` prints (packages/scenario/README.md, "Result"). */
export interface RmpEntryJson {
  readonly assigned: boolean;
  readonly asid: number;
  readonly gpa: string;
  readonly pageSize: RmpEntry['pageSize'];
  readonly immutable: boolean;
  readonly validated: boolean;
  readonly vmsa: boolean;
  readonly vmplPerms?: readonly number[];
}

/** An RMP entry as JSON, with its gpa in hex; the VMPL permissions only when one is set. */
export function entryJson(e: RmpEntry): RmpEntryJson {
  const json = {
    assigned: e.assigned,
    asid: e.asid,
    gpa: hex(e.gpa),
    pageSize: e.pageSize,
    immutable: e.immutable,
    validated: e.validated,
    vmsa: e.vmsa,
  };
  return e.vmplPerms.some((p) => p !== 0) ? { ...json, vmplPerms: e.vmplPerms } : json;
}

/** One-line text of an entry, e.g. `[A=1 PS=4K IMM=1 GPA=0x1000 ASID=1 VMSA=0 V=0]`. */
export function entryText(e: RmpEntry): string {
  const bit = (b: boolean) => (b ? 1 : 0);
  const perms = e.vmplPerms.some((p) => p !== 0)
    ? ` PERMS=${e.vmplPerms.map((p) => p.toString(16)).join(',')}`
    : '';
  return `[A=${bit(e.assigned)} PS=${e.pageSize} IMM=${bit(e.immutable)} GPA=${hex(e.gpa)} ASID=${e.asid} VMSA=${bit(e.vmsa)} V=${bit(e.validated)}${perms}]`;
}
