// `snp-ref diff` of two SEV or SEV-ES measurement logs: region by region (the firmware, the kernel
// hashes table, each vCPU's VMSA), naming what differs inside each.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildOvmfImage } from '@snp-ref/psp-firmware/measure';
import { beforeAll, describe, expect, it } from 'vitest';
import { snpRefProcess } from '../snpRefProcess.js';
import { snpRef } from '../snpRefRun.js';

let dir: string;
const path = (name: string) => join(dir, name);

/** The entries of the hashes table: the flag QEMU loads each from, its A and B values (a file name, or the command line). */
const ENTRIES = {
  kernel: { flag: '--kernel', a: 'kernel-a', b: 'kernel-b' },
  initrd: { flag: '--initrd', a: 'initrd-a', b: 'initrd-b' },
  cmdline: { flag: '--append', a: 'console=ttyS0', b: 'console=ttyS1' },
} as const;
type Entry = keyof typeof ENTRIES;

/** `measure --mode MODE` of the synthetic image with the A inputs but those in `fromB`, logged to `name`. */
async function sevLog(name: string, mode: 'sev' | 'seves', fromB: readonly Entry[] = [], ...more: string[]) {
  const inputs = Object.entries(ENTRIES).flatMap(([entry, { flag, a, b }]) => {
    const value = fromB.includes(entry as Entry) ? b : a;
    return [flag, flag === '--append' ? value : path(value)];
  });
  const vcpus = mode === 'seves' ? ['--vcpus', '2', '--vcpu-type', 'EPYC-v4'] : [];
  const { status, stderr } = await snpRef([
    'measure',
    '--mode',
    mode,
    ...vcpus,
    '--ovmf',
    path('fw.fd'),
    ...inputs,
    ...more,
    '--log',
    path(name),
  ]);
  expect(status, stderr).toBe(0);
  return path(name);
}

const diff = (a: string, b: string, ...more: string[]) => snpRef(['diff', a, b, ...more]);
const image = (pages: number) =>
  buildOvmfImage({ seed: 'sev-diff', pages, sections: [], resetEip: 0xffff_f004, hashesTableGpa: 0x810c00 });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'snp-ref-sev-diff-'));
  // Debian's OVMF has no SEV hashes table; these images do. The small one is the firmware at another size.
  writeFileSync(path('fw.fd'), image(64));
  writeFileSync(path('small.fd'), image(32));
  for (const { a, b } of [ENTRIES.kernel, ENTRIES.initrd]) {
    writeFileSync(path(a), `${a} bytes`);
    writeFileSync(path(b), `${b} bytes`);
  }
});

describe('snp-ref diff of SEV and SEV-ES logs, region by region', () => {
  it('logs the hashes table entries: the SHA-256 of --kernel, --initrd and --append', async () => {
    const lines = readFileSync(await sevLog('entries.jsonl', 'seves'), 'utf8')
      .trimEnd()
      .split('\n');
    const table = JSON.parse(lines[1] ?? '{}');
    const sha256 = (bytes: string | Buffer) => createHash('sha256').update(bytes).digest('hex');
    expect(table).toMatchObject({
      mode: 'seves',
      kind: 'hashes-table',
      gpa: '0x810c00',
      hashes: {
        kernel: sha256(readFileSync(path(ENTRIES.kernel.a))),
        initrd: sha256(readFileSync(path(ENTRIES.initrd.a))),
        cmdline: sha256(`${ENTRIES.cmdline.a}\0`), // QEMU hashes the command line with its NUL
      },
    });
  });

  // Every combination of changed inputs: the diff names exactly the entries that changed.
  const entries = Object.keys(ENTRIES) as Entry[];
  const changes = [1, 2, 3, 4, 5, 6, 7].map((mask) => entries.filter((_, i) => mask & (1 << i)));
  it.each(changes.map((c) => [c.join(' and '), c] as const))(
    'names the hashes table entries that differ: %s',
    async (_, changed) => {
      const a = await sevLog('base.jsonl', 'sev');
      const b = await sevLog(`${changed.join('-')}.jsonl`, 'sev', changed);
      const { status, stdout } = await diff(a, b);
      expect(status).toBe(1);
      expect(stdout).toMatch(
        /^first difference: step 1 \(A\) \/ 1 \(B\): the kernel hashes table at gpa 0x810c00 has other contents \(SHA-256 [0-9a-f]{16}… vs [0-9a-f]{16}…\)$/m,
      );
      const named = [...stdout.matchAll(/^ {4}(\w+) +[0-9a-f]{16}… → [0-9a-f]{16}… +\((--\w+)\)$/gm)];
      expect(named.map((m) => [m[1], m[2]])).toEqual(changed.map((e) => [e, ENTRIES[e].flag]));
      expect(stdout).toMatch(/^2 regions matched by name; every digest after step 1 differs$/m);
    },
  );

  it('names the VMSA fields that differ and the host-kernel change behind them (--host-kernel)', async () => {
    const today = await sevLog('today.jsonl', 'seves');
    const k66 = await sevLog('k66.jsonl', 'seves', [], '--host-kernel', '6.6');
    // Through the binary: the same report a user gets.
    const { status, stdout } = snpRefProcess(['diff', k66, today]);
    expect(status).toBe(1);
    expect(stdout).toMatch(/^A: SEV-ES log .*k66\.jsonl — 4 measured regions, digest [0-9a-f]{64}$/m);
    expect(stdout).toMatch(
      /^first difference: step 2 \(A\) \/ 2 \(B\): the VMSA of vCPU 0 has other contents \(SHA-256 /m,
    );
    expect(stdout).toMatch(/^ {4}sev_features +0x20 → 0x0 +\(-DebugSwap\)$/m);
    expect(stdout).toMatch(
      /^ +host kernel 6\.6: d1f85fbe836e "KVM: SEV: Enable data breakpoints in SEV-ES"/m,
    );
    expect(stdout).toMatch(/^ {4}mxcsr +0x0 → 0x1f80$/m);
    expect(stdout).toMatch(
      /^ +host kernel 6\.10: 4f5defae7089 "KVM: SEV: introduce KVM_SEV_INIT2 operation"/m,
    );
    expect(stdout).toMatch(/^ {2}step 3 \(A\) \/ 3 \(B\): the VMSA of vCPU 1 has other contents/m);
    const json = JSON.parse((await diff(k66, today, '--json')).stdout);
    expect(json).toMatchObject({
      a: { kind: 'sev-log', regions: 4 },
      matched: 4,
      differences: [
        { kind: 'contents', region: 'VMSA of vCPU 0', type: 'vmsa', a: 2, b: 2 },
        { kind: 'contents', region: 'VMSA of vCPU 1', type: 'vmsa', a: 3, b: 3 },
      ],
    });
    expect(json.differences[0].vmsa).toContainEqual(
      expect.objectContaining({ field: 'sev_features', a: '0x20', b: '0x0' }),
    );
  });

  it('finds the VMSAs only SEV-ES measures, a firmware of another size, and no difference', async () => {
    const sev = await sevLog('sev.jsonl', 'sev');
    const seves = await sevLog('seves.jsonl', 'seves');
    expect((await diff(sev, seves)).stdout).toMatch(
      /^first difference: step 2 \(B\): B measures an extra VMSA of vCPU 0\n\nthen 1 more: 1 extra in B$/m,
    );
    const small = path('small.jsonl');
    await snpRef(['measure', '--mode', 'sev', '--ovmf', path('small.fd'), '--log', small]);
    const firmware = await snpRef([
      'measure',
      '--mode',
      'sev',
      '--ovmf',
      path('fw.fd'),
      '--log',
      path('fw.jsonl'),
    ]);
    expect(firmware.status).toBe(0);
    expect((await diff(small, path('fw.jsonl'))).stdout).toMatch(
      /^first difference: step 0 \(A\) \/ 0 \(B\): the firmware at gpa 0xfffe0000 has other contents.*\n {2}131072 bytes at gpa 0xfffe0000 in A, 262144 bytes at gpa 0xfffc0000 in B$/m,
    );
    expect(await diff(seves, seves)).toMatchObject({
      status: 0,
      stdout: expect.stringMatching(
        /^the same 4 regions, in the same order, with the same types and contents$/m,
      ),
    });
  });

  it('refuses to compare a SEV launch with an SNP one, and a malformed line: exit 2, named', async () => {
    const seves = await sevLog('refused.jsonl', 'seves');
    await snpRef([
      'measure',
      '--mode',
      'snp',
      '--vcpus',
      '1',
      '--vcpu-type',
      'EPYC-v4',
      '--ovmf',
      path('fw.fd'),
      '--log',
      path('snp.jsonl'),
    ]);
    const mixed = await diff(seves, path('snp.jsonl'));
    expect(mixed.status).toBe(2);
    expect(mixed.stderr).toMatch(
      /A \(SEV-ES log .*refused\.jsonl\) measures regions under one SHA-256, B \(log .*snp\.jsonl\) a PAGE_INFO chain of pages: diff compares two SNP launches, or two SEV or SEV-ES logs/,
    );
    const lines = readFileSync(seves, 'utf8').split('\n');
    writeFileSync(path('bad.jsonl'), [lines[0], '{"kind": "vmsa", "sha256": "00"}'].join('\n'));
    const bad = await diff(path('bad.jsonl'), seves);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/bad\.jsonl:2: expected a SEV or SEV-ES log line/);
  });

  it('refuses hostile lines with exit 2 and the line, never an internal error', async () => {
    const seves = await sevLog('hostile.jsonl', 'seves');
    const [first = '', ...rest] = readFileSync(seves, 'utf8').trim().split('\n');
    const line = JSON.parse(first) as Record<string, unknown>;
    const cases: [string, string, RegExp][] = [
      ['null line', [first, 'null'].join('\n'), /:2: not a JSON object/],
      [
        'inherited name in hashes',
        JSON.stringify({ ...line, hashes: { valueOf: 'x' } }),
        /:1: expected a SEV/,
      ],
      ['a mode that is no launch', JSON.stringify({ ...line, mode: 'constructor' }), /:1: expected a SEV/],
      ['a gpa past 2^53', JSON.stringify({ ...line, gpa: `0x${'f'.repeat(300)}` }), /:1: expected a SEV/],
      ['negative bytes', JSON.stringify({ ...line, bytes: -1 }), /:1: expected a SEV/],
      [
        'two modes',
        [first, ...rest.map((l) => l.replace('"seves"', '"sev"'))].join('\n'),
        /:2: mode sev after seves/,
      ],
    ];
    for (const [name, text, message] of cases) {
      writeFileSync(path('hostile-b.jsonl'), text);
      const result = await diff(path('hostile-b.jsonl'), seves);
      expect({ name, status: result.status }).toEqual({ name, status: 2 });
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/internal error/);
    }
  });
});
