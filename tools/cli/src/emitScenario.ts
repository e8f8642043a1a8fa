// `snp-ref measure --emit-scenario`: the measured launch as a scenario on the upstream ABI
// (packages/scenario/README.md "The upstream ABI"), so that `snp-ref run` of it ends with the
// measurement `measure` printed: the model's KVM path checked against the measurement tool.
import { realpathSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, relative, sep } from 'node:path';
import {
  BSP_RESET_EIP,
  bytesToHex,
  encodeVmsa,
  type LaunchPlan,
  type PlanOp,
  resetVmsaValues,
  type SevLaunch,
  type VmmType,
  type VmsaProvenance,
} from '@snp-ref/psp-firmware/measure';
import { hex, PAGE_SIZE } from '@snp-ref/rmp-core';
import { CliInputError } from './commandLine/inputError.js';
import type { MeasureOptions } from './commands/measureOptions.js';
import type { Files } from './files.js';
import { integer, type OvmfFlags, ovmfFlags, vcpuCount, vcpuSignature, vmmTypeOf } from './ovmfFlags.js';
import type { GuestMode } from './ovmfMeasure.js';

/** The vCPU state KVM builds the VMSAs from: a scenario's `vm.create` `vmsa` profile. */
export interface VcpuProfile {
  readonly vcpus: number;
  readonly vmm: VmmType;
  readonly vcpuSignature: number;
  readonly guestFeatures: bigint;
  /** The APs' reset EIP (the image's SEV-ES reset block); undefined with one vCPU. */
  readonly apResetEip?: number;
}

const VM = 'guest';
const GMEM = 'guest_memfd';
/** The VMM maps guest page `gpa` at HVA_BASE + gpa: one address per guest page, readable. */
const HVA_BASE = 2 ** 40;
/** First host pfn of the VMM's source pages; the guest_memfd's pages follow them. */
const SOURCE_PFN = 0x10;
/** Host pages left above the guest_memfd for KVM's own (the guest context, one VMSA per vCPU). */
const KERNEL_PAGES = 16;

const refuse = (why: string) => new CliInputError('USAGE', `--emit-scenario: ${why}`);

/** A run of guest pages the plan launches, one memslot over the guest_memfd. */
interface Range {
  gpa: number;
  pages: number;
}

/**
 * The guest ranges of the plan's LAUNCH_UPDATE ops (adjacent ones merged). KVM populates a gfn
 * once (kvm_gmem_populate refuses a page already prepared), so two ops on one gpa cannot be a launch.
 */
function guestRanges(ops: readonly PlanOp[]): Range[] {
  const sorted = ops.map((op, i) => ({ op, i })).sort((a, b) => a.op.gpa - b.op.gpa);
  const ranges: (Range & { last: number })[] = [];
  for (const { op, i } of sorted) {
    const prev = ranges.at(-1);
    const prevEnd = prev ? prev.gpa + prev.pages * PAGE_SIZE : -1;
    if (prev && op.gpa < prevEnd)
      throw refuse(
        `ops[${prev.last}] and ops[${i}] both launch ${hex(op.gpa)}: KVM populates a guest page once`,
      );
    if (prev && op.gpa === prevEnd) {
      prev.pages += op.pages;
      prev.last = i;
    } else ranges.push({ gpa: op.gpa, pages: op.pages, last: i });
  }
  return ranges.map(({ gpa, pages }) => ({ gpa, pages }));
}

/** Why the plan's VMSA ops are not what KVM builds from `vcpu` at LAUNCH_FINISH, or undefined. */
function vmsaMismatch(plan: LaunchPlan, vcpu: VcpuProfile | undefined): string | undefined {
  const vmsas = plan.ops.filter((op) => op.op === 'vmsa');
  const firstVmsa = plan.ops.findIndex((op) => op.op === 'vmsa');
  if (firstVmsa >= 0 && plan.ops.slice(firstVmsa).some((op) => op.op !== 'vmsa'))
    return `ops[${firstVmsa}] measures a VMSA before other pages; KVM measures the VMSAs at LAUNCH_FINISH, after every LAUNCH_UPDATE`;
  if (vcpu === undefined)
    return vmsas.length === 0
      ? undefined
      : "the plan's VMSA pages hold any fields; KVM builds them from a VMM's vCPU state (use --mode snp)";
  if (vmsas.length !== vcpu.vcpus) return `${vmsas.length} VMSA pages for ${vcpu.vcpus} vCPUs`;
  // kvm-svm vmsaProfile.ts vmsaPage: the BSP at the reset vector, the APs at the reset block's EIP.
  const built = (i: number) =>
    encodeVmsa(
      resetVmsaValues({
        vmmType: vcpu.vmm,
        vcpuSignature: vcpu.vcpuSignature,
        guestFeatures: vcpu.guestFeatures,
        eip: i === 0 ? BSP_RESET_EIP : (vcpu.apResetEip ?? BSP_RESET_EIP),
      }),
    );
  const differs = vmsas.findIndex((op, i) => !Buffer.from(encodeVmsa(op.vmsa ?? {})).equals(built(i)));
  return differs < 0
    ? undefined
    : `the VMSA of vCPU ${differs} is not the reset state of VMM ${vcpu.vmm} that KVM builds`;
}

/** A path with its symbolic links resolved, as `snp-ref run` checks it (itself if it does not exist yet). */
function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/**
 * Where the scenario names the file `path` (absolute): relative to the scenario's directory when
 * the file really lies inside it, links followed as `snp-ref run` follows them (the two move
 * together), else by its real absolute path (a system firmware stays put; run needs --allow-read).
 */
function scenarioPath(path: string, scenarioDir: string): string {
  const real = realPath(path);
  const rel = relative(realPath(scenarioDir), real);
  return rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel) ? real : rel;
}

/**
 * The scenario of `plan`'s launch on the upstream ABI: one guest_memfd behind memslots over the
 * launched ranges, all made private; the VMM's source pages mapped at HVA_BASE + gpa (a firmware
 * file by `mmap` `fill: {file}`, a plan's explicit bytes by `hv.write`); one LAUNCH_UPDATE per op
 * in plan order; LAUNCH_FINISH measures the VMSAs KVM builds from `vcpu`. Throws CliInputError
 * (USAGE) naming what the scenario cannot express.
 */
export function launchScenario(
  plan: LaunchPlan,
  vcpu: VcpuProfile | undefined,
  scenarioDir: string,
): { host: unknown; kvm: unknown; steps: unknown[] } {
  if (plan.initialDigest !== undefined)
    throw refuse(
      "the chain starts from a precomputed digest (--snp-ovmf-hash, a plan's initialDigest); KVM measures every page from the start",
    );
  const mismatch = vmsaMismatch(plan, vcpu);
  if (mismatch !== undefined) throw refuse(mismatch);
  const ops = plan.ops.filter((op) => op.op !== 'vmsa' && op.pages > 0);
  const seeded = plan.ops.findIndex((op) => op.op === 'normal' && !op.file && !op.bytes && op.pages > 0);
  if (seeded >= 0)
    throw refuse(
      `ops[${seeded}] takes its pages from the plan's seed stream, which a scenario's seed fill restarts for each mmap`,
    );
  const ranges = guestRanges(ops);
  const hva = (gpa: number) => hex(HVA_BASE + gpa);
  const gmemPages = ranges.reduce((n, r) => n + r.pages, 0);
  // The VMM's source pages: every op whose contents KVM copies (ZERO ignores uaddr).
  const sources = ops.filter((op) => op.op !== 'zero');
  const sourcePages = sources.reduce((n, op) => n + op.pages, 0);
  const gmemPfn = SOURCE_PFN + sourcePages;
  let pfn = SOURCE_PFN;
  const mmaps = sources.flatMap((op) => {
    const at = pfn;
    pfn += op.pages;
    const map = { op: 'mmap', vm: VM, hva: hva(op.gpa), pfn: at, pages: op.pages };
    if (op.file)
      return [
        {
          ...map,
          fill: { file: scenarioPath(op.file.path, scenarioDir), offset: op.file.offset },
        },
      ];
    if (!op.bytes) return [map];
    const { offset, data } = op.bytes;
    return [map, { op: 'hv.write', vm: VM, hva: hex(HVA_BASE + op.gpa + offset), data: bytesToHex(data) }];
  });
  let gmemOffset = 0;
  const memslots = ranges.flatMap((r, slot) => {
    const size = r.pages * PAGE_SIZE;
    const steps = [
      {
        op: 'memslot.set',
        vm: VM,
        slot,
        gpa: hex(r.gpa),
        hva: hva(r.gpa),
        size: hex(size),
        gmem: GMEM,
        gmemOffset: hex(gmemOffset),
      },
      { op: 'memory.attributes', vm: VM, gpa: hex(r.gpa), size: hex(size), private: true },
    ];
    gmemOffset += size;
    return steps;
  });
  const vcpus = vcpu?.vcpus ?? 0;
  return {
    host: { pages: gmemPfn + gmemPages + vcpus + KERNEL_PAGES },
    kvm: { abi: 'upstream' },
    steps: [
      {
        op: 'vm.create',
        vm: VM,
        vcpus,
        ...(vcpu && {
          vmsa: {
            vmm: vcpu.vmm,
            vcpuSig: hex(vcpu.vcpuSignature),
            guestFeatures: hex(vcpu.guestFeatures),
            ...(vcpu.apResetEip !== undefined && { apResetEip: hex(vcpu.apResetEip) }),
          },
        }),
      },
      { op: 'gmem.create', vm: VM, name: GMEM, pfn: gmemPfn, pages: gmemPages },
      ...memslots,
      ...mmaps,
      { op: 'snp.launch_start', vm: VM },
      ...ops.map((op) => ({
        op: 'snp.launch_update',
        vm: VM,
        hva: hva(op.gpa),
        gpa: hex(op.gpa),
        len: op.pages * PAGE_SIZE,
        type: op.op,
      })),
      { op: 'snp.launch_finish', vm: VM },
    ],
  };
}

/** What measuredPlan returned: an OVMF launch with its mode and VMSAs, or a plan file's. */
type MeasuredLaunch = {
  readonly plan: LaunchPlan;
  readonly mode?: GuestMode | undefined;
  readonly vmsas?: VmsaProvenance | undefined;
};

/** The VMM profile the flags give KVM's vCPUs (the same flags measure built the VMSAs from). */
function vcpuProfileOf(options: MeasureOptions, launch: MeasuredLaunch): VcpuProfile | undefined {
  // A plan file or the firmware pages alone: no VMSAs. SEV and SEV-ES launches never get here.
  if (launch.mode === undefined || launch.mode === 'snp:ovmf-hash') return undefined;
  if (launch.mode === 'snp:svsm')
    throw refuse("snp:svsm: the SVSM's VMSA is Coconut's, not the reset state of a VMM that KVM builds");
  if (options.hostKernel !== undefined)
    throw refuse("--host-kernel: the scenario's KVM builds today's VMSAs, not an older release's");
  const flags = { ...ovmfFlags(options), mode: launch.mode } as OvmfFlags;
  const vmm = vmmTypeOf(flags.vmmType);
  const ap = launch.vmsas?.find((v) => v.role === 'AP');
  return {
    vcpus: vcpuCount(flags),
    vmm,
    vcpuSignature: vcpuSignature(flags, vmm).value,
    guestFeatures: integer('--guest-features', flags.guestFeatures, 64) ?? 1n,
    ...(ap && { apResetEip: ap.eip }),
  };
}

/**
 * --emit-scenario FILE: checks now that the launch is one a scenario can express (so a refusal
 * comes before measuring) and returns the writer, which names the measurement in the description.
 */
export function scenarioEmitter(
  file: string,
  launch: MeasuredLaunch | { readonly sev: SevLaunch; readonly mode: GuestMode },
  options: MeasureOptions,
  files: Files,
): (digest: string) => void {
  if (file === '-' || file === '')
    throw refuse('give a file: the scenario names its firmware relative to its own directory');
  for (const [flag, given] of [
    ['--dump-plan', options.dumpPlan],
    ['--explain-vmsa', options.explainVmsa],
  ] as const)
    if (given) throw refuse(`not with ${flag}: it writes the launch measure measures`);
  if ('sev' in launch) throw refuse(`${launch.mode}: the scenario launches SEV-SNP guests only`);
  const vcpu = vcpuProfileOf(options, launch);
  const path = files.path(file);
  const scenarioDir = dirname(path);
  const scenario = launchScenario(launch.plan, vcpu, scenarioDir);
  // `snp-ref run` reads files outside the scenario's directory only where --allow-read says.
  const outside = new Set(
    launch.plan.ops.flatMap((op) => {
      const named = op.file && scenarioPath(op.file.path, scenarioDir);
      return named !== undefined && isAbsolute(named) ? [dirname(named)] : [];
    }),
  );
  const run = outside.size === 0 ? 'snp-ref run' : `snp-ref run --allow-read ${[...outside].join(delimiter)}`;
  return (digest) => {
    const description = `${launch.plan.name}, launched through KVM's upstream ABI (written by snp-ref measure --emit-scenario): ${run} ends with measurement ${digest}.`;
    files.writeText(file, `${JSON.stringify({ scenario: 1, description, ...scenario }, null, 2)}\n`);
  };
}
