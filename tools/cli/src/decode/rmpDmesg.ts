// The RMP entries in what a user pastes from a host's dmesg, as Linux prints them in
// arch/x86/virt/svm/sev.c, told apart from the lines of the same dump that hold PFNs, not entries.
import { DecodeError } from './decodeError.js';

/** An entry found in the text: its 128 bits (lo | hi << 64) and the PFN its line names. */
export interface FoundEntry {
  readonly pfn: bigint;
  readonly value: bigint;
}

const HEX = '0x([0-9a-f]{1,16})';

/**
 * Lines that carry an entry, each with its PFN then lo and hi (or hi and low). dump_rmpentry()
 * (Linux 1f568d36361b "x86/fault: Add helper for dumping RMP entries"; unchanged through
 * 0cbc02584158 and 8ae3291f773b) prints an assigned PFN's entry as "PFN 0x%llx, RMP entry:
 * [0x%016llx - 0x%016llx]" and, for an unassigned PFN, each non-zero entry of its 2 MiB region as
 * "PFN: 0x%llx, [0x%016llx - 0x%016llx]"; the SNP host RFCs before the merge printed "RMP entry for
 * PFN 0x%llx: [high=0x%016llx low=0x%016llx]".
 */
const ENTRY_LINES: readonly { readonly re: RegExp; readonly hiFirst: boolean }[] = [
  { re: new RegExp(`PFN ${HEX}, RMP entry: \\[${HEX} - ${HEX}\\]`, 'i'), hiFirst: false },
  { re: new RegExp(`PFN: ${HEX}, \\[${HEX} - ${HEX}\\]`, 'i'), hiFirst: false },
  { re: new RegExp(`RMP entry for PFN ${HEX}: \\[high=${HEX} low=${HEX}\\]`, 'i'), hiFirst: true },
];

/** Lines of the same code whose "0x… - 0x…" are PFNs or addresses, with what they are. */
const NOT_ENTRIES: readonly { readonly re: RegExp; readonly what: string }[] = [
  {
    // dump_rmpentry() for an unassigned PFN (1f568d36361b); its entries follow as "PFN: 0x…, [0x… - 0x…]".
    re: /dumping non-zero entries in 2M PFN region: \[0x[0-9a-f]+ - 0x[0-9a-f]+\]/i,
    what: 'dump_rmpentry()\'s header for an unassigned PFN: the two numbers bound the PFNs of its 2 MiB region (the second is one past the end), not an RMP entry; paste the "PFN: 0x…, [0x… - 0x…]" lines that follow it (none follow when every entry of the region is zero)',
  },
  {
    // snp_leak_pages(): pr_warn("Leaking PFN range 0x%llx-0x%llx\n", pfn, pfn + npages).
    re: /Leaking PFN range 0x[0-9a-f]+\s*-\s*0x[0-9a-f]+/i,
    what: "snp_leak_pages()'s warning: a range of PFNs the kernel gives up on, not an RMP entry; paste the dump_rmpentry() line of each PFN that follows it",
  },
  {
    // snp_probe_rmptable_info() / probe_contiguous_rmptable_info(): the RMP's own physical range.
    re: /RMP table physical range \[0x[0-9a-f]+ - 0x[0-9a-f]+\]/i,
    what: 'the physical address range of the RMP table itself (snp_probe_rmptable_info()), not an RMP entry',
  },
];

/**
 * Lines only a host with a segmented RMP prints (probe_segmented_rmptable_info() and
 * setup_segmented_rmptable(), Linux 8ae3291f773b). Segmented RMPs come with Zen 5, which has
 * RMPREAD, and there the raw entry dump_rmpentry() prints is not in the Zen 3/4 layout: Linux's own
 * comment on struct rmpentry_raw (0cbc02584158) says the layout is not architectural and its
 * bitfields are used only on Zen 3 and Zen 4, "otherwise the hi and lo fields are only used for
 * dumping the raw data".
 */
const SEGMENTED_RMP = /Segmented RMP (?:using|base table)|RMP segment \d+ physical address/i;

export const ZEN5_RAW_ENTRY =
  'this dmesg is from a host with a segmented RMP (Zen 5 or later), where the raw RMP entry Linux prints is not in the Zen 3/4 layout this decoder knows (the layout is not architectural: Linux 0cbc02584158, struct rmpentry_raw); decode what RMPREAD returns instead, with the kind rmpread';

/**
 * The entries in `text`: every entry line of a pasted dmesg block, in order (the entry lines win
 * over the header and the leak warning around them). Undefined when the text has no dmesg line at
 * all, so the caller can read it as a bare value; a DecodeError for a block with no entry in it.
 */
export function rmpEntriesOfDmesg(text: string): FoundEntry[] | undefined {
  const lines = text.split('\n');
  if (lines.some((line) => SEGMENTED_RMP.test(line))) throw new DecodeError(`VALUE: ${ZEN5_RAW_ENTRY}`);
  const found = lines.flatMap((line) =>
    ENTRY_LINES.flatMap(({ re, hiFirst }) => {
      const m = re.exec(line);
      if (!m) return [];
      const [pfn = 0n, first = 0n, second = 0n] = [m[1], m[2], m[3]].map((h) => BigInt(`0x${h}`));
      const [lo, hi] = hiFirst ? [second, first] : [first, second];
      return [{ pfn, value: (hi << 64n) | lo }];
    }),
  );
  if (found.length > 0) return found;
  const other = NOT_ENTRIES.find(({ re }) => re.test(text));
  if (other) throw new DecodeError(`VALUE: this line is ${other.what}`);
  return undefined;
}
