import { encodePscRequest, encodeTermRequest } from '@snp-ref/guest';
import { decodePolicy } from '@snp-ref/psp-firmware';
import { encodeRmpEntry, MAX_ASID, type RmpEntry, VMPL_PERMS_ALL } from '@snp-ref/rmp-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { snpRef } from '../snpRefRun.js';
import { joinBits } from './bitfields.js';
import { type Decoded, DecodeError, decodeValue } from './decode.js';
import { KINDS } from './kinds.js';

const hex = (v: bigint | number) => `0x${v.toString(16)}`;
const field = (d: Decoded, name: string) => d.fields.find((f) => f.name === name)?.value;

describe(decodeValue, () => {
  it.each(Object.entries(KINDS))('%s: the fields tile every bit and join back to the value', (kind, k) => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << BigInt(k.width)) - 1n }), (value) => {
        const decoded = decodeValue(
          kind,
          kind === 'rmp-entry' ? `[${hex(value & ((1n << 64n) - 1n))} - ${hex(value >> 64n)}]` : hex(value),
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
    const dmesg = decodeValue(
      'rmp-entry',
      'SEV: PFN 0x1a2b, RMP entry: [0x4000000000205003 - 0x0000000000000000]',
    );
    expect([field(dmesg, 'assigned'), field(dmesg, 'gpa'), field(dmesg, 'validated')]).toEqual([
      1n,
      0x205n,
      1n,
    ]);
    expect(decodeValue('rmp-entry', 'high=0x0 low=0x4000000000205003').value).toBe(dmesg.value);
    expect(decodeValue('rmp-entry', '03 50 20 00 00 00 00 40 00 00 00 00 00 00 00 00').value).toBe(
      dmesg.value,
    );
  });

  it.each([
    ['colour', '1', 'KIND: unknown kind "colour"'],
    ['policy', 'ten', 'VALUE: "ten" is not the 64-bit SNP guest policy'],
    ['rmpupdate', '0x100000000', 'does not fit in 32 bits'],
    ['rmp-entry', '0x1234', 'is not a 16-byte RMP entry'],
  ])('refuses %s %s', (kind, value, message) => {
    expect(() => decodeValue(kind, value)).toThrow(DecodeError);
    expect(() => decodeValue(kind, value)).toThrow(message);
  });
});

describe('snp-ref decode', () => {
  it('names every field, flags reserved bits that are set, and cites its source', async () => {
    const { status, stdout } = await snpRef(['decode', 'rmp-entry', '[0x4000000000001008', '-', '0x0]']);
    expect(status).toBe(0);
    expect(stdout).toMatch(/^source: Linux arch\/x86\/virt\/svm\/sev\.c/m);
    expect(stdout).toMatch(/^11:3 +reserved +0x1 +SET \(reserved bits must be zero\)$/m);
    expect(JSON.parse((await snpRef(['decode', 'fw-status', '0x16', '--json'])).stdout)).toMatchObject({
      fields: [{ name: 'code', value: '0x16', meaning: 'INVALID_PARAM' }],
    });
    expect((await snpRef(['decode'])).stdout).toMatch(/ghcb-msr +a GHCB MSR protocol value/);
    expect(await snpRef(['decode', 'policy'])).toMatchObject({
      status: 2,
      stderr: 'snp-ref: VALUE: what to decode as policy is missing\n',
    });
  });
});
