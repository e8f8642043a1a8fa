import { type AccessRefusal, GuestVcpu } from '@snp-ref/guest';
import {
  fail,
  isCodedSite,
  Kvm,
  launchUpdateReviewed,
  launchUpdateV4,
  Machine,
  type SnpVm,
} from '@snp-ref/kvm-svm';
import { bytesToHex, SevStatus, type SnpFirmware } from '@snp-ref/psp-firmware';
import {
  checkHostAccess,
  codeName,
  entryJson,
  hex,
  PAGE_SIZE,
  PvalidateRet,
  type RmpEntryJson,
  RmpUpdateRet,
  rmpupdate,
  TraceRing,
  type TransitionEvent,
  traceChange,
} from '@snp-ref/rmp-core';
import type { ScenarioFiles } from './files.js';
import { openFill } from './fill.js';
import { type Failure, failed, fromKvm, type Outcome, type Success } from './outcome.js';
import { PAGE_TYPES } from './pageTypes.js';
import type { Scenario, Step } from './schema.js';
import { gmemStep, launchUpdateUpstreamStep, vmsaProfileOf } from './upstream.js';
import { cpuWhy } from './why.js';

/** One step's outcome, as README.md "Result" lists it. */
export type StepResult = StepSuccess | StepFailure;

/** Which step: its index in the scenario and its op. */
interface StepHead {
  readonly i: number;
  readonly op: Step['op'];
}

/** A step that succeeded, with what it gave. */
export interface StepSuccess extends StepHead, Success {}
/** A step that failed, with its errno or fault and the why of the refusal. */
export interface StepFailure extends StepHead, Failure {}

/**
 * What running a scenario gives: every step's outcome, the RMP transition trace, the final RMP and the VMs.
 */
export interface ScenarioResult {
  readonly scenario: 1;
  readonly steps: readonly StepResult[];
  readonly trace: readonly TraceJson[];
  readonly rmp: Readonly<Record<string, RmpEntryJson>>;
  readonly vms: Readonly<Record<string, { asid: number; state: string; measurement: string | null }>>;
}

/**
 * An RMP transition as JSON: what changed the entry of which page, the entry before and after, and the return
 * code.
 */
export interface TraceJson {
  readonly ev: string;
  readonly by: string;
  readonly pfn: string;
  readonly old: RmpEntryJson;
  readonly new: RmpEntryJson;
  readonly ret: string;
}

/**
 * A scenario being run, one step at a time, on a fresh machine: what runScenario does, open for
 * callers that look at the machine between steps (the fuzzer's invariants).
 */
export class ScenarioSession {
  readonly machine: Machine;
  readonly kvm: Kvm;
  readonly steps: StepResult[] = [];
  private readonly vcpus = new Map<string, GuestVcpu>();

  constructor(
    config: Pick<Scenario, 'host' | 'kvm'>,
    readonly ring = new TraceRing(1 << 20),
    onMeasuredPage?: SnpFirmware['onMeasuredPage'],
    /** The files `mmap` may fill from (scenarioFilesIn the scenario's directory); none without it. */
    private readonly files?: ScenarioFiles,
  ) {
    this.machine = Machine.create({
      hostPages: config.host.pages,
      seed: 'snp-ref',
      rejectAssignedOnUpdate: config.kvm?.rejectAssignedOnUpdate ?? false,
    });
    this.machine.firmware.onMeasuredPage = onMeasuredPage;
    this.machine.rmp.trace.subscribe(ring.sink);
    this.kvm = new Kvm(this.machine, config.kvm?.abi ?? 'reviewed');
  }

  /** The guest vCPU of a VM; it reports a #VC and goes on (a Linux guest would terminate). */
  vcpuOf(vm: SnpVm): GuestVcpu {
    let vcpu = this.vcpus.get(vm.name);
    if (vcpu === undefined) {
      const npt = { translate: (gpa: number) => vm.translateGpa(gpa) };
      vcpu = new GuestVcpu(
        this.machine.rmp,
        this.machine.memory,
        npt,
        { asid: vm.asid, vmpl: 0 },
        { vcHandler: 'none' },
      );
      this.vcpus.set(vm.name, vcpu);
    }
    return vcpu;
  }

  /** Runs one step. Steps never throw for what a scenario can cause: a failure is an outcome with its why. */
  run(step: Step): StepResult {
    const outcome = runStep(this.machine, this.kvm, (vm) => this.vcpuOf(vm), step, this.files);
    const result = { i: this.steps.length, op: step.op, ...outcome };
    this.steps.push(result);
    return result;
  }

  /** The result README.md describes, for the steps run so far. */
  result(): ScenarioResult {
    const { machine, kvm } = this;
    return {
      scenario: 1,
      steps: this.steps,
      trace: this.ring.events().map(traceJson),
      rmp: Object.fromEntries([...machine.rmp.entries()].map(([pfn, e]) => [hex(pfn), entryJson(e)])),
      vms: Object.fromEntries(
        kvm.all().map((vm) => {
          const digest = vm.gctx === undefined ? undefined : machine.firmware.launchDigest(vm.gctx);
          return [
            vm.name,
            {
              asid: vm.asid,
              state: vm.state,
              measurement: digest === undefined ? null : bytesToHex(digest),
            },
          ];
        }),
      ),
    };
  }
}

/**
 * Runs a validated scenario (README.md) on a fresh machine and returns its result. Steps
 * never throw for what a scenario can cause: a failing step reports its errno, firmware status,
 * return code or fault, and the run goes on.
 */
export function runScenario(
  scenario: Scenario,
  ring = new TraceRing(1 << 20),
  onMeasuredPage?: SnpFirmware['onMeasuredPage'],
  files?: ScenarioFiles,
): ScenarioResult {
  const session = new ScenarioSession(scenario, ring, onMeasuredPage, files);
  for (const step of scenario.steps) session.run(step);
  return session.result();
}

function traceJson(e: TransitionEvent): TraceJson {
  return {
    ev: e.kind,
    by: e.by,
    pfn: hex(e.pfn),
    old: entryJson(e.old),
    new: entryJson(e.new),
    ret: e.retName,
  };
}

function runStep(
  machine: Machine,
  kvm: Kvm,
  vcpuOf: (vm: SnpVm) => GuestVcpu,
  step: Step,
  files: ScenarioFiles | undefined,
): Outcome {
  if (step.op === 'vm.create') {
    try {
      const vm = kvm.createVm({
        name: step.vm,
        ...(step.asid === undefined ? {} : { asid: step.asid }),
        vcpus: step.vcpus ?? 0,
        ...(step.vmsa && { vmsa: vmsaProfileOf(step.vmsa) }),
      });
      return { ok: true, asid: vm.asid };
    } catch (error) {
      return failed('EINVAL', (error as Error).message);
    }
  }
  if (step.op === 'inject') return inject(machine, step);
  if (step.op === 'hv.rmpupdate') {
    // The hypervisor's own RMPUPDATE: the instruction, unrestricted (review point 3), not the kernel
    // helper with its optional sanity check; traced like every RMP change.
    if (!machine.rmp.has(step.pfn))
      return failed('EINVAL', `pfn ${hex(step.pfn)} is beyond the host's ${machine.rmp.hostPages} pages`);
    const ret = traceChange(
      machine.rmp,
      'rmpupdate',
      'hv',
      step.pfn,
      () => rmpupdate(machine.rmp, step.pfn, step.entry),
      (r) => codeName(RmpUpdateRet, r),
    );
    return ret === RmpUpdateRet.SUCCESS
      ? { ok: true }
      : {
          ok: false,
          rmpRet: codeName(RmpUpdateRet, ret),
          message: 'RMPUPDATE failed',
          why: cpuWhy(`rmpupdate.${codeName(RmpUpdateRet, ret)}`, { pfn: step.pfn }),
        };
  }
  if (step.op === 'rmp.query') {
    if (!machine.rmp.has(step.pfn))
      return failed('EINVAL', `pfn ${hex(step.pfn)} is beyond the host's ${machine.rmp.hostPages} pages`);
    return { ok: true, entry: entryJson(machine.rmp.read(step.pfn)) };
  }
  const vm = kvm.vm(step.vm);
  if (vm === undefined) return failed('EINVAL', `no VM named "${step.vm}" (create it with vm.create)`);
  switch (step.op) {
    case 'mmap':
      return mmap(machine, vm, step, files);
    case 'memslot.set':
    case 'gmem.create':
    case 'memory.attributes':
      return gmemStep(kvm, vm, step);
    case 'snp.launch_start':
      return fromKvm(vm.launchStart({ policy: step.policy ?? 0x3_0000n }));
    case 'snp.launch_update': {
      const type = PAGE_TYPES[step.type];
      if (type === undefined) {
        return fromKvm(fail('launch_update.type', `unknown page type "${step.type}"`));
      }
      if (vm.abi === 'upstream') return launchUpdateUpstreamStep(vm, step, type);
      const result =
        vm.abi === 'v4'
          ? launchUpdateV4(vm, { hva: step.hva, len: step.len, type })
          : launchUpdateReviewed(vm, { gpa: step.gpa, hva: step.hva, len: step.len, type });
      return fromKvm(result, vm.abi === 'v4' ? undefined : step.gpa);
    }
    case 'snp.launch_finish':
      return fromKvm(vm.launchFinish());
    case 'hv.read':
      return hostRead(vm, step.hva, step.len);
    case 'hv.write':
      return hostWrite(machine, vm, step.hva, step.data);
    case 'guest.pvalidate': {
      const outcome = vcpuOf(vm).pvalidate(step.gpa, step.validate, step.pageSize ?? '4K');
      if (outcome.kind === 'ret') {
        return outcome.ret === PvalidateRet.SUCCESS
          ? { ok: true }
          : {
              ok: false,
              rmpRet: codeName(PvalidateRet, outcome.ret),
              message: 'PVALIDATE failed',
              why: cpuWhy(`pvalidate.${codeName(PvalidateRet, outcome.ret)}`, { gpa: step.gpa }),
            };
      }
      return faultOutcome(outcome, step.gpa);
    }
    case 'guest.read': {
      const outcome = vcpuOf(vm).read(step.gpa, step.len, { private: step.private ?? true });
      return outcome.kind === 'data'
        ? { ok: true, data: bytesToHex(outcome.bytes) }
        : faultOutcome(outcome, step.gpa);
    }
    case 'guest.write': {
      const outcome = vcpuOf(vm).write(step.gpa, step.data, { private: step.private ?? true });
      return outcome.kind === 'written' ? { ok: true } : faultOutcome(outcome, step.gpa);
    }
  }
}

function faultOutcome(outcome: AccessRefusal, gpa: number): Outcome {
  if (outcome.kind === 'unmapped') return failed('EFAULT', `no mapping for gpa ${hex(outcome.gpa)}`);
  if (outcome.kind === 'invalid') return failed('EINVAL', outcome.reason);
  const more = outcome.kind === 'terminated' ? {} : { more: `${outcome.check} check` };
  return {
    ok: false,
    fault: outcome.kind,
    message: `the access faulted: ${outcome.kind}`,
    why: cpuWhy(`access.${outcome.kind}`, { gpa, ...more }),
  };
}

/** The code an inject step arms: a number as given, a name from the firmware's or RMPUPDATE's table. */
export function injectionCode(step: Extract<Step, { op: 'inject' }>): number | undefined {
  const table: Record<string, number> = step.at === 'rmpupdate' ? RmpUpdateRet : SevStatus;
  return typeof step.error === 'number' || step.error === undefined ? step.error : table[step.error];
}

function inject(machine: Machine, step: Extract<Step, { op: 'inject' }>): Outcome {
  const code = injectionCode(step);
  try {
    if (!isCodedSite(step.at) && step.error !== undefined)
      throw new RangeError(`${step.at} fails without a code: drop "error"`);
    // A scenario's launch update is the KVM command itself, not the ioctl around it: no progress
    // is copied back to userspace, so a copy_to_user failure could never fire.
    if (step.at === 'copy_to_user')
      throw new RangeError(
        'copy_to_user: a scenario has no progress write-back to fail (only the ioctl copies it back)',
      );
    if (isCodedSite(step.at) && step.error === undefined)
      throw new RangeError(`${step.at} fails with a code: add "error" (a name or a number)`);
    if (isCodedSite(step.at) && code === undefined)
      throw new RangeError(
        `unknown ${step.at === 'rmpupdate' ? 'RMPUPDATE return code' : 'firmware status'} "${step.error}"`,
      );
    machine.faults.inject(step.at, step.nth, code);
    return { ok: true };
  } catch (error) {
    return failed('EINVAL', (error as Error).message);
  }
}

/** Pages one mmap step may map: a 16 GiB range (the model keeps one map entry per page). */
const MAX_MMAP_PAGES = 2 ** 22;

function mmap(
  machine: Machine,
  vm: SnpVm,
  step: Extract<Step, { op: 'mmap' }>,
  files: ScenarioFiles | undefined,
): Outcome {
  if (step.hva % PAGE_SIZE !== 0) return failed('EINVAL', `hva ${hex(step.hva)} is not 4 KiB aligned`);
  if (step.pages > MAX_MMAP_PAGES)
    return failed('EINVAL', `${step.pages} pages in one mmap: at most ${MAX_MMAP_PAGES}`);
  if (step.pfn + step.pages > machine.pages.count) {
    return failed(
      'EINVAL',
      `pfns ${hex(step.pfn)}+${step.pages} go beyond the host's ${machine.pages.count} pages`,
    );
  }
  for (let i = 0; i < step.pages; i++) {
    const pfn = step.pfn + i;
    if (machine.pages.isKernelPage(pfn)) return failed('EINVAL', `pfn ${hex(pfn)} belongs to the kernel`);
    // Filling is the host writing the pages: only hypervisor-owned ones (APM Table 15-39).
    const check =
      step.fill === undefined ? undefined : checkHostAccess(machine.rmp, { pfn, kind: 'write', user: true });
    if (check !== undefined && check.kind !== 'OK')
      return {
        ok: false,
        fault: check.kind,
        message: `filling pfn ${hex(pfn)}: ${check.check}`,
        why: cpuWhy(`access.${check.kind}`, { pfn, more: `${check.check} check` }),
      };
  }
  const source = step.fill === undefined ? undefined : openFill(step.fill, files);
  if (typeof source === 'string') return failed('EINVAL', source);
  vm.addressSpace.map(step.hva, step.pfn, step.pages);
  if (source !== undefined) {
    for (let i = 0; i < step.pages; i++) machine.memory.write(step.pfn + i, source.next());
    source.close();
  }
  return { ok: true };
}

/** A host read through the VMM mapping: not RMP-checked; a guest page reads as its ciphertext. */
/** Bytes one hv.read may return. */
const MAX_READ = 2 ** 24;

function hostRead(vm: SnpVm, hva: number, len: number): Outcome {
  if (len > MAX_READ) return failed('EINVAL', `hv.read of ${len} bytes: at most ${MAX_READ}`);
  const bytes = vm.copyFromUser(hva, len);
  return bytes === undefined
    ? failed('EFAULT', `hva range ${hex(hva)}+${len} is not mapped`)
    : { ok: true, data: bytesToHex(bytes) };
}

/** A host write through the VMM mapping: every page must be hypervisor-owned, else #PF (APM Table 15-39). */
function hostWrite(machine: Machine, vm: SnpVm, hva: number, data: Uint8Array): Outcome {
  for (let page = Math.floor(hva / PAGE_SIZE); page * PAGE_SIZE < hva + data.length; page++) {
    const pfn = vm.addressSpace.translate(page * PAGE_SIZE);
    if (pfn === undefined) return failed('EFAULT', `hva ${hex(page * PAGE_SIZE)} is not mapped`);
    const check = checkHostAccess(machine.rmp, { pfn, kind: 'write', user: true });
    if (check.kind !== 'OK')
      return {
        ok: false,
        fault: check.kind,
        message: `host write to pfn ${hex(pfn)}: ${check.check}`,
        why: cpuWhy(`access.${check.kind}`, { pfn, more: `${check.check} check` }),
      };
  }
  return vm.copyToUser(hva, data)
    ? { ok: true }
    : failed('EFAULT', `hva range ${hex(hva)}+${data.length} is not mapped`);
}
