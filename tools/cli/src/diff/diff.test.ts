import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildOvmfImage, type SyntheticOvmfSpec } from '@snp-ref/psp-firmware/measure';
import { beforeAll, describe, expect, it } from 'vitest';
import { measureOvmfArgs, snpRef } from '../snpRefRun.js';

const spec: SyntheticOvmfSpec = {
  seed: 'diff',
  pages: 16,
  sections: [
    { gpa: 0x800000, size: 0x3000, type: 'SNP_SEC_MEM' },
    { gpa: 0x803000, size: 0x1000, type: 'SNP_SECRETS' },
    { gpa: 0x804000, size: 0x1000, type: 'CPUID' },
  ],
  resetEip: 0xffff_f004,
};
interface PlanJson {
  ops: { op: string; gpa: string; pages?: number }[];
}

let dir: string;
const path = (name: string) => join(dir, name);
const flags = (image: string, ...more: string[]) => [...measureOvmfArgs(path(image)), ...more];
/** Writes the launch of `image` as a plan, after `edit`, and returns its path. */
const plan = async (
  name: string,
  image: string,
  edit: (p: PlanJson) => void = () => {},
  ...more: string[]
) => {
  const p = JSON.parse((await snpRef(flags(image, ...more, '--dump-plan'))).stdout) as PlanJson;
  edit(p);
  writeFileSync(path(name), JSON.stringify(p));
  return path(name);
};
const diff = (a: string, b: string, ...more: string[]) => snpRef(['diff', a, b, ...more]);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'snp-ref-diff-'));
  const image = buildOvmfImage(spec);
  writeFileSync(path('fw.fd'), image);
  const planted = new Uint8Array(image);
  planted[5 * 4096 + 0x77] = (planted[5 * 4096 + 0x77] ?? 0) ^ 0x10;
  writeFileSync(path('planted.fd'), planted);
});

describe('snp-ref diff names the first measured page where two launches differ', () => {
  it('finds a planted single-byte change in the firmware: its step, gpa and byte', async () => {
    const { status, stdout } = await diff(
      await plan('a.json', 'fw.fd'),
      await plan('planted.json', 'planted.fd'),
    );
    expect(status).toBe(1);
    expect(stdout).toMatch(
      /^first difference: step 5 \(A\) \/ 5 \(B\): the NORMAL page at gpa 0xffff5000 has other contents/m,
    );
    expect(stdout).toMatch(
      /first differing byte at page offset 0x77 \(gpa 0xffff5077\): .*; 1 byte differs in this page$/m,
    );
    expect(stdout).toMatch(/every digest after step 5 differs/);
  });

  it('finds a missing page, and an extra one the other way round', async () => {
    const short = await plan('short.json', 'fw.fd', (p) => {
      const zero = p.ops.find((o) => o.op === 'zero');
      if (zero?.pages) zero.pages -= 1;
    });
    expect((await diff(path('a.json'), short)).stdout).toMatch(
      /^first difference: step 18 \(A\): the ZERO page at gpa 0x802000 is missing from B$/m,
    );
    expect((await diff(short, path('a.json'))).stdout).toMatch(
      /^first difference: step 18 \(B\): B measures an extra ZERO page at gpa 0x802000$/m,
    );
  });

  it('finds a swapped page type', async () => {
    const swapped = await plan('swapped.json', 'fw.fd', (p) => {
      const secrets = p.ops.find((o) => o.op === 'secrets');
      if (secrets) secrets.op = 'cpuid';
    });
    expect((await diff(path('a.json'), swapped)).stdout).toMatch(
      /^first difference: step 19 \(A\) \/ 19 \(B\): the page at gpa 0x803000 is SECRETS in A but CPUID in B$/m,
    );
  });

  it("lists a VMSA's fields that differ by name: sev_features", async () => {
    const { stdout } = await diff(
      path('a.json'),
      await plan('features.json', 'fw.fd', undefined, '--guest-features', '0x21'),
    );
    expect(stdout).toMatch(
      /^first difference: step 21 \(A\) \/ 21 \(B\): the VMSA page at gpa 0xfffffffff000 has other contents/m,
    );
    expect(stdout).toMatch(/^ {4}sev_features +0x1 → 0x21 +\(\+DebugSwap\)$/m);
    expect(stdout).toMatch(/then 1 more: 1 with other contents/);
  });

  it('compares measurement logs, plans and QEMU traces with each other', async () => {
    await snpRef(flags('fw.fd', '--log', path('a.jsonl')));
    expect(await diff(path('a.json'), path('a.jsonl'))).toMatchObject({
      status: 0,
      stdout: expect.stringMatching(/the same 23 pages, in the same order, with the same types and contents/),
    });
    await snpRef(flags('planted.fd', '--log', path('planted.jsonl')));
    expect((await diff(path('a.jsonl'), path('planted.jsonl'))).stdout).toMatch(
      /first difference: step 5 \(A\)/,
    );
    // What QEMU's log trace backend prints for this launch (target/i386/trace-events).
    const trace = [
      '1234@1700000000.000001:kvm_sev_snp_launch_update src 0x7f0000000000 gpa 0xffff0000 len 0x10000 (Normal page)',
      '1234@1700000000.000002:kvm_sev_snp_launch_update src 0x7f0000100000 gpa 0x800000 len 0x3000 (Zero page)',
      'kvm_sev_snp_launch_update src 0x7f0000200000 gpa 0x803000 len 0x1000 (Secrets page)',
      'kvm_sev_snp_launch_update src 0x7f0000300000 gpa 0x804000 len 0x1000 (Cpuid page)',
    ];
    writeFileSync(path('qemu.log'), `${trace.join('\n')}\n`);
    const same = await diff(path('qemu.log'), path('a.json'));
    expect(same).toMatchObject({ status: 0, stdout: expect.stringMatching(/note: A is a QEMU trace/) });
    writeFileSync(path('qemu-swapped.log'), trace.join('\n').replace('(Secrets page)', '(Zero page)'));
    expect((await diff(path('qemu-swapped.log'), path('a.json'))).stdout).toMatch(
      /the page at gpa 0x803000 is ZERO in A but SECRETS in B/,
    );
  });

  it('counts the remainder QEMU re-traces after a partial upstream LAUNCH_UPDATE once', async () => {
    // Written for this test: upstream KVM populated 6 of the 16 firmware pages, then 9 of the other
    // 10, writing the struct back advanced each time; QEMU traced each remainder again. The ZERO
    // range was retried as it was (-EAGAIN).
    const trace = [
      'kvm_sev_snp_launch_update src 0x7f0000000000 gpa 0xffff0000 len 0x10000 (Normal page)',
      'kvm_sev_snp_launch_update src 0x7f0000006000 gpa 0xffff6000 len 0xa000 (Normal page)',
      'kvm_sev_snp_launch_update src 0x7f000000f000 gpa 0xfffff000 len 0x1000 (Normal page)',
      'kvm_sev_snp_launch_update src 0x7f0000100000 gpa 0x800000 len 0x3000 (Zero page)',
      'kvm_sev_snp_launch_update src 0x7f0000100000 gpa 0x800000 len 0x3000 (Zero page)',
      'kvm_sev_snp_launch_update src 0x7f0000200000 gpa 0x803000 len 0x1000 (Secrets page)',
      'kvm_sev_snp_launch_update src 0x7f0000300000 gpa 0x804000 len 0x1000 (Cpuid page)',
    ];
    writeFileSync(path('qemu-partial.log'), `${trace.join('\n')}\n`);
    const same = await diff(path('qemu-partial.log'), path('a.json'));
    expect(same).toMatchObject({ status: 0, stderr: '' });
    expect(same.stdout).toMatch(/^A: QEMU trace .*qemu-partial\.log — 21 measured pages/m);
    expect(same.stdout).toMatch(/the same 21 pages, in the same order, with the same types$/m);
    // Not a remainder: it ends before the previous range does, so the page is measured again.
    writeFileSync(
      path('qemu-twice.log'),
      `${trace[0]}\nkvm_sev_snp_launch_update src 0x7f0000001000 gpa 0xffff1000 len 0x1000 (Normal page)\n${trace.slice(3).join('\n')}\n`,
    );
    const twice = JSON.parse((await diff(path('qemu-twice.log'), path('a.json'), '--json')).stdout);
    expect(twice).toMatchObject({ a: { kind: 'qemu-trace', pages: 22 }, b: { pages: 23 } });
  });

  it('reads either side from stdin (-), and says one page, not one pages', async () => {
    const log = readFileSync(path('a.jsonl'), 'utf8');
    const piped = await snpRef(['diff', '-', path('a.json')], { stdin: log });
    expect(piped).toMatchObject({ status: 0, stderr: '' });
    expect(piped.stdout).toMatch(/^A: log - — 23 measured pages, digest [0-9a-f]{96}$/m);
    const onePage = `${log.split('\n')[0]}\n`;
    writeFileSync(path('one.jsonl'), onePage);
    expect((await snpRef(['diff', path('one.jsonl'), '-'], { stdin: onePage })).stdout).toMatch(
      /^B: log - — 1 measured page, digest [0-9a-f]{96}\nthe same 1 page, in the same order, with the same types and contents$/m,
    );
    expect(await snpRef(['diff', '-', '-'], { stdin: log })).toMatchObject({
      status: 2,
      stderr: 'snp-ref: A and B are both - (stdin): only one of them can be read from stdin\n',
    });
  });

  it('reads a scenario, launching the VM it names', async () => {
    const scenario = join(import.meta.dirname, '../../examples/01-launch-and-read.json');
    expect(await diff(scenario, scenario, '--vm', 'a')).toMatchObject({ status: 0 });
    expect(JSON.parse((await diff(scenario, path('a.json'), '--json')).stdout)).toMatchObject({
      a: { kind: 'scenario' },
      b: { kind: 'plan', pages: 23 },
      differences: expect.arrayContaining([expect.objectContaining({ kind: 'missing' })]),
    });
    expect(await diff(scenario, scenario, '--vm', 'zz')).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/VM "zz" measured no page \(VMs that did: a\)/),
    });
  });

  it('refuses what it cannot read: exit 2, the file and the place named', async () => {
    writeFileSync(path('notes.txt'), 'hello\n');
    expect(await diff(path('notes.txt'), path('a.json'))).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/notes\.txt: not a plan, a measurement log, a scenario or a QEMU trace/),
    });
    writeFileSync(path('bad.log'), 'kvm_sev_snp_launch_update src 0x0 gpa 0x1000 len 0x10 (Normal page)\n');
    expect((await diff(path('bad.log'), path('a.json'))).stderr).toMatch(
      /bad\.log:1: expected "gpa 0x… len 0x… \(Type page\)" with len a multiple of 4096/,
    );
    writeFileSync(path('bad.jsonl'), `${readFileSync(path('a.jsonl'), 'utf8').split('\n')[0]}\n{"gpa": 5}\n`);
    expect((await diff(path('bad.jsonl'), path('a.json'))).stderr).toMatch(
      /bad\.jsonl:2: expected a measurement log line/,
    );
    expect((await diff(path('nothing.json'), path('a.json'))).stderr).toMatch(
      /nothing\.json: cannot read \(ENOENT\)/,
    );
  });
});
