import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kvm, launchUpdateReviewed, Machine } from '@snp-ref/kvm-svm';
import { Errno, HYPERVISOR_OWNED, type RmpEntry, TraceRing, traceChange } from '@snp-ref/rmp-core';
import type { CModel } from './c/cModel.js';
import { ConformInputError } from './input.js';
import type { Finding } from './rules/rule.js';

const SHIM = join(import.meta.dirname, '../shim');
export const SCENARIOS = join(import.meta.dirname, '../scenarios');

/** The dynamic rule's id and rationale, listed with the static rules in reports. */
export const DYNAMIC_RULE = {
  id: 'dynamic-trace',
  rationale:
    "The patch's C, compiled against user-space shims, and the TS model print the same canonical trace (RMP changes, leaks, page releases, result) on every shared scenario.",
} as const;

/** One scenario: its name and its lines (see shim/harness.c). */
export interface HarnessScenario {
  readonly name: string;
  readonly lines: readonly string[];
}

export function loadScenarios(dir = SCENARIOS): HarnessScenario[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((file) => ({
      name: file.replace(/\.txt$/, ''),
      lines: readFileSync(join(dir, file), 'utf8')
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '' && !l.startsWith('#')),
    }));
}

/** Compiles the patch's C against the shims with the machine's C compiler; the path of the harness binary. */
export function compileHarness(c: CModel): string {
  const dir = mkdtempSync(join(tmpdir(), 'snp-conform-'));
  const source = join(dir, 'patch.c');
  writeFileSync(source, c.patch.files.map((f) => f.code).join('\n'));
  const binary = join(dir, 'harness');
  const flavour = c.patch.flavour === 'v4' ? ['-DSNP_FLAVOUR_V4'] : [];
  try {
    execFileSync(
      'cc',
      ['-O1', '-w', `-I${SHIM}`, ...flavour, `-DPATCH_C="${source}"`, '-o', binary, join(SHIM, 'harness.c')],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? error)
      .split('\n')
      .slice(0, 5)
      .join('\n');
    throw new ConformInputError(`${c.patch.file}: its C does not compile against the shims:\n${stderr}`);
  }
  return binary;
}

const entryLine = (e: RmpEntry) =>
  `A=${Number(e.assigned)} ASID=${e.asid} GPA=0x${e.gpa.toString(16)} IMM=${Number(e.immutable)} V=${Number(e.validated)}`;

/**
 * The TS model's run of a scenario (reviewed KVM, real firmware), printed in the harness's canonical
 * lines: RMP changes in order, leaks, page releases, the result.
 */
export function runModel(scenario: HarnessScenario): string[] {
  const reject = scenario.lines.includes('reject 1');
  const machine = Machine.create({ hostPages: 4096, seed: 'conform', rejectAssignedOnUpdate: reject });
  let asid = 1;
  for (const line of scenario.lines) if (line.startsWith('asid ')) asid = Number(line.split(' ')[1]);
  const vm = new Kvm(machine).createVm({ name: 'vm', asid });
  if (!vm.launchStart({ policy: 0x3_0000n }).ok) throw new Error('launch start failed');
  const ring = new TraceRing(1 << 16);
  machine.rmp.trace.subscribe(ring.sink);
  const out: string[] = [];
  const flush = () => {
    for (const e of ring.events()) {
      if (entryLine(e.old) !== entryLine(e.new))
        out.push(`rmp pfn=0x${e.pfn.toString(16)} old=${entryLine(e.old)} new=${entryLine(e.new)}`);
    }
    ring.clear();
  };
  for (const line of scenario.lines) {
    const [op, ...args] = line.split(/\s+/);
    const hexArg = (i: number) => Number.parseInt(args[i] ?? '0', 16);
    const decArg = (i: number) => Number(args[i] ?? '0');
    if (op === 'map') vm.addressSpace.map(hexArg(0), hexArg(1), decArg(2));
    else if (op === 'slot') vm.memslots.set(decArg(0), hexArg(1), hexArg(2), decArg(3));
    else if (op === 'finish') vm.launchFinish();
    else if (op === 'rmp') {
      const entry = {
        ...HYPERVISOR_OWNED,
        assigned: decArg(1) === 1,
        asid: decArg(2),
        gpa: hexArg(3),
        immutable: decArg(4) === 1,
        validated: decArg(5) === 1,
      };
      traceChange(
        machine.rmp,
        'rmpupdate',
        'hv',
        hexArg(0),
        () => {
          machine.rmp.write(hexArg(0), entry);
          return 0;
        },
        () => 'SUCCESS',
      );
    } else if (op === 'inject')
      machine.faults.inject(args[0] === 'psp' ? 'psp.launch_update' : 'rmpupdate', decArg(1), decArg(2));
    else if (op === 'call') {
      const [gpa, hva, len, type] = [hexArg(0) * 4096, hexArg(1), decArg(2), decArg(3)];
      const result = launchUpdateReviewed(vm, { gpa, hva, len, type });
      flush();
      for (const pfn of result.leaked ?? []) out.push(`leak pfn=0x${pfn.toString(16)}`);
      // Pages were pinned unless the call stopped before pinning (EINVAL, or EFAULT from the pin itself).
      const pinned =
        result.ok || result.errno === 'EIO' || result.errno === 'EBUSY' || result.rmpRet !== undefined;
      for (let i = 0; pinned && i < len / 4096; i++) {
        const pfn = vm.addressSpace.translate(hva + i * 4096) as number;
        out.push(
          `release pfn=0x${pfn.toString(16)} dirty=${Number(machine.pages.isDirty(pfn))} accessed=${Number(machine.pages.isAccessed(pfn))}`,
        );
      }
      out.push(`result ret=${result.ok ? 0 : -Errno[result.errno ?? 'EINVAL']}`);
    } else if (op !== 'asid' && op !== 'reject')
      throw new ConformInputError(`scenario ${scenario.name}: unknown line "${line}"`);
    if (op !== 'call') flush();
  }
  return out;
}

/** The harness's run of a scenario. */
export function runHarness(binary: string, scenario: HarnessScenario): string[] {
  return execFileSync(binary, { input: `${scenario.lines.join('\n')}\n`, encoding: 'utf8' })
    .trim()
    .split('\n')
    .filter((l) => l !== '');
}

/**
 * The dynamic rule: the patch's C and the TS model run every scenario and must print the same
 * canonical trace. The first differing line of each scenario is a finding, both sides quoted.
 */
export function dynamicFindings(
  c: CModel,
  tsLocation: Finding['ts'],
  scenarios = loadScenarios(),
): Finding[] {
  const binary = compileHarness(c);
  const entity = c.entities.get('kvm.snp_launch_update');
  return scenarios.flatMap((scenario) => {
    const [fromC, fromTs] = [runHarness(binary, scenario), runModel(scenario)];
    const at = fromC.findIndex((line, i) => line !== fromTs[i]);
    const index = at >= 0 ? at : fromC.length !== fromTs.length ? Math.min(fromC.length, fromTs.length) : -1;
    if (index < 0) return [];
    return [
      {
        rule: 'dynamic-trace',
        message: `scenario ${scenario.name}: event ${index + 1} differs — C: ${fromC[index] ?? '(none)'} | TS: ${fromTs[index] ?? '(none)'}`,
        ...(entity === undefined ? {} : { c: entity.location }),
        ...(tsLocation === undefined ? {} : { ts: tsLocation }),
      },
    ];
  });
}
