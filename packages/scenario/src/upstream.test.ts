import { execFileSync } from 'node:child_process';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { vmsaPage } from '@snp-ref/kvm-svm';
import { encodeCpuidPage, LaunchDigest, PageType, SeededPages, VMSA_GPA } from '@snp-ref/psp-firmware';
import { describe, expect, it } from 'vitest';
import { scenarioFilesIn } from './files.js';
import { parseScenario } from './schema.js';
import { runScenario, type ScenarioResult } from './session.js';

// Every row of docs/spec-notes.md §3.3 (KVM_SEV_SNP_LAUNCH_UPDATE semantics) and §4 (its error
// path) that a scenario can express, on kvm.abi "upstream", step by step.

/** VM a: 8 source pages at hva 0x10000 (pfns 16…), guest_memfd g (pfns 256…) bound at gpa 0, gfns 0–3 private, launching. */
const SETUP = [
  { op: 'vm.create', vm: 'a' },
  { op: 'mmap', vm: 'a', hva: '0x10000', pfn: 16, pages: 8, fill: { seed: 'src' } },
  { op: 'gmem.create', vm: 'a', name: 'g', pfn: 256, pages: 8 },
  { op: 'memslot.set', vm: 'a', slot: 0, gpa: 0, hva: '0x10000', size: '32KiB', gmem: 'g' },
  { op: 'memory.attributes', vm: 'a', gpa: 0, size: '16KiB', private: true },
  { op: 'snp.launch_start', vm: 'a' },
];
const update = (gpa: number, pages: number, more: Record<string, unknown> = {}) => ({
  op: 'snp.launch_update',
  vm: 'a',
  hva: 0x10000 + gpa,
  gpa,
  len: pages * 4096,
  type: 'normal',
  ...more,
});

function run(
  steps: readonly Record<string, unknown>[],
  files?: ReturnType<typeof scenarioFilesIn>,
): ScenarioResult {
  const parsed = parseScenario({ scenario: 1, host: { pages: 1024 }, kvm: { abi: 'upstream' }, steps });
  if (!parsed.ok) throw new Error(`fixture: ${JSON.stringify(parsed.problems)}`);
  return runScenario(parsed.scenario, undefined, undefined, files);
}
const last = (steps: readonly Record<string, unknown>[]) => run(steps).steps.at(-1);
const eio = (check: string, innerErrno: string, fwError = 'SUCCESS') => ({
  ok: false,
  errno: 'EIO',
  check,
  innerErrno,
  fwError,
  pages: 0,
  why: { check, innerErrno, text: expect.stringContaining(`populate returned ${innerErrno}`) },
});
const seededPage = (seed: string, n: number) => {
  const pages = new SeededPages(seed);
  for (let i = 0; i < n; i++) pages.next();
  return pages.next();
};

describe('§3.3 KVM_SEV_SNP_LAUNCH_UPDATE semantics, upstream', () => {
  it.each([
    [
      'no LAUNCH_START yet',
      [...SETUP.slice(0, 5), update(0, 1)],
      { errno: 'EINVAL', check: 'launch_update.state' },
    ],
    [
      'len 0 (refused since the fix after 6.11)',
      [...SETUP, update(0, 0)],
      { errno: 'EINVAL', check: 'launch_update.len' },
    ],
    [
      'after LAUNCH_FINISH: only the context is checked, the firmware refuses the finished guest',
      [...SETUP, update(0, 1), { op: 'snp.launch_finish', vm: 'a' }, update(0x1000, 1)],
      eio('launch_update.populate_firmware', 'EIO', 'INVALID_GUEST_STATE'),
    ],
    [
      'len not page aligned',
      [...SETUP, update(0, 1, { len: 100 })],
      { errno: 'EINVAL', check: 'launch_update.len' },
    ],
    [
      'type not 1/3/4/5/6 (vmsa)',
      [...SETUP, update(0, 1, { type: 'vmsa' })],
      { errno: 'EINVAL', check: 'launch_update.type' },
    ],
    [
      'uaddr not page aligned',
      [...SETUP, update(0, 1, { hva: '0x10800' })],
      { errno: 'EINVAL', check: 'launch_update.hva' },
    ],
    [
      'no memslot at gfn_start',
      [...SETUP, update(0x10_0000, 1)],
      {
        errno: 'EINVAL',
        check: 'launch_update.no_gmem',
        why: { side: 'kernel', rule: expect.stringContaining('kvm->slots_lock') },
      },
    ],
    [
      'a memslot without guest_memfd at gfn_start',
      [
        ...SETUP,
        { op: 'memslot.set', vm: 'a', slot: 1, gpa: '0x100000', hva: '0x10000', size: '4KiB' },
        update(0x10_0000, 1, { hva: '0x10000' }),
      ],
      { errno: 'EINVAL', check: 'launch_update.no_gmem' },
    ],
    [
      'a gfn not private: EINVAL inside, EIO outside, error 0',
      [...SETUP, update(0x4000, 1)],
      eio('launch_update.populate_not_private', 'EINVAL'),
    ],
    [
      'a page assigned in the RMP: EEXIST inside, EIO outside',
      [
        ...SETUP,
        {
          op: 'hv.rmpupdate',
          pfn: 256,
          entry: { assigned: true, asid: 2, gpa: 0, pageSize: '4K', immutable: false },
        },
        update(0, 1),
      ],
      eio('launch_update.populate_assigned', 'EEXIST'),
    ],
    [
      'a guest_memfd page populated before: EEXIST inside',
      [...SETUP, update(0, 1), update(0, 1)],
      eio('launch_update.populate_prepared', 'EEXIST'),
    ],
    [
      'type ZERO: uaddr ignored (not even aligned), not advanced',
      [...SETUP, update(0, 2, { type: 'zero', hva: '0x123' })],
      { ok: true, pages: 2, next: { gpa: '0x2000', hva: '0x123', len: 0 } },
    ],
    [
      'the range clipped at the end of the memslot',
      [
        ...SETUP,
        { op: 'memory.attributes', vm: 'a', gpa: 0, size: '32KiB', private: true },
        update(0x6000, 4),
      ],
      { ok: true, pages: 2, next: { gpa: '0x8000', hva: '0x18000', len: 8192 } },
    ],
    [
      'progress: done pages written back, the rest left for the next call',
      [...SETUP, update(0x2000, 4)],
      {
        ok: true,
        pages: 2,
        next: { gpa: '0x4000', hva: '0x14000', len: 8192 },
        stopped: { check: 'launch_update.populate_not_private', gpa: '0x4000', innerErrno: 'EINVAL' },
      },
    ],
    [
      'errors: the firmware refuses the first page: EIO with its status',
      [
        ...SETUP,
        { op: 'inject', at: 'psp.launch_update', nth: 1, error: 'INVALID_PAGE_OWNER' },
        update(0, 2),
      ],
      { ...eio('launch_update.populate_firmware', 'EIO', 'INVALID_PAGE_OWNER'), why: { side: 'firmware' } },
    ],
  ] as const)('%s', (_, steps, expected) => {
    expect(last(steps)).toMatchObject(expected);
  });

  it('a caller looping on `next` until len is 0 populates the whole range, one measured page each', () => {
    const steps: Record<string, unknown>[] = [
      ...SETUP,
      { op: 'inject', at: 'psp.launch_update', nth: 2, error: 'INVALID_PAGE_STATE' },
      update(0, 4),
    ];
    const first = run(steps).steps.at(-1);
    expect(first).toMatchObject({ ok: true, pages: 1, next: { gpa: '0x1000', hva: '0x11000', len: 12288 } });
    const next = (first?.ok === true && first.next) || { gpa: 0, hva: 0, len: 0 };
    const result = run([...steps, { op: 'snp.launch_update', vm: 'a', type: 'normal', ...next }]);
    expect(result.steps.at(-1)).toMatchObject({ ok: true, pages: 3, next: { len: 0 } });
    const expected = new LaunchDigest();
    for (let i = 0; i < 4; i++) expected.update(PageType.NORMAL, i * 4096, seededPage('src', i));
    expect(result.vms.a?.measurement).toBe(expected.hex());
  });
});

describe('§4 the upstream LAUNCH_UPDATE error path', () => {
  const assigned = (r: ScenarioResult) => Object.keys(r.rmp);

  it('step 2: a failed copy of the source page (EFAULT inside) changes nothing', () => {
    const r = run([...SETUP, { op: 'inject', at: 'copy_from_user', nth: 2 }, update(0, 1)]);
    expect(r.steps.at(-1)).toMatchObject(eio('launch_update.populate_copy', 'EFAULT'));
    expect(assigned(r).filter((pfn) => Number(pfn) < 0x300)).toEqual([]);
  });

  it('step 3: a failed rmp_make_private (EFAULT inside) with its return code', () => {
    const r = run([...SETUP, { op: 'inject', at: 'rmpupdate', nth: 1, error: 'FAIL_INUSE' }, update(0, 1)]);
    expect(r.steps.at(-1)).toMatchObject({
      ...eio('launch_update.populate_rmpupdate', 'EFAULT'),
      rmpRet: 'FAIL_INUSE',
    });
  });

  it('step 5: a firmware refusal gives back that page only; pages done before stay private and measured', () => {
    const r = run([
      ...SETUP,
      { op: 'inject', at: 'psp.launch_update', nth: 3, error: 'INVALID_PAGE_STATE' },
      update(0, 4),
    ]);
    expect(r.steps.at(-1)).toMatchObject({
      ok: true,
      pages: 2,
      stopped: { check: 'launch_update.populate_firmware', side: 'firmware', fwError: 'INVALID_PAGE_STATE' },
    });
    expect(r.rmp['0x100']).toMatchObject({ assigned: true, gpa: '0x0', validated: true });
    expect(r.rmp['0x101']).toMatchObject({ assigned: true, gpa: '0x1000', validated: true });
    expect(r.rmp['0x102']).toBeUndefined(); // reclaimed: hypervisor-owned again
    expect(assigned(r).filter((pfn) => Number(pfn) >= 0x10 && Number(pfn) < 0x18)).toEqual([]); // the source never converted
  });

  it('step 5: a CPUID page the firmware corrects is copied back to the source', () => {
    const wrong = {
      eaxIn: 0,
      ecxIn: 0,
      xcr0In: 0n,
      xssIn: 0n,
      eax: 0x30,
      ebx: 0x6874_7541,
      ecx: 0x444d_4163,
      edx: 0x6974_6e65,
    };
    const r = run([
      ...SETUP,
      {
        op: 'hv.write',
        vm: 'a',
        hva: '0x10000',
        data: Buffer.from(encodeCpuidPage([wrong])).toString('hex'),
      },
      update(0, 1, { type: 'cpuid' }),
      { op: 'hv.read', vm: 'a', hva: '0x10028', len: 4 }, // entry 0's eax
    ]);
    expect(r.steps.at(-2)).toMatchObject(eio('launch_update.populate_firmware', 'EIO', 'INVALID_PARAM'));
    expect(r.steps.at(-1)).toMatchObject({ ok: true, data: '10000000' }); // eax 0x30 & the platform's 0x10
  });
});

describe('LAUNCH_FINISH with the vm.create vmsa profile', () => {
  it('measures the VMSAs built from the vCPU state, as snp-ref measure does', () => {
    const vmsa = { vmm: 'QEMU', vcpuType: 'EPYC-v4', apResetEip: '0xfffff0c0' };
    const r = run([
      { op: 'vm.create', vm: 'a', vcpus: 2, vmsa },
      { op: 'snp.launch_start', vm: 'a' },
      { op: 'snp.launch_finish', vm: 'a' },
    ]);
    const profile = {
      vmmType: 'qemu',
      vcpuSignature: 0x800f12,
      guestFeatures: 1n,
      apResetEip: 0xfffff0c0,
    } as const;
    const expected = new LaunchDigest();
    for (const vcpu of [0, 1]) expected.update(PageType.VMSA, VMSA_GPA, vmsaPage(profile, vcpu));
    expect(r.vms.a?.measurement).toBe(expected.hex());
  });

  it('refuses a QEMU profile without the vCPU signature, naming the path', () => {
    const parsed = parseScenario({
      scenario: 1,
      host: { pages: 8 },
      steps: [{ op: 'vm.create', vm: 'a', vmsa: { vmm: 'QEMU' } }],
    });
    expect(parsed).toMatchObject({
      ok: false,
      problems: [{ path: 'steps[0].vmsa', message: expect.stringContaining('vcpuType') }],
    });
  });
});

describe('mmap filled from a file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'snp-ref-scenario-'));
  writeFileSync(join(dir, 'image.bin'), Buffer.from('0123456789'));
  const steps = (file: string) => [
    { op: 'vm.create', vm: 'a' },
    { op: 'mmap', vm: 'a', hva: '0x10000', pfn: 16, pages: 2, fill: { file, offset: 2 } },
    { op: 'hv.read', vm: 'a', hva: '0x10000', len: 10 },
  ];

  it('writes the bytes from the offset, zero past the end, the path relative to the scenario', () => {
    expect(run(steps('image.bin'), scenarioFilesIn(dir)).steps.at(-1)).toMatchObject({
      ok: true,
      data: '32333435363738390000',
    });
  });

  it("reads nothing outside the scenario's directory (symbolic links followed) unless that directory is allowed", () => {
    const outside = mkdtempSync(join(tmpdir(), 'snp-ref-outside-'));
    writeFileSync(join(outside, 'secret'), 'not for the guest');
    symlinkSync(join(outside, 'secret'), join(dir, 'link'));
    for (const file of [join(outside, 'secret'), `../${basename(outside)}/secret`, 'link']) {
      expect(run(steps(file), scenarioFilesIn(dir)).steps[1]).toMatchObject({
        ok: false,
        errno: 'EINVAL',
        message: expect.stringContaining(`${file} is outside the scenario's directory`),
      });
      expect(run(steps(file), scenarioFilesIn(dir, [outside])).steps.at(-1)).toMatchObject({
        ok: true,
        data: Buffer.from('t for the ').toString('hex'), // from offset 2
      });
    }
  });

  it('refuses a FIFO at once (no open that waits for a writer) and reads zeros from an offset past 2^53', () => {
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    expect(run(steps('fifo'), scenarioFilesIn(dir)).steps[1]).toMatchObject({
      ok: false,
      message: expect.stringContaining('fifo is not a regular file'),
    });
    const far = [
      { op: 'vm.create', vm: 'a' },
      {
        op: 'mmap',
        vm: 'a',
        hva: '0x10000',
        pfn: 16,
        pages: 300,
        fill: { file: 'image.bin', offset: 2 ** 53 - 2 },
      },
      { op: 'hv.read', vm: 'a', hva: '0x13a000', len: 4 },
    ];
    expect(run(far, scenarioFilesIn(dir)).steps.at(-1)).toMatchObject({ ok: true, data: '00000000' });
  });

  it('a scenario without a directory of its own (stdin) reads only where it is allowed', () => {
    expect(run(steps('image.bin'), scenarioFilesIn(dir, [], false)).steps[1]).toMatchObject({
      ok: false,
      message: expect.stringContaining('image.bin is outside the directories allowed'),
    });
    expect(run(steps('image.bin'), scenarioFilesIn(dir, [dir], false)).steps.at(-1)).toMatchObject({
      ok: true,
    });
  });

  it('refuses a missing file, a directory, or any file when the run reads none, mapping nothing', () => {
    for (const [file, files, message] of [
      ['missing.bin', scenarioFilesIn(dir), 'cannot open missing.bin: ENOENT'],
      ['.', scenarioFilesIn(dir), '. is not a regular file'],
      ['image.bin', undefined, 'this run reads no files'],
    ] as const) {
      const r = run(steps(file), files);
      expect(r.steps[1]).toMatchObject({
        ok: false,
        errno: 'EINVAL',
        message: expect.stringContaining(message),
      });
      expect(r.steps[2]).toMatchObject({ ok: false, errno: 'EFAULT' });
    }
  });
});
