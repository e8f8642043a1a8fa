// What must hold after every step of any scenario: the fuzzer checks these around each step.
import { type SnpVm, vmsaPage } from '@snp-ref/kvm-svm';
import {
  bytesToHex,
  isContentMeasured,
  LaunchDigest,
  PageType,
  VMSA_GPA,
} from '@snp-ref/psp-firmware/measure';
import { checkInvariants, entryText, hex, PAGE_SIZE, type RmpEntry, type RmpTable } from '@snp-ref/rmp-core';
import type { Step } from '../schema.js';
import type { ScenarioSession, StepFailure, StepResult } from '../session.js';
import { HostChanges } from './hostChanges.js';
import { type UpstreamPage, upstreamRange, upstreamViolations } from './upstreamInvariants.js';

/** An invariant the fuzzer checks after every step (packages/scenario/README.md, "The fuzzer"). */
export type InvariantRule =
  | 'upstream-done-pages-private'
  | 'upstream-call-changes-only-its-pages'
  | 'upstream-source-never-converted'
  | 'rmp-table'
  | 'no-pin-leak'
  | 'failed-update-changes-only-touched'
  | 'pinned-pages-released-dirty'
  | 'updated-page-is-guest-valid'
  | 'launched-page-in-one-guest'
  | 'measurement-matches-launched-pages'
  | 'guest-fault-as-predicted'
  | 'pvalidate-as-predicted';

/** A broken invariant and what broke it. */
export interface Violation {
  readonly rule: InvariantRule;
  readonly message: string;
}

const FIRMWARE_TYPES: Readonly<Record<string, PageType>> = {
  normal: PageType.NORMAL,
  vmsa: PageType.VMSA, // KVM refuses it; RFC v4 passed it through to the firmware
  zero: PageType.ZERO,
  unmeasured: PageType.UNMEASURED,
  secrets: PageType.SECRETS,
  cpuid: PageType.CPUID,
};

const sameEntry = (a: RmpEntry, b: RmpEntry) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The guest-visible outcome the access-check table (APM Vol 2 Table 15-39) predicts, worked out
 * from decoded RMP entries independently of rmp-core's word-level check.
 */
export function predictGuestAccess(
  rmp: RmpTable,
  vm: SnpVm,
  pfn: number,
  gpa: number,
  write: boolean,
  isPrivate: boolean,
): 'OK' | 'NPF' | '#VC' {
  const base = rmp.read(pfn - (pfn % 512));
  const inTwoMeg = base.assigned && base.pageSize === '2M';
  const e = rmp.read(pfn);
  if (!isPrivate) return write && (e.assigned || inTwoMeg) ? 'NPF' : 'OK';
  if (!e.assigned || e.asid !== vm.asid) return 'NPF';
  if (e.gpa !== gpa - (gpa % PAGE_SIZE)) return 'NPF';
  if (e.immutable) return 'NPF';
  if (inTwoMeg) return 'NPF'; // the guest maps 4 KiB pages: a page-size mismatch
  return e.validated ? 'OK' : '#VC';
}

export type PvalidateOutcome = 'SUCCESS' | 'FAIL_INPUT' | 'FAIL_SIZEMISMATCH' | 'FAIL_NOUPDATE' | 'NPF';

/**
 * What PVALIDATE at VMPL0 returns, worked out from decoded RMP entries (APM vol. 2 §15.36.6 and the
 * PVALIDATE page of vol. 3): FAIL_INPUT for a misaligned 2 MiB operand; #NPF unless the page is the
 * guest's at that gpa and mutable, or for a 4 KiB operand inside a 2 MiB page; FAIL_SIZEMISMATCH
 * for a 2 MiB operand over 4 KiB entries; FAIL_NOUPDATE when Validated already has the value.
 */
export function predictPvalidate(
  rmp: RmpTable,
  vm: SnpVm,
  pfn: number,
  gpa: number,
  validate: boolean,
  pageSize: '4K' | '2M',
): PvalidateOutcome {
  if (pageSize === '2M' && gpa % (512 * PAGE_SIZE) !== 0) return 'FAIL_INPUT'; // rAX, the guest's address
  const e = rmp.read(pfn);
  if (!e.assigned || e.asid !== vm.asid || e.gpa !== gpa - (gpa % PAGE_SIZE) || e.immutable) return 'NPF';
  const base = rmp.read(pfn - (pfn % 512));
  const inTwoMeg = base.assigned && base.pageSize === '2M';
  if (pageSize === '4K' && inTwoMeg) return 'NPF';
  if (pageSize === '2M' && !inTwoMeg) return 'FAIL_SIZEMISMATCH';
  return e.validated === validate ? 'FAIL_NOUPDATE' : 'SUCCESS';
}

/** Watches one session: call before(step) and after(step, result) around every step. */
export class InvariantChecker {
  /** The launch digest each VM's firmware context should hold, from the pages its launch measured. */
  private readonly shadows = new Map<string, LaunchDigest>();
  /** Pfns the hypervisor gave back itself (hv.rmpupdate): KVM may then launch them into another guest. */
  private readonly released = new Set<number>();
  private readonly host: HostChanges;
  /** Pfns whose rmpupdate() by KVM failed during the current step: the only excuse for a leak. */
  private readonly failedKvmRmpupdates = new Set<number>();
  /** The RMP's violations when last checked, and the RMP writes counted then. */
  private rmpChecked: { writes: number; violations: readonly Violation[] } | undefined;
  /** The checks of the step under way, given its result. */
  private pending: ((result: StepResult) => Violation[]) | undefined;

  constructor(
    private readonly session: ScenarioSession,
    private readonly rejectAssignedOnUpdate: boolean,
    /** Hold RFC v4 to the reviewed ABI's promises too (to show the invariants catch it). */
    private readonly reviewedPromisesForV4 = false,
  ) {
    this.host = new HostChanges(session.machine);
    session.machine.rmp.trace.subscribe((t) => {
      if (t.kind === 'rmpupdate' && t.by === 'kvm' && t.ret !== 0) this.failedKvmRmpupdates.add(t.pfn);
    });
  }

  private vm(name: string): SnpVm | undefined {
    return this.session.kvm.vm(name);
  }

  /** Records what the step's checks need from before it runs. */
  before(step: Step): void {
    const { machine } = this.session;
    this.pending = undefined;
    this.failedKvmRmpupdates.clear();
    this.host.stop();
    if (step.op === 'snp.launch_update') {
      const vm = this.vm(step.vm);
      if (vm === undefined) return;
      const pages =
        step.len % PAGE_SIZE === 0 && step.len > 0 && step.len <= 64 * PAGE_SIZE ? step.len / PAGE_SIZE : 0;
      if (vm.abi === 'upstream') {
        const range = upstreamRange(this.session, vm, step, pages);
        const changes = this.host.start();
        this.pending = (result) => this.afterUpstreamUpdate(step, result, vm, range, changes);
        return;
      }
      const range = Array.from({ length: pages }, (_, i) => {
        const pfn = vm.addressSpace.translate(step.hva + i * PAGE_SIZE);
        const gpa = vm.abi === 'v4' ? vm.memslots.gpaOf(step.hva + i * PAGE_SIZE) : step.gpa + i * PAGE_SIZE;
        return {
          pfn,
          gpa,
          contents: pfn === undefined ? undefined : new Uint8Array(machine.memory.peek(pfn)),
        };
      });
      const changes = vm.abi === 'reviewed' || this.reviewedPromisesForV4 ? this.host.start() : undefined;
      const leakedBefore = new Set(machine.pages.leaked);
      this.pending = (result) => this.afterUpdate(step, result, vm, range, changes, leakedBefore);
    } else if (step.op === 'snp.launch_finish') {
      const vm = this.vm(step.vm);
      const before = vm?.vmsas.length ?? 0;
      this.pending = () => {
        const shadow = vm && this.shadows.get(vm.name);
        for (let i = before; shadow && vm && i < vm.vmsas.length; i++) {
          const profile = vm.vmsaProfile;
          shadow.update(PageType.VMSA, VMSA_GPA, profile ? vmsaPage(profile, i) : new Uint8Array(PAGE_SIZE));
        }
        return [];
      };
    } else if (step.op === 'guest.read' || step.op === 'guest.write') {
      const vm = this.vm(step.vm);
      const pfn = vm?.translateGpa(step.gpa);
      const crosses =
        (step.gpa % PAGE_SIZE) + (step.op === 'guest.read' ? step.len : step.data.length) > PAGE_SIZE;
      if (vm === undefined || pfn === undefined || crosses || !machine.rmp.has(pfn)) return;
      const expected = predictGuestAccess(
        machine.rmp,
        vm,
        pfn,
        step.gpa,
        step.op === 'guest.write',
        step.private ?? true,
      );
      this.pending = (result) => this.afterAccess(result, expected, step.gpa);
    } else if (step.op === 'guest.pvalidate') {
      const vm = this.vm(step.vm);
      const pfn = vm?.translateGpa(step.gpa);
      if (vm === undefined || pfn === undefined || !machine.rmp.has(pfn)) return;
      const size = step.pageSize ?? '4K';
      const expected = predictPvalidate(machine.rmp, vm, pfn, step.gpa, step.validate, size);
      const covered = Array.from({ length: size === '2M' ? 512 : 1 }, (_, i) => pfn + i).filter((p) =>
        machine.rmp.has(p),
      );
      const entries = covered.map((p) => {
        const was = machine.rmp.read(p);
        return { pfn: p, entry: expected === 'SUCCESS' ? { ...was, validated: step.validate } : was };
      });
      this.pending = (result) => this.afterPvalidate(result, expected, step.gpa, entries);
    } else if (step.op === 'hv.rmpupdate' && !step.entry.assigned) {
      const pfn = step.pfn;
      this.pending = (result) => {
        if (result.ok) this.released.add(pfn);
        return [];
      };
    }
  }

  /** Every invariant that fails after the step. */
  after(step: Step, result: StepResult): Violation[] {
    const violations = [...(this.pending?.(result) ?? [])];
    this.pending = undefined;
    if (step.op === 'snp.launch_start' && result.ok) {
      const vm = this.vm(step.vm);
      if (vm) this.shadows.set(vm.name, new LaunchDigest());
    }
    const { machine, kvm } = this.session;
    violations.push(...this.rmpTableViolations());
    for (const [pfn, count] of machine.pages.pinned()) {
      if (!machine.pages.leaked.has(pfn))
        violations.push({
          rule: 'no-pin-leak',
          message: `pfn ${hex(pfn)} is still pinned ${count} time(s) after the call returned`,
        });
    }
    for (const vm of kvm.all()) {
      if (vm.gctx === undefined) continue;
      const actual = machine.firmware.launchDigest(vm.gctx) ?? new Uint8Array();
      const shadow = this.shadows.get(vm.name);
      if (shadow === undefined || Buffer.compare(actual, shadow.digest()) !== 0)
        violations.push({
          rule: 'measurement-matches-launched-pages',
          message: `VM ${vm.name}: the firmware's digest ${bytesToHex(actual).slice(0, 16)}… is not the digest of the pages it launched (${shadow?.hex().slice(0, 16)}…)`,
        });
    }
    if (
      this.rejectAssignedOnUpdate &&
      (this.reviewedPromisesForV4 || kvm.all().every((vm) => vm.abi === 'reviewed'))
    )
      violations.push(...this.launchedOnce());
    return violations;
  }

  /** What rmp-core's checkInvariants finds in the RMP, checked again only once the RMP changed. */
  private rmpTableViolations(): readonly Violation[] {
    if (this.rmpChecked?.writes !== this.host.rmpWrites) {
      const violations = checkInvariants(this.session.machine.rmp).map(
        (v): Violation => ({ rule: 'rmp-table', message: v.message }),
      );
      this.rmpChecked = { writes: this.host.rmpWrites, violations };
    }
    return this.rmpChecked.violations;
  }

  private afterUpdate(
    step: Extract<Step, { op: 'snp.launch_update' }>,
    result: StepResult,
    vm: SnpVm,
    range: readonly { pfn: number | undefined; gpa: number | undefined; contents: Uint8Array | undefined }[],
    changes: HostChanges | undefined,
    leakedBefore: ReadonlySet<number>,
  ): Violation[] {
    const measured = result.ok ? range.length : (result.pages ?? 0);
    const shadow = this.shadows.get(vm.name);
    const type = FIRMWARE_TYPES[step.type];
    for (const page of range.slice(0, measured)) {
      if (shadow && type !== undefined && page.gpa !== undefined)
        shadow.update(type, page.gpa, isContentMeasured(type) ? page.contents : undefined);
    }
    const violations = result.ok ? this.guestValid(vm, range, step.type) : [];
    if (changes === undefined) return violations;
    // The reviewed ABI's promises. Past the pin (a `pages` count), every page is released dirty.
    if (result.ok || result.pages !== undefined) violations.push(...this.releasedDirty(range));
    if (!result.ok)
      violations.push(...this.changedOnlyTouched(result, range, measured, changes, leakedBefore));
    return violations;
  }

  /** The upstream promises (upstreamInvariants.ts); the pages done extend the shadow digest with their sources. */
  private afterUpstreamUpdate(
    step: Extract<Step, { op: 'snp.launch_update' }>,
    result: StepResult,
    vm: SnpVm,
    range: readonly UpstreamPage[],
    changes: HostChanges,
  ): Violation[] {
    const shadow = this.shadows.get(vm.name);
    const type = FIRMWARE_TYPES[step.type];
    for (const page of range.slice(0, result.ok ? (result.pages ?? 0) : 0))
      if (shadow && type !== undefined)
        shadow.update(type, page.gpa, isContentMeasured(type) ? page.contents : undefined);
    return upstreamViolations(this.session, vm, range, result, changes);
  }

  /**
   * After a successful update each page is its guest's at its gpa, validated and mutable: GUEST_VALID
   * (AMD-ASPFW sev_mcmd.c snp_mcmd_launch_update; Linux sev.c gives such a page back without
   * SNP_PAGE_RECLAIM).
   */
  private guestValid(
    vm: SnpVm,
    range: readonly { pfn: number | undefined; gpa: number | undefined }[],
    type: string,
  ): Violation[] {
    if (type === 'vmsa') return []; // a VMSA page stays the firmware's business
    const wrong = range.find(({ pfn, gpa }) => {
      if (pfn === undefined) return false;
      const e = this.session.machine.rmp.read(pfn);
      return !e.assigned || e.asid !== vm.asid || e.gpa !== gpa || !e.validated || e.immutable;
    });
    if (wrong?.pfn === undefined) return [];
    return [
      {
        rule: 'updated-page-is-guest-valid',
        message: `pfn ${hex(wrong.pfn)}, launched at gpa ${hex(wrong.gpa ?? 0)}, is ${entryText(this.session.machine.rmp.read(wrong.pfn))}`,
      },
    ];
  }

  /**
   * Every pinned page was marked dirty and accessed when released (marks never clear: new pages
   * tell), but a leaked one, which keeps its pin unmarked (kvm-svm launchUpdateReviewed).
   */
  private releasedDirty(range: readonly { pfn: number | undefined }[]): Violation[] {
    const { pages } = this.session.machine;
    const unmarked = range.find(
      ({ pfn }) =>
        pfn !== undefined && !pages.leaked.has(pfn) && !(pages.isDirty(pfn) && pages.isAccessed(pfn)),
    );
    if (unmarked?.pfn === undefined) return [];
    return [
      {
        rule: 'pinned-pages-released-dirty',
        message: `pfn ${hex(unmarked.pfn)} was pinned by the update and released without being marked dirty and accessed`,
      },
    ];
  }

  /**
   * A failed reviewed update changed no page but the ones it made private (those before the failed
   * one, and the failed one itself when the firmware refused it), and gave those back, or leaked
   * one only where giving it back failed.
   */
  private changedOnlyTouched(
    result: StepFailure,
    range: readonly { pfn: number | undefined }[],
    measured: number,
    changes: HostChanges,
    leakedBefore: ReadonlySet<number>,
  ): Violation[] {
    const { machine } = this.session;
    const changed = measured + (result.fwError === undefined ? 0 : 1);
    const touched = new Set<number>();
    for (const { pfn } of range.slice(0, changed)) if (pfn !== undefined) touched.add(pfn);
    const leakedNow = [...machine.pages.leaked].filter((pfn) => !leakedBefore.has(pfn));
    // Any other page is untouched, not newly leaked and unchanged: nothing to say of it.
    const pfns = new Set([...touched, ...leakedNow, ...changes.changed()]);
    const rule = 'failed-update-changes-only-touched';
    const violations: Violation[] = [];
    for (const pfn of [...pfns].filter((p) => machine.rmp.has(p)).sort((a, b) => a - b)) {
      const newlyLeaked = machine.pages.leaked.has(pfn) && !leakedBefore.has(pfn);
      if (!touched.has(pfn)) {
        if (newlyLeaked || changes.entryChanged(pfn) || changes.contentsChanged(pfn))
          violations.push({
            rule,
            message: `pfn ${hex(pfn)}, not touched by the failed call (${result.errno}), changed`,
          });
        continue;
      }
      const entry = machine.rmp.read(pfn);
      if (newlyLeaked && !this.failedKvmRmpupdates.has(pfn) && !entry.immutable)
        violations.push({
          rule,
          message: `pfn ${hex(pfn)} was leaked, though nothing failed to give it back`,
        });
      else if (!machine.pages.leaked.has(pfn) && entry.assigned && changes.entryChanged(pfn))
        violations.push({
          rule,
          message: `pfn ${hex(pfn)}, touched by the failed call, is still assigned and not leaked`,
        });
    }
    return violations;
  }

  private afterAccess(result: StepResult, expected: 'OK' | 'NPF' | '#VC', gpa: number): Violation[] {
    const actual = result.ok ? 'OK' : result.fault;
    if (actual === undefined || actual === expected) return [];
    return [
      {
        rule: 'guest-fault-as-predicted',
        message: `the access to gpa ${hex(gpa)} gave ${actual}; the access-check table predicts ${expected}`,
      },
    ];
  }

  /** PVALIDATE returned what the table predicts, and changed Validated of its pages only on SUCCESS. */
  private afterPvalidate(
    result: StepResult,
    expected: PvalidateOutcome,
    gpa: number,
    entries: readonly { pfn: number; entry: RmpEntry }[],
  ): Violation[] {
    const actual = result.ok ? 'SUCCESS' : (result.rmpRet ?? result.fault);
    if (actual === undefined) return [];
    const rule = 'pvalidate-as-predicted';
    if (actual !== expected)
      return [{ rule, message: `PVALIDATE of gpa ${hex(gpa)} gave ${actual}; the RMP predicts ${expected}` }];
    const wrong = entries.find(({ pfn, entry }) => !sameEntry(this.session.machine.rmp.read(pfn), entry));
    return wrong === undefined
      ? []
      : [
          {
            rule,
            message: `PVALIDATE of gpa ${hex(gpa)} (${actual}) left pfn ${hex(wrong.pfn)} other than predicted`,
          },
        ];
  }

  private launchedOnce(): Violation[] {
    const owners = new Map<number, string>();
    const violations: Violation[] = [];
    for (const vm of this.session.kvm.all()) {
      for (const pfn of vm.privateMappings.values()) {
        const other = owners.get(pfn);
        if (other !== undefined && other !== vm.name && !this.released.has(pfn))
          violations.push({
            rule: 'launched-page-in-one-guest',
            message: `pfn ${hex(pfn)} is launched memory of VM ${other} and of VM ${vm.name}`,
          });
        owners.set(pfn, vm.name);
      }
    }
    return violations;
  }
}
