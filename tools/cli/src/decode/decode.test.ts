import { encodePscRequest, encodeTermRequest } from '@snp-ref/guest';
import { decodePolicy } from '@snp-ref/psp-firmware';
import {
  encodeRmpEntry,
  encodeRmpReadOutput,
  MAX_ASID,
  type RmpEntry,
  type RmpReadOutput,
  VMPL_PERMS_ALL,
} from '@snp-ref/rmp-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { snpRef } from '../snpRefRun.js';
import { joinBits } from './bitfields.js';
import { type Decoded, DecodeError, decodeValue, decodeValues } from './decode.js';
import { KINDS } from './kinds.js';

const hex = (v: bigint | number) => `0x${v.toString(16)}`;
const field = (d: Decoded, name: string) => d.fields.find((f) => f.name === name)?.value;

describe(decodeValue, () => {
  it.each(Object.entries(KINDS))('%s: the fields tile every bit and join back to the value', (kind, k) => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << BigInt(k.width)) - 1n }), (value) => {
        const decoded = decodeValue(
          kind,
          k.width === 128 ? `[${hex(value & ((1n << 64n) - 1n))} - ${hex(value >> 64n)}]` : hex(value),
        );
        expect(decoded.value).toBe(value);
        expect(joinBits(decoded.fields)).toBe(value);
        const widths = decoded.fields
          .map((f) => f.bits.split(':').map(Number))
          .map(([hi = 0, lo = hi]) => hi - lo + 1);
        expect(widths.reduce((a, b) => a + b, 0)).toBe(k.width);
      }),
    );
  });

  it('reads the RMP entry rmp-core encodes, field by field, from raw bytes', () => {
    const entry = fc.record({
      assigned: fc.boolean(),
      pageSize: fc.constantFrom('4K' as const, '2M' as const),
      immutable: fc.boolean(),
      gpa: fc.integer({ min: 0, max: 2 ** 39 - 1 }).map((gfn) => gfn * 4096),
      asid: fc.integer({ min: 0, max: MAX_ASID }),
      vmsa: fc.boolean(),
      validated: fc.boolean(),
      vmplPerms: fc.tuple(
        ...[1, 2, 3].map(() => fc.integer({ min: 0, max: VMPL_PERMS_ALL })),
      ) as fc.Arbitrary<[number, number, number]>,
    }) satisfies fc.Arbitrary<RmpEntry>;
    fc.assert(
      fc.property(entry, (e) => {
        const d = decodeValue('rmp-entry', Buffer.from(encodeRmpEntry(e)).toString('hex'));
        expect({
          assigned: field(d, 'assigned') === 1n,
          pageSize: field(d, 'pagesize') === 1n ? '2M' : '4K',
          immutable: field(d, 'immutable') === 1n,
          gpa: Number((field(d, 'gpa') ?? 0n) << 12n),
          asid: Number(field(d, 'asid')),
          vmsa: field(d, 'vmsa') === 1n,
          validated: field(d, 'validated') === 1n,
          vmplPerms: ['vmpl1_perms', 'vmpl2_perms', 'vmpl3_perms'].map((n) => Number(field(d, n))),
        }).toEqual(e);
        expect(d.fields.filter((f) => f.reserved).every((f) => f.value === 0n)).toBe(true);
      }),
    );
  });

  it('reads the 16 bytes RMPREAD writes, as rmp-core encodes them', () => {
    const output = fc.record({
      gpa: fc.integer({ min: 0, max: 2 ** 39 - 1 }).map((gfn) => gfn * 4096),
      assigned: fc.boolean(),
      pageSize: fc.constantFrom('4K' as const, '2M' as const),
      hpageRegionStatus: fc.boolean(),
      immutable: fc.boolean(),
      asid: fc.integer({ min: 0, max: MAX_ASID }),
    }) satisfies fc.Arbitrary<RmpReadOutput>;
    fc.assert(
      fc.property(output, (o) => {
        const d = decodeValue('rmpread', Buffer.from(encodeRmpReadOutput(o)).toString('hex'));
        expect({
          gpa: Number(field(d, 'gpa')),
          assigned: field(d, 'assigned') === 1n,
          pageSize: field(d, 'pagesize') === 1n ? '2M' : '4K',
          hpageRegionStatus: field(d, 'hpage_region_status') === 1n,
          immutable: field(d, 'immutable') === 1n,
          asid: Number(field(d, 'asid')),
        }).toEqual(o);
      }),
    );
  });

  it("reads the GHCB MSR values the guest's encoders write", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 40 - 1 }),
        fc.constantFrom('private' as const, 'shared' as const),
        (gfn, op) => {
          const d = decodeValue('ghcb-msr', hex(encodePscRequest(gfn, op)));
          expect(field(d, 'gfn')).toBe(BigInt(gfn));
          expect(d.fields.find((f) => f.name === 'operation')?.meaning).toBe(op.toUpperCase());
        },
      ),
    );
    const term = decodeValue('ghcb-msr', hex(encodeTermRequest(1, 2)));
    expect(term.fields.find((f) => f.name === 'reason_code')?.meaning).toBe('GHCB_TERM_PVALIDATE');
  });

  it('agrees with the firmware on the policy bits', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 26n) - 1n }), (policy) => {
        const d = decodeValue('policy', hex(policy));
        const p = decodePolicy(policy);
        expect([field(d, 'SMT') === 1n, field(d, 'DEBUG') === 1n, field(d, 'SINGLE_SOCKET') === 1n]).toEqual([
          p.smt,
          p.debug,
          p.singleSocket,
        ]);
        expect(Number(field(d, 'ABI_MAJOR'))).toBe(p.abiMajor);
      }),
    );
  });

  it('reads dmesg lines old and new, and raw bytes in memory order', () => {
    const [dmesg] = decodeValues(
      'rmp-entry',
      '[  42.1] SEV-SNP: PFN 0x1a2b, RMP entry: [0x4000000000205003 - 0x0000000000000000]',
    );
    const d = dmesg as Decoded;
    expect(d.pfn).toBe(0x1a2bn);
    expect([field(d, 'assigned'), field(d, 'gpa'), field(d, 'validated')]).toEqual([1n, 0x205n, 1n]);
    const { value } = d;
    expect(decodeValue('rmp-entry', '[0x4000000000205003 - 0x0]').value).toBe(value);
    expect(decodeValue('rmp-entry', 'high=0x0 low=0x4000000000205003').value).toBe(value);
    expect(
      decodeValues(
        'rmp-entry',
        'SEV-SNP: RMP entry for PFN 0x1a2b: [high=0x0000000000000000 low=0x4000000000205003]',
      ),
    ).toEqual([dmesg]);
    expect(decodeValue('rmp-entry', '03 50 20 00 00 00 00 40 00 00 00 00 00 00 00 00').value).toBe(value);
  });

  // What snp_leak_pages() and dump_rmpentry() print for an unassigned PFN (arch/x86/virt/svm/sev.c),
  // as a failed SEV-SNP firmware shutdown logs them.
  const header =
    'SEV-SNP: PFN 0x146805 unassigned, dumping non-zero entries in 2M PFN region: [0x146800 - 0x146a00]';
  const leak = 'SEV-SNP: Leaking PFN range 0x146800-0x146a00';

  it('reads every entry line of a pasted dmesg block, not the header or the leak warning around them', () => {
    const block = [
      leak,
      header,
      'SEV-SNP: PFN: 0x146801, [0x4000000000205003 - 0x0000000000000000]',
      'SEV-SNP: PFN: 0x146802, [0x4000000000206003 - 0x0000000000000000]',
    ].join('\n');
    expect(decodeValues('rmp-entry', block).map((d) => [d.pfn, field(d, 'gpa')])).toEqual([
      [0x146801n, 0x205n],
      [0x146802n, 0x206n],
    ]);
  });

  it.each([
    [
      header,
      /dump_rmpentry\(\)'s header for an unassigned PFN: the two numbers bound the PFNs of its 2 MiB region/,
    ],
    [leak, /snp_leak_pages\(\)'s warning: a range of PFNs/],
    ['SEV-SNP: RMP table physical range [0x0000000035600000 - 0x0000000075bfffff]', /the RMP table itself/],
    [
      `SEV-SNP: Segmented RMP using 64GB segments\nSEV-SNP: PFN 0x1a2b, RMP entry: [0x4000000000205003 - 0x0]`,
      /segmented RMP \(Zen 5 or later\).*not in the Zen 3\/4 layout.*with the kind rmpread/,
    ],
  ])('refuses what holds no Zen 3/4 RMP entry: %s', (text, message) => {
    expect(() => decodeValues('rmp-entry', text)).toThrow(DecodeError);
    expect(() => decodeValues('rmp-entry', text)).toThrow(message);
  });

  it.each([
    ['colour', '1', 'KIND: unknown kind "colour"'],
    ['policy', 'ten', 'VALUE: "ten" is not the 64-bit SNP guest policy'],
    ['rmpupdate', '0x100000000', 'does not fit in 32 bits'],
    ['rmp-entry', '0x1234', 'is not a raw 16-byte RMP entry of Zen 3/Zen 4'],
  ])('refuses %s %s', (kind, value, message) => {
    expect(() => decodeValue(kind, value)).toThrow(DecodeError);
    expect(() => decodeValue(kind, value)).toThrow(message);
  });
});

describe('snp-ref decode', () => {
  it('names every field, flags reserved bits that are set, and cites its source', async () => {
    const { status, stdout } = await snpRef(['decode', 'rmp-entry', '[0x4000000000001008', '-', '0x0]']);
    expect(status).toBe(0);
    expect(stdout).toMatch(
      /^source: the Zen 3\/4 layout \(PPR Family 19h Model 01h\): Linux arch\/x86\/virt\/svm\/sev\.c/m,
    );
    expect(stdout).toMatch(/^11:3 +reserved +0x1 +SET \(reserved bits must be zero\)$/m);
    expect(JSON.parse((await snpRef(['decode', 'fw-status', '0x16', '--json'])).stdout)).toMatchObject({
      fields: [{ name: 'code', value: '0x16', meaning: 'INVALID_PARAM' }],
    });
    expect((await snpRef(['decode'])).stdout).toMatch(/ghcb-msr +a GHCB MSR protocol value/);
    const block = `SEV-SNP: PFN 0x1149cc unassigned, dumping non-zero entries in 2M PFN region: [0x114800 - 0x114a00]
SEV-SNP: PFN: 0x114801, [0x4000000000205003 - 0x0000000000000000]
SEV-SNP: PFN: 0x114802, [0x4000000000206003 - 0x0000000000000000]`;
    const pasted = await snpRef(['decode', 'rmp-entry', block]);
    expect(pasted.stdout).toMatch(
      /^rmp-entry 0x4000000000205003 \(PFN 0x114801\): a raw 16-byte RMP entry of Zen 3\/Zen 4/,
    );
    expect(pasted.stdout).toMatch(/^rmp-entry 0x4000000000206003 \(PFN 0x114802\)/m);
    expect(JSON.parse((await snpRef(['decode', 'rmp-entry', block, '--json'])).stdout)).toMatchObject([
      { pfn: '0x114801', value: '0x4000000000205003' },
      { pfn: '0x114802', value: '0x4000000000206003' },
    ]);
    expect(await snpRef(['decode', 'rmp-entry', block.split('\n')[0] ?? ''])).toMatchObject({
      status: 2,
      stdout: '',
      stderr: expect.stringMatching(/^snp-ref: VALUE: this line is dump_rmpentry\(\)'s header/),
    });
    expect(await snpRef(['decode', 'policy'])).toMatchObject({
      status: 2,
      stderr: 'snp-ref: VALUE: what to decode as policy is missing\n',
    });
  });
});
