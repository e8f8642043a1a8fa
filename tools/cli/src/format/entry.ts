import { entryText, type RmpEntryJson } from '@snp-ref/rmp-core';

/** An entry as a scenario result holds it (JSON), in rmp-core's one-line text: `[A=1 PS=4K … V=1]`. */
export const entryJsonText = (e: RmpEntryJson): string =>
  entryText({
    ...e,
    gpa: Number(e.gpa),
    vmplPerms: [e.vmplPerms?.[0] ?? 0, e.vmplPerms?.[1] ?? 0, e.vmplPerms?.[2] ?? 0],
  });
