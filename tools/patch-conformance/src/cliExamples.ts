import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SevStatus } from '@snp-ref/psp-firmware';
import { RmpUpdateRet } from '@snp-ref/rmp-core';
import type { HarnessScenario } from './dynamic.js';

/** The CLI's example scenarios (../shared/SCENARIO.md format), for the harness where they apply. */
export const CLI_EXAMPLES = 'tools/cli/examples';

const PAGE_TYPES: Readonly<Record<string, number>> = {
  normal: 1,
  vmsa: 2,
  zero: 3,
  unmeasured: 4,
  secrets: 5,
  cpuid: 6,
};
const SIZES: Readonly<Record<string, number>> = { KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30 };

/** A SCENARIO.md value: an integer, "0x…" or a size such as "4KiB". */
function value(v: unknown): number {
  if (typeof v === 'number') return v;
  const text = String(v);
  const size = /^(\d+)(KiB|MiB|GiB)$/.exec(text);
  return size === null ? Number(text) : Number(size[1]) * (SIZES[size[2] ?? ''] ?? 1);
}

const hex = (v: unknown) => value(v).toString(16);
type Step = Record<string, unknown> & { op: string };

/**
 * A CLI example as harness lines, or why it does not apply: the harness runs one VM's launch
 * updates, so examples with two VMs or guest-side RMP changes (PVALIDATE, writes) are skipped;
 * reads and queries change nothing and are left out.
 */
export function harnessScenario(
  name: string,
  json: { kvm?: { rejectAssignedOnUpdate?: boolean }; steps: Step[] },
): HarnessScenario | string {
  const creates = json.steps.filter((s) => s.op === 'vm.create');
  if (creates.length !== 1) return `${creates.length} VMs (the harness runs one)`;
  const lines = [
    `asid ${value(creates[0]?.asid ?? 1)}`,
    `reject ${json.kvm?.rejectAssignedOnUpdate === true ? 1 : 0}`,
  ];
  for (const step of json.steps) {
    switch (step.op) {
      case 'vm.create':
      case 'snp.launch_start':
      case 'rmp.query':
      case 'hv.read':
      case 'guest.read':
        break;
      case 'mmap':
        lines.push(`map ${hex(step.hva)} ${hex(step.pfn)} ${value(step.pages)}`);
        break;
      case 'memslot.set':
        lines.push(`slot ${value(step.slot)} ${hex(step.gpa)} ${hex(step.hva)} ${value(step.size)}`);
        break;
      case 'snp.launch_update':
        // The uAPI carries a guest frame: an unaligned gpa cannot be expressed, so such a step is left out.
        if (value(step.gpa) % 4096 !== 0) break;
        lines.push(
          `call ${(value(step.gpa) / 4096).toString(16)} ${hex(step.hva)} ${value(step.len)} ${PAGE_TYPES[String(step.type)] ?? 0}`,
        );
        break;
      case 'snp.launch_finish':
        lines.push('finish');
        break;
      case 'inject': {
        const table: Record<string, number> = step.at === 'rmpupdate' ? RmpUpdateRet : SevStatus;
        const code = typeof step.error === 'number' ? step.error : table[String(step.error)];
        lines.push(`inject ${step.at === 'rmpupdate' ? 'rmpupdate' : 'psp'} ${value(step.nth)} ${code}`);
        break;
      }
      case 'hv.rmpupdate': {
        const e = step.entry as Record<string, unknown>;
        lines.push(
          `rmp ${hex(step.pfn)} ${e.assigned === true ? 1 : 0} ${value(e.asid)} ${hex(e.gpa)} ${e.immutable === true ? 1 : 0} 0`,
        );
        break;
      }
      default:
        return `step ${step.op} (the harness models KVM's launch updates only)`;
    }
  }
  return { name: `cli/${name}`, lines };
}

/** The CLI examples the harness can run, from the repository at `root` (none if it has no CLI). */
export function cliExampleScenarios(root: string): HarnessScenario[] {
  const dir = join(root, CLI_EXAMPLES);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && !f.endsWith('.expected.json'))
    .sort()
    .flatMap((file) => {
      const scenario = harnessScenario(
        file.replace(/\.json$/, ''),
        JSON.parse(readFileSync(join(dir, file), 'utf8')),
      );
      return typeof scenario === 'string' ? [] : [scenario];
    });
}
