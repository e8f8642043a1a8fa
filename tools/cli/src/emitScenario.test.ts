import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEBIAN_OVMF, writeSyntheticFiles } from '../scripts/reference-runs.js';
import { bin } from './snpRefProcess.js';
import { measureOvmfArgs, snpRef } from './snpRefRun.js';

interface Step {
  op: string;
  gpa?: string;
  len?: number;
  type?: string;
  hva?: string;
  fill?: { file: string };
  vmsa?: Record<string, string>;
}
interface Scenario {
  steps: Step[];
}

let dir: string;
let files: Record<string, string>;

beforeAll(() => {
  if (!existsSync(DEBIAN_OVMF))
    throw new Error(`${DEBIAN_OVMF} is missing: install Debian's ovmf package (npm test does, as root)`);
  dir = mkdtempSync(join(tmpdir(), 'snp-ref-emit-'));
  files = writeSyntheticFiles(dir);
});

/**
 * The measurement `snp-ref run FILE` ends with, run from another working directory: by the bundled
 * binary as a user runs it, or in this process (the same run(), without starting Node).
 */
async function runMeasurement(file: string, how: 'binary' | 'in-process' = 'in-process') {
  // The description says how to run it: with --allow-read when the firmware is outside its directory.
  const { description } = JSON.parse(readFileSync(file, 'utf8')) as { description: string };
  const allow = /snp-ref run (--allow-read \S+ )?ends with/.exec(description)?.[1]?.trim().split(' ') ?? [];
  const args = ['run', ...allow, file];
  const run =
    how === 'binary'
      ? spawnSync(process.execPath, [bin, ...args], { cwd: tmpdir(), encoding: 'utf8' })
      : await snpRef(args, { cwd: tmpdir() });
  expect(run.stderr).toBe('');
  const result = JSON.parse(run.stdout) as {
    steps: { op: string; ok: boolean; message?: string }[];
    vms: { guest: { state: string; measurement: string } };
  };
  expect(result.steps.filter((s) => !s.ok)).toEqual([]);
  expect(result.vms.guest.state).toBe('RUNNING');
  return result.vms.guest.measurement;
}

/** measure's digest and the scenario it wrote to `file` (relative to `cwd`). */
async function emit(args: readonly string[], file: string, cwd = dir) {
  const measured = await snpRef([...args, '--emit-scenario', file], { cwd });
  expect(measured.stderr).toBe('');
  expect(measured.status).toBe(0);
  const path = join(cwd, file);
  return {
    digest: measured.stdout.trim(),
    path,
    scenario: JSON.parse(readFileSync(path, 'utf8')) as Scenario,
  };
}

/** The LAUNCH_UPDATEs of a scenario as plan ops: type, gpa, pages. */
const updates = (scenario: Scenario) =>
  scenario.steps
    .filter((s) => s.op === 'snp.launch_update')
    .map((s) => ({ op: s.type, gpa: s.gpa, pages: (s.len ?? 0) / 4096 }));

async function planOps(args: readonly string[]) {
  const plan = JSON.parse((await snpRef([...args, '--dump-plan'], { cwd: dir })).stdout) as {
    ops: { op: string; gpa: string; pages?: number }[];
  };
  return plan.ops
    .filter((o) => o.op !== 'vmsa')
    .map(({ op, gpa, pages }) => ({ op, gpa, pages: pages ?? 1 }));
}

describe("snp-ref measure --emit-scenario: snp-ref run of the scenario ends with measure's digest", () => {
  // One run through the bundled binary: starting Node costs a second, the launch itself a fraction.
  it.each([
    [1, 'in-process'],
    [2, 'in-process'],
    [4, 'binary'],
  ] as const)(
    "Debian's OVMF.fd, %i vCPU(s), the scenario in another directory, run %s",
    async (vcpus, how) => {
      const args = measureOvmfArgs(DEBIAN_OVMF, vcpus);
      const elsewhere = join(dir, `debian-${vcpus}`);
      mkdirSync(elsewhere);
      const { digest, path, scenario } = await emit(args, `debian-${vcpus}/launch.json`);
      expect(digest).toMatch(/^[0-9a-f]{96}$/);
      // The plan's page types at its gpas, in its order; the system firmware named by absolute path.
      expect(updates(scenario)).toEqual(await planOps(args));
      expect(scenario.steps.find((s) => s.fill)?.fill?.file).toBe(DEBIAN_OVMF);
      expect(scenario.steps[0]).toMatchObject({ op: 'vm.create', vcpus });
      expect(await runMeasurement(path, how)).toBe(digest);
    },
  );

  it("a firmware outside the scenario's directory is read only with --allow-read, as the description says", async () => {
    const { path } = await emit(measureOvmfArgs(DEBIAN_OVMF, 1), 'outside.json');
    const { description } = JSON.parse(readFileSync(path, 'utf8')) as { description: string };
    expect(description).toContain(`snp-ref run --allow-read ${dirname(DEBIAN_OVMF)} ends with`);
    const refused = await snpRef(['run', path], { cwd: tmpdir() });
    const fill = (
      JSON.parse(refused.stdout) as { steps: { op: string; ok: boolean; message?: string }[] }
    ).steps.find((s) => s.op === 'mmap' && !s.ok);
    expect(fill?.message).toContain(`${DEBIAN_OVMF} is outside the scenario's directory`);
  });

  it.each([
    ['ec2 (the CPUID page last)', ['--vmm-type', 'ec2']],
    ['gce (SNP_SEC_MEM unmeasured)', ['--vmm-type', 'gce']],
    ['QEMU with --vcpu-sig and --guest-features', ['--vcpu-sig', '0xa00f11', '--guest-features', '0x21']],
  ])("Debian's OVMF.fd under %s", async (name, flags) => {
    const args = [...measureOvmfArgs(DEBIAN_OVMF, 3), ...flags];
    const { digest, path, scenario } = await emit(args, `vmm-${name.split(' ')[0]}.json`);
    expect(updates(scenario)).toEqual(await planOps(args));
    expect(await runMeasurement(path)).toBe(digest);
  });

  it('a synthetic firmware with a kernel hashes table, moved together with its scenario', async () => {
    const args = [
      ...measureOvmfArgs('synthetic.fd', 3, 'EPYC-Milan'),
      ...['--kernel', files.kernel ?? '', '--initrd', files.initrd ?? '', '--append', 'console=ttyS0 ro'],
    ];
    const { digest, scenario } = await emit(args, 'kernel.json');
    expect(updates(scenario)).toEqual(await planOps(args));
    expect(updates(scenario)).toContainEqual({ op: 'normal', gpa: '0x809000', pages: 1 });
    expect(scenario.steps.find((s) => s.fill)?.fill?.file).toBe('synthetic.fd');
    const moved = mkdtempSync(join(tmpdir(), 'snp-ref-emit-moved-'));
    for (const name of ['kernel.json', 'synthetic.fd']) cpSync(join(dir, name), join(moved, name));
    expect(await runMeasurement(join(moved, 'kernel.json'))).toBe(digest);
  });

  it('a plan without VMSA pages (--plan), and the firmware pages alone (--mode snp:ovmf-hash)', async () => {
    const args = [...measureOvmfArgs(files.synthetic ?? '', 1), '--kernel', files.kernel ?? ''];
    const plan = JSON.parse((await snpRef([...args, '--dump-plan'])).stdout) as { ops: { op: string }[] };
    plan.ops = plan.ops.filter((o) => o.op !== 'vmsa');
    writeFileSync(join(dir, 'plan.json'), JSON.stringify(plan));
    const fromPlan = await emit(['measure', '--plan', 'plan.json'], 'plan-launch.json');
    expect(await runMeasurement(fromPlan.path)).toBe(fromPlan.digest);
    const firmware = await emit(['measure', '--mode', 'snp:ovmf-hash', '--ovmf', DEBIAN_OVMF], 'fw.json');
    expect(await runMeasurement(firmware.path)).toBe(firmware.digest);
  });
});

describe('the law: for any plan KVM can launch, run(emitted scenario) = measure(plan)', () => {
  /** Ops of every type on disjoint gpa ranges (gaps or adjacent, so memslots merge or not), in any order. */
  const plans = fc
    .array(
      fc.record({
        gap: fc.integer({ min: 0, max: 2 }),
        op: fc.oneof(
          fc.record({
            op: fc.constantFrom('zero', 'unmeasured'),
            pages: fc.integer({ min: 1, max: 3 }),
          }),
          fc.record({ op: fc.constantFrom('secrets', 'cpuid'), pages: fc.constant(1) }),
          // Explicit bytes anywhere in the op's pages, across a page boundary too.
          fc.integer({ min: 1, max: 3 }).chain((pages) =>
            fc.record({
              op: fc.constant('normal'),
              pages: fc.constant(pages),
              bytes: fc.record({
                offset: fc.integer({ min: 0, max: pages * 4096 - 32 }),
                hex: fc
                  .uint8Array({ minLength: 1, maxLength: 32 })
                  .map((b) => Buffer.from(b).toString('hex')),
              }),
            }),
          ),
        ),
      }),
      { minLength: 1, maxLength: 6 },
    )
    .chain((ops) => {
      let gpa = 0x10_0000;
      const laid = ops.map(({ gap, op }) => {
        gpa += gap * 4096;
        const at = gpa;
        gpa += op.pages * 4096;
        return { ...op, gpa: `0x${at.toString(16)}` };
      });
      return fc.shuffledSubarray(laid, { minLength: laid.length });
    });

  it('holds for random plans of every page type (fast-check prints the seed of a counterexample)', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(plans, async (ops) => {
        const file = `law-${n++}.json`;
        writeFileSync(join(dir, file), JSON.stringify({ name: 'law', seed: '', ops }));
        const { digest, path } = await emit(['measure', '--plan', file], `scenario-${file}`);
        expect(await runMeasurement(path)).toBe(digest);
      }),
      { numRuns: 8 },
    );
  });
});

describe('a changed scenario ends with another measurement (the equality is not vacuous)', () => {
  let launch: Awaited<ReturnType<typeof emit>>;
  beforeAll(async () => {
    launch = await emit(measureOvmfArgs(DEBIAN_OVMF, 2), 'changed.json');
  });
  const firmwareHva = (s: Scenario) => s.steps.find((step) => step.fill)?.hva ?? '';
  it.each([
    [
      'one byte of a firmware page',
      (s: Scenario) =>
        s.steps.splice(
          s.steps.findIndex((step) => step.op === 'snp.launch_start'),
          0,
          {
            op: 'hv.write',
            vm: 'guest',
            hva: firmwareHva(s),
            data: 'ff',
          } as Step,
        ),
    ],
    [
      'a page type (the secrets page launched as a zero page)',
      (s: Scenario) => Object.assign(s.steps.find((step) => step.type === 'secrets') ?? {}, { type: 'zero' }),
    ],
    [
      "the APs' reset EIP",
      (s: Scenario) => Object.assign(s.steps[0]?.vmsa ?? {}, { apResetEip: '0x80b000' }),
    ],
  ])('%s', async (_, change) => {
    const scenario = JSON.parse(readFileSync(launch.path, 'utf8')) as Scenario;
    change(scenario);
    const path = join(dir, 'changed-copy.json');
    writeFileSync(path, JSON.stringify(scenario));
    expect(await runMeasurement(path)).not.toBe(launch.digest);
  });
});

describe('--emit-scenario refuses a launch the scenario cannot express: exit 2, the reason named', () => {
  const debian = measureOvmfArgs(DEBIAN_OVMF, 2);
  it.each([
    [
      [...debian, '--host-kernel', '6.8'],
      /--emit-scenario: --host-kernel: the scenario's KVM builds today's VMSAs/,
    ],
    [
      [...debian, '--snp-ovmf-hash', '0'.repeat(96)],
      /--emit-scenario: the chain starts from a precomputed digest \(--snp-ovmf-hash/,
    ],
    [
      ['measure', '--mode', 'sev', '--ovmf', DEBIAN_OVMF],
      /--emit-scenario: sev: the scenario launches SEV-SNP guests only/,
    ],
    [[...debian, '--dump-plan'], /--emit-scenario: not with --dump-plan/],
  ])('%s', async (args, message) => {
    const run = await snpRef([...args, '--emit-scenario', 'refused.json'], { cwd: dir });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(existsSync(join(dir, 'refused.json'))).toBe(false);
  });

  it.each([
    [
      [{ op: 'normal', gpa: '0x0', pages: 2 }],
      /ops\[0\] takes its pages from the plan's seed stream, which a scenario's seed fill restarts/,
    ],
    [
      [
        { op: 'zero', gpa: '0x0', pages: 2 },
        { op: 'secrets', gpa: '0x1000' },
      ],
      /ops\[0\] and ops\[1\] both launch 0x1000: KVM populates a guest page once/,
    ],
  ])('plan ops %j', async (ops, message) => {
    const plan = JSON.stringify({ name: 'p', seed: 's', ops });
    const run = await snpRef(['measure', '--plan', '-', '--emit-scenario', 'refused.json'], {
      cwd: dir,
      stdin: plan,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(message);
  });

  it("a plan's own VMSA pages, which KVM does not build from a plan", async () => {
    const plan = (await snpRef([...measureOvmfArgs(DEBIAN_OVMF, 1), '--dump-plan'])).stdout;
    const run = await snpRef(['measure', '--plan', '-', '--emit-scenario', 'refused.json'], {
      cwd: dir,
      stdin: plan,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(
      /the plan's VMSA pages hold any fields; KVM builds them from a VMM's vCPU state/,
    );
  });
});
