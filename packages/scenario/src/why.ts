// Why a scenario step failed: which check refused, on which page, and where the rule comes from.
import { CHECKS, firmwareChecksFor, type KvmFailure } from '@snp-ref/kvm-svm';
import { hex, PAGE_SIZE } from '@snp-ref/rmp-core';

/**
 * Why a step failed: the check that refused, on which side, what it checks, where the rule comes from, and
 * the page.
 */
export interface Why {
  /** The check's id: a KVM check (kvm-svm CHECKS), or one of the CPU, RMP and scenario checks below. */
  readonly check: string;
  /** kernel, firmware, cpu (an instruction or access check), or scenario (the step itself is unusable). */
  readonly side: 'kernel' | 'firmware' | 'cpu' | 'scenario';
  readonly text: string;
  readonly rule: string;
  readonly pfn?: string;
  readonly gpa?: string;
  /** upstream LAUNCH_UPDATE: the errno inside kvm_gmem_populate, hidden behind the ioctl's EIO. */
  readonly innerErrno?: string;
  /**
   * upstream LAUNCH_UPDATE stopped after some pages by the firmware: its status, which the ioctl
   * does not report (it returns 0 and sets `error` only when no page was done; sev.c snp_launch_update).
   */
  readonly fwError?: string;
}

/**
 * A KVM command's refusal; for a firmware status, what the firmware checks behind it (each check of
 * each firmware command the KVM command issues that returns the status: KVM does not say which).
 */
export function kvmWhy(result: KvmFailure, gpa?: number): Why {
  const check = CHECKS[result.check];
  const fw = result.fwError === undefined ? [] : firmwareChecksFor(check.cmd, result.fwError);
  const at =
    gpa !== undefined && result.pages !== undefined ? { gpa: hex(gpa + result.pages * PAGE_SIZE) } : {};
  const pfn = /pfn (0x[0-9a-f]+)/.exec(result.message)?.[1];
  return {
    check: result.check,
    side: fw.length > 0 ? 'firmware' : 'kernel',
    text: [
      check.check,
      ...fw.map((f, i) => `${i === 0 ? '' : 'or '}the firmware refuses when ${f.check}`),
      ...(result.innerErrno === undefined
        ? []
        : [`populate returned ${result.innerErrno}; the ioctl returns EIO for every populate failure`]),
    ].join('; '),
    rule: [check.rule, ...new Set(fw.map((f) => f.rule))].join('; '),
    ...(pfn && { pfn }),
    ...at,
    ...(result.innerErrno && { innerErrno: result.innerErrno }),
  };
}

/** RMP instructions, guest accesses and the scenario's own checks: id → what and where from. */
const CPU_AND_SCENARIO: Readonly<Record<string, { side: Why['side']; text: string; rule: string }>> = {
  'rmpupdate.FAIL_INPUT': {
    side: 'cpu',
    text: 'RMPUPDATE refused its input (a reserved field, a gpa or ASID out of range, a 2 MiB page not 2 MiB aligned)',
    rule: 'AMD APM Vol 3 RMPUPDATE; rmp-core instructions/rmpupdate.ts',
  },
  'rmpupdate.FAIL_PERMISSION': {
    side: 'cpu',
    text: 'the entry is immutable: only the firmware may change it',
    rule: 'AMD APM Vol 3 RMPUPDATE',
  },
  'rmpupdate.FAIL_INUSE': {
    side: 'cpu',
    text: 'the 2 MiB range is in use (a page of it is assigned or validated)',
    rule: 'AMD APM Vol 3 RMPUPDATE',
  },
  'rmpupdate.FAIL_OVERLAP': {
    side: 'cpu',
    text: 'a 4 KiB assignment inside a 2 MiB assigned page (or the reverse)',
    rule: 'AMD APM Vol 3 RMPUPDATE; arch/x86/include/asm/sev.h RMPUPDATE_FAIL_OVERLAP',
  },
  'pvalidate.FAIL_INPUT': {
    side: 'cpu',
    text: 'PVALIDATE refused its input (the address or page size)',
    rule: 'AMD APM Vol 3 PVALIDATE',
  },
  'pvalidate.FAIL_PERMISSION': {
    side: 'cpu',
    text: 'PVALIDATE below VMPL0',
    rule: 'AMD APM Vol 3 PVALIDATE',
  },
  'pvalidate.FAIL_SIZEMISMATCH': {
    side: 'cpu',
    text: "the page size asked for is not the RMP entry's",
    rule: 'AMD APM Vol 3 PVALIDATE; arch/x86/include/asm/sev.h PVALIDATE_FAIL_SIZEMISMATCH',
  },
  'pvalidate.FAIL_NOUPDATE': {
    side: 'cpu',
    text: 'the page already had that validation state: nothing changed (CF set)',
    rule: 'AMD APM Vol 3 PVALIDATE; Linux PVALIDATE_FAIL_NOUPDATE',
  },
  'access.#VC': {
    side: 'cpu',
    text: 'a private access to a page of this guest that is not validated',
    rule: 'AMD APM Vol 2 §15.36.10, #VC error code 0x404; rmp-core access.ts',
  },
  'access.NPF': {
    side: 'cpu',
    text: "the RMP does not give this page to this guest at this gpa (not assigned, another ASID or gpa, or the VMPL's permissions)",
    rule: 'AMD APM Vol 2 §15.36.10 (RMP checks on nested page walks); rmp-core access.ts',
  },
  'access.#PF': {
    side: 'cpu',
    text: 'a host write to a page the host does not own (assigned, or firmware-owned)',
    rule: 'AMD APM Vol 2 Table 15-39 (host accesses); rmp-core access.ts',
  },
  'scenario.unmapped': {
    side: 'scenario',
    text: 'no mapping for the address',
    rule: 'packages/scenario/README.md "Errors a step reports"',
  },
  'scenario.invalid': {
    side: 'scenario',
    text: 'the step asks for something the model cannot do (see message)',
    rule: 'packages/scenario/README.md "Errors a step reports"',
  },
};

/** The why of a failure that is not a KVM command's: `id` is a key of the table above. */
export function cpuWhy(id: string, detail: { pfn?: number; gpa?: number; more?: string } = {}): Why {
  const known = CPU_AND_SCENARIO[id];
  if (known === undefined) throw new Error(`internal: no why for check ${id}`);
  return {
    check: id,
    side: known.side,
    text: detail.more === undefined ? known.text : `${known.text} (${detail.more})`,
    rule: known.rule,
    ...(detail.pfn !== undefined && { pfn: hex(detail.pfn) }),
    ...(detail.gpa !== undefined && { gpa: hex(detail.gpa) }),
  };
}
