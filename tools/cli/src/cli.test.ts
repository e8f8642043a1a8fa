import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bin, snpRefProcess } from './snpRefProcess.js';
import { measureOvmfArgs, snpRef } from './snpRefRun.js';

const base = { scenario: 1, host: { pages: 64 } };
const withSteps = (steps: unknown[]) => JSON.stringify({ ...base, steps });

describe('snp-ref run on malformed input: exit 2, every problem named, no stack trace', () => {
  it.each([
    ['not JSON', '{ "scenario": 1,', /-: not JSON/],
    ['a missing field', JSON.stringify({ scenario: 1, steps: [] }), /host: /],
    ['a wrong type', JSON.stringify({ ...base, steps: 'none' }), /steps: /],
    ['another format version', JSON.stringify({ ...base, scenario: 2, steps: [] }), /scenario: expected 1/],
    ['an unknown op', withSteps([{ op: 'vm.destroy', vm: 'a' }]), /steps\[0\]\.op: expected a known op/],
    ['an unknown field', withSteps([{ op: 'vm.create', vm: 'a', color: 'red' }]), /steps\[0\]: .*color/i],
    [
      'a number beyond 2^64',
      withSteps([{ op: 'rmp.query', pfn: '0x10000000000000000' }]),
      /steps\[0\]\.pfn: .*beyond 2\^53/,
    ],
    ['a huge JSON number', withSteps([{ op: 'rmp.query', pfn: 1e30 }]), /steps\[0\]\.pfn: .*beyond 2\^53/],
    [
      'a policy beyond 64 bits',
      withSteps([{ op: 'snp.launch_start', vm: 'a', policy: '0x1ffffffffffffffff' }]),
      /steps\[0\]\.policy: .*64 bits/,
    ],
    [
      'a bad size',
      withSteps([{ op: 'rmp.query', pfn: '4 KiB' }]),
      /steps\[0\]\.pfn: expected an integer, a "0x…" hex string or a size/,
    ],
    [
      'odd hex data',
      withSteps([{ op: 'hv.write', vm: 'a', hva: 0, data: 'abc' }]),
      /steps\[0\]\.data: expected an even number of hex digits/,
    ],
  ])('%s', async (_, input, message) => {
    const { status, stderr, stdout } = await snpRef(['run', '-'], { stdin: input });
    expect(status).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
    expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('lists every problem, not just the first', async () => {
    const { stderr } = await snpRef(['run', '-'], {
      stdin: JSON.stringify({
        scenario: 1,
        host: { pages: 'x' },
        steps: [{ op: 'nope' }, { op: 'rmp.query' }],
      }),
    });
    expect(stderr.trim().split('\n')).toEqual([
      'snp-ref: -: not a scenario (its format: snp-ref schema)',
      expect.stringMatching(/^snp-ref: -: host\.pages: /),
      expect.stringMatching(/^snp-ref: -: steps\[0\]\.op: /),
      expect.stringMatching(/^snp-ref: -: steps\[1\]/),
    ]);
  });

  it('names a file it cannot read', async () => {
    expect(await snpRef(['run', '/no/such/scenario.json'])).toMatchObject({
      status: 2,
      stderr: 'snp-ref: /no/such/scenario.json: cannot read (ENOENT)\n',
    });
  });
});

describe('snp-ref commands', () => {
  it('prints the scenario format as a JSON Schema draft 2020-12', async () => {
    const schema = JSON.parse((await snpRef(['schema'])).stdout);
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(JSON.stringify(schema)).toContain('snp.launch_update');
  });

  it('measures a plan, as hex and as JSON with per-op digests', async () => {
    const plan = join(
      import.meta.dirname,
      '../../../packages/psp-firmware/test/vectors/launch-digest/plans/single-zero.json',
    );
    expect((await snpRef(['measure', '--plan', plan])).stdout).toBe(
      '4472405c6dbc65e5629805f2be1b3df74eb119841eff12466c24f43e67083c23df5e645b2742b6d9aa0f943e095cebaa\n',
    );
    expect(JSON.parse((await snpRef(['measure', '--plan', plan, '--json'])).stdout)).toMatchObject({
      name: 'single-zero',
      steps: [{ op: 'zero', gpa: '0x800000' }],
    });
    expect(
      await snpRef(['measure', '--plan', '-'], {
        stdin: JSON.stringify({ name: 'p', seed: 's', ops: [{ op: 'zero', gpa: '0x10' }] }),
      }),
    ).toMatchObject({
      status: 2,
      stderr: 'snp-ref: -: ops[0].gpa: 0x10 is not 4 KiB aligned\n',
    });
  });

  it('draws its progress on stderr only when that is a terminal and the run is long, and clears the line after', async () => {
    const plans = mkdtempSync(join(tmpdir(), 'snp-ref-progress-'));
    const short = join(
      import.meta.dirname,
      '../../../packages/psp-firmware/test/vectors/launch-digest/plans/single-zero.json',
    );
    // 300,000 ZERO pages: a PAGE_INFO hash each, well over the tenth of a second before a first draw.
    const long = join(plans, 'long.json');
    writeFileSync(
      long,
      JSON.stringify({ name: 'long', seed: '', ops: [{ op: 'zero', gpa: '0x0', pages: 300_000 }] }),
    );
    expect((await snpRef(['measure', '--plan', long])).stderr).toBe('');
    expect((await snpRef(['measure', '--plan', short], { tty: true })).stderr).toBe('');
    expect((await snpRef(['measure', '--plan', long], { tty: true })).stderr).toBe(
      '\r\x1b[2Kmeasuring: 300000/300000 pages (100 %)\r\x1b[2K',
    );
  });

  it('reads files outside the scenario only under --allow-read directories, the flag given once per list or again', async () => {
    const [scenarios, a, b] = ['scenario', 'a', 'b'].map((d) =>
      mkdtempSync(join(tmpdir(), `snp-ref-allow-${d}-`)),
    );
    writeFileSync(join(a as string, 'one'), 'from a');
    writeFileSync(join(b as string, 'two'), 'from b');
    const scenario = join(scenarios as string, 'two-dirs.json');
    const fill = (hva: string, pfn: number, file: string) => [
      { op: 'mmap', vm: 'g', hva, pfn, pages: 1, fill: { file, offset: 0 } },
      { op: 'hv.read', vm: 'g', hva, len: 6 },
    ];
    writeFileSync(
      scenario,
      JSON.stringify({
        scenario: 1,
        host: { pages: 8 },
        steps: [
          { op: 'vm.create', vm: 'g' },
          ...fill('0x10000', 1, join(a as string, 'one')),
          ...fill('0x20000', 2, join(b as string, 'two')),
        ],
      }),
    );
    const reads = async (...allow: string[]) => {
      const { status, stdout } = await snpRef(['run', scenario, ...allow]);
      expect(status).toBe(0);
      return (JSON.parse(stdout).steps as { ok: boolean; data?: string }[]).map((step) =>
        step.data === undefined ? step.ok : Buffer.from(step.data, 'hex').toString(),
      );
    };
    const both = [true, true, 'from a', true, 'from b'];
    expect(await reads('--allow-read', a as string, '--allow-read', b as string)).toEqual(both);
    expect(await reads('--allow-read', [a, b].join(delimiter))).toEqual(both);
    expect((await reads('--allow-read', b as string)).slice(1, 2)).toEqual([false]);
  });

  it('writes the trace as ftrace text or Perfetto JSON', async () => {
    const scenario = join(import.meta.dirname, '../examples/06-rmpupdate-clears-validated.json');
    const out = join(mkdtempSync(join(tmpdir(), 'snp-ref-')), 'trace');
    expect((await snpRef(['run', scenario, '--trace', 'ftrace', '--trace-out', `${out}.txt`])).status).toBe(
      0,
    );
    expect(readFileSync(`${out}.txt`, 'utf8')).toMatch(
      /hv-\d+ +\[000\] \.{5} +[\d.]+: rmpupdate: pfn=0x101 ret=SUCCESS/,
    );
    expect(
      (await snpRef(['run', scenario, '--trace', 'perfetto', '--trace-out', `${out}.json`])).status,
    ).toBe(0);
    expect(JSON.parse(readFileSync(`${out}.json`, 'utf8')).traceEvents.length).toBeGreaterThan(0);
  });

  it('prints the step table in text form, the RMP as a table, help and version', async () => {
    const scenario = join(import.meta.dirname, '../examples/02-same-page-two-guests.json');
    expect((await snpRef(['run', scenario, '--format', 'text'])).stdout).toMatch(/9 +guest\.read +NPF/);
    expect((await snpRef(['rmp', '--scenario', scenario])).stdout).toMatch(
      /0x100 +\[A=1 PS=4K IMM=0 GPA=0x5000 ASID=2/,
    );
    expect((await snpRef(['run', '--help'])).stdout).toMatch(/--trace-out/);
    // Pointers a user of the installed tool can follow.
    const help = (await snpRef(['--help'])).stdout;
    expect(help).toMatch(
      /run \[file\] +Run a scenario \(format: snp-ref schema; packages\/scenario\/README\.md\)/,
    );
    expect(help).not.toMatch(/\.\.\/shared/);
    expect((await snpRef(['--version'])).stdout).toMatch(/^snp-ref\/\d+\.\d+\.\d+/);
  });

  it("tells the demo at a glance: b survives a's failed launch only with the reviewed ABI, and what upstream does", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'snp-ref-'));
    const out = join(dir, 'demo.json');
    const { status, stdout } = await snpRef(['demo', '--trace-out', out]);
    expect(status).toBe(0);
    // npm start prints this and snp-conform's summary: both at a glance.
    expect(stdout.split('\n').length).toBeLessThan(42);
    expect(stdout).toMatch(/^Guest b is launched/m); // the scenario's description
    expect(stdout).toMatch(
      /^ 12 +snp\.launch_update +EIO INVALID_PAGE_STATE +1 page, SNP_LAUNCH_UPDATE of pfn 0x101 failed$/m,
    );
    // Only the steps that differ, the ABIs side by side, with the entry b's page has in each.
    expect(stdout).toMatch(/^2 steps of 17 end differently/m);
    expect(stdout).toMatch(
      /^ 13 +rmp\.query pfn 0x104 +\[A=1 PS=4K IMM=0 GPA=0x0 ASID=1 VMSA=0 V=1\] +\[A=0 PS=4K IMM=0 GPA=0x0 ASID=0 VMSA=0 V=0\]$/m,
    );
    expect(stdout).toMatch(/^ 14 +guest\.read gpa 0x0 +ok, data [0-9a-f]{16} +NPF$/m);
    expect(stdout).not.toMatch(/^ +15 /m);
    expect(stdout).toMatch(/^ {2}0x104 +\[A=1 .* ASID=1 .*\] +all zero \(hypervisor-owned\)$/m);
    // Upstream tells the same story with guest_memfd, point by point, each with what it does there.
    const upstream = stdout.slice(stdout.indexOf('\nupstream ('));
    expect(upstream).toMatch(/^upstream \(Linux ≥ 6\.11; examples\/demo-upstream\.json\)/m);
    expect(upstream).toMatch(
      /^ 16 +snp\.launch_update gpa 0x0 +ok, 1 page; stopped at gpa 0x1000 \(pfn 0x301\) by the firmware: INVALID_PAGE_STATE \(unreported: the call returns 0\)$/m,
    );
    expect(upstream).toMatch(/^ +# the firmware refuses a's 2nd page: only that page is reclaimed/m);
    expect(upstream).toMatch(
      /^ 17 +rmp\.query pfn 0x104 +\[A=0 .* ASID=0 .*\]\n +# b's source page never changes owner/m,
    );
    expect(upstream).toMatch(/^ 18 +guest\.read gpa 0x0 +ok, data [0-9a-f]{16}$/m);
    expect(upstream).toMatch(/^ 19 +memslot\.set gpa 0x80000000 +EINVAL\n.*kvm->slots_lock/m);
    expect(upstream).toMatch(/^ 21 +guest\.read gpa 0x1000 +#VC$/m);
    expect(stdout).toMatch(/^VMs after each run: b asid 1 RUNNING, a asid 2 LAUNCH$/m);
    // One map: a title, a panel per ABI.
    const svg = readFileSync(join(dir, 'demo.rmp.svg'), 'utf8');
    expect(svg).toContain('The RMP after the demo, with each KVM ABI');
    expect(svg.match(/>KVM ABI: (\w+)<\/text>/g)).toEqual([
      '>KVM ABI: reviewed</text>',
      '>KVM ABI: v4</text>',
      '>KVM ABI: upstream</text>',
    ]);
    // One Perfetto trace, a track per ABI and actor.
    const trace = JSON.parse(readFileSync(out, 'utf8')).traceEvents as { args: { name?: string } }[];
    expect(trace.length).toBeGreaterThan(10);
    expect(trace.map((e) => e.args.name)).toEqual(
      expect.arrayContaining(['reviewed:kvm', 'v4:kvm', 'upstream:kvm', 'upstream:psp:launch_update']),
    );
    const json = JSON.parse((await snpRef(['demo', '--trace-out', out, '--json'])).stdout);
    expect(json).toMatchObject({
      abis: ['reviewed', 'v4'],
      steps: 17,
      differingSteps: [
        { i: 13, op: 'rmp.query', reviewed: { entry: { asid: 1 } }, v4: { entry: { assigned: false } } },
        { i: 14, op: 'guest.read', reviewed: { ok: true }, v4: { fault: 'NPF' } },
      ],
      differingEntries: [
        { pfn: '0x101', reviewed: null, v4: { asid: 2, immutable: true } },
        { pfn: '0x104', reviewed: { asid: 1, validated: true }, v4: null },
      ],
      upstream: {
        abi: 'upstream',
        steps: 22,
        story: [
          { i: 16, op: 'snp.launch_update', ok: true, pages: 1, next: { gpa: '0x1000' } },
          { i: 17, op: 'rmp.query', entry: { assigned: false } },
          { i: 18, op: 'guest.read', ok: true },
          { i: 19, op: 'memslot.set', errno: 'EINVAL', check: 'set_user_memory_region.gmem_immutable' },
          { i: 21, op: 'guest.read', fault: '#VC' },
        ],
        vms: { b: { state: 'RUNNING' }, a: { state: 'LAUNCH' } },
      },
      map: join(dir, 'demo.rmp.svg'),
      trace: out,
    });
    // What upstream's notes say: a's first page stays private and the refused one is given back;
    // b's source page stays the host's.
    expect(json.upstream.rmp).toMatchObject({ '0x300': { asid: 2, gpa: '0x0', validated: true } });
    expect(json.upstream.rmp['0x301']).toBeUndefined();
    expect(json.upstream.rmp['0x104']).toBeUndefined();
  });

  it("prints the RMP as JSON: the rmp object of run's result, entries by pfn", async () => {
    const scenario = join(import.meta.dirname, '../examples/02-same-page-two-guests.json');
    const rmp = JSON.parse((await snpRef(['rmp', '--scenario', scenario, '--json'])).stdout);
    expect(rmp).toEqual(JSON.parse((await snpRef(['run', scenario])).stdout).rmp);
    expect(rmp['0x100']).toEqual({
      assigned: true,
      asid: 2,
      gpa: '0x5000',
      pageSize: '4K',
      immutable: false,
      validated: true,
      vmsa: false,
    });
  });

  it('prints a fuzz campaign, its failure and a replay as JSON, and counts in words: 1 sequence', async () => {
    const out = mkdtempSync(join(tmpdir(), 'snp-ref-fuzz-'));
    expect((await snpRef(['fuzz', '--runs', '1', '--steps', '1'])).stdout).toMatch(
      /^ok: 1 sequence, \d+ steps, 0 fault injections armed, 0 failed steps; every invariant held/,
    );
    const ok = await snpRef(['fuzz', '--runs', '3', '--json']);
    expect(ok.status).toBe(0);
    expect(Object.keys(JSON.parse(ok.stdout))).toEqual([
      'ok',
      'sequences',
      'steps',
      'injected',
      'failedSteps',
    ]);
    const failed = await snpRef(['fuzz', '--self-test', '--runs', '50', '--out', out, '--json']);
    expect(failed.status).toBe(1);
    const { failure } = JSON.parse(failed.stdout);
    expect(failure).toMatchObject({
      seed: expect.any(Number),
      step: expect.any(Number),
      rule: expect.any(String),
    });
    expect(failure.scenario).toBe(join(out, `fuzz-failure-${failure.seed}.json`));
    const replay = await snpRef(['fuzz', '--replay', failure.scenario, '--self-test', '--json']);
    expect(replay.status).toBe(1);
    expect(JSON.parse(replay.stdout)).toEqual({
      ok: false,
      step: expect.any(Number),
      rule: failure.rule,
      message: expect.any(String),
    });
  });

  it('reports what a scenario cannot do as step errors, never a crash', async () => {
    const steps = [
      { op: 'vm.create', vm: 'a' },
      { op: 'mmap', vm: 'a', hva: '0x10000', pfn: 0, pages: 2, fill: 'zero' },
      { op: 'guest.read', vm: 'a', gpa: '0xff8', len: 16 },
      { op: 'hv.read', vm: 'a', hva: '0x10000', len: '0x10000000000' },
      { op: 'mmap', vm: 'a', hva: 0, pfn: 0, pages: '0x2000000' },
      { op: 'rmp.query', pfn: '0x100000' },
      {
        op: 'hv.rmpupdate',
        pfn: '0x100000',
        entry: { assigned: false, asid: 0, gpa: 0, pageSize: '4K', immutable: false },
      },
    ];
    const { status, stdout } = await snpRef(['run', '-'], { stdin: withSteps(steps) });
    expect(status).toBe(0);
    expect(
      JSON.parse(stdout)
        .steps.slice(2)
        .map((s: { errno?: string }) => s.errno),
    ).toEqual(['EINVAL', 'EINVAL', 'EINVAL', 'EINVAL', 'EINVAL']);
  });
});

describe('the bundle snp-ref starts from', () => {
  // nx builds it before these tests (the test target depends on bundle), as npm ci does for users.
  it('prints what the TypeScript sources print', () => {
    const args = [...measureOvmfArgs('/usr/share/ovmf/OVMF.fd'), '--json'];
    const bundled = execFileSync(process.execPath, [join(import.meta.dirname, '../dist/bin.js'), ...args], {
      encoding: 'utf8',
    });
    const fromSource = execFileSync(process.execPath, [bin, ...args], {
      encoding: 'utf8',
      env: { ...process.env, SNP_REF_FROM_SOURCE: '1' },
    });
    expect(bundled).toBe(fromSource);
    expect(JSON.parse(bundled).steps).toHaveLength(8);
  });
});

describe('determinism', () => {
  it('gives byte-identical output for the same scenario in two processes, trace included', () => {
    const scenario = join(import.meta.dirname, '../examples/demo.json');
    const [first, second] = [1, 2].map(() => snpRefProcess(['run', scenario, '--trace', 'perfetto']));
    expect(first?.status).toBe(0);
    expect(first?.stdout.length).toBeGreaterThan(10_000);
    expect(second?.stdout).toBe(first?.stdout);
    const fuzz = [1, 2].map(() => snpRefProcess(['fuzz', '--runs', '20', '--seed', '99']).stdout);
    expect(fuzz[1]).toBe(fuzz[0]);
  });
});
