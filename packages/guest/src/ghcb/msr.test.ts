import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodePscRequest,
  decodePscResponse,
  decodeTermRequest,
  encodePscRequest,
  encodePscResponse,
  encodeTermRequest,
  GhcbMsrError,
} from './msr.js';

const gfn = fc.integer({ min: 0, max: 2 ** 40 - 1 });
const operation = fc.constantFrom('private' as const, 'shared' as const);

describe('GHCB MSR protocol', () => {
  it('round-trips PSC requests, responses and termination requests', () => {
    fc.assert(
      fc.property(gfn, operation, fc.nat(2 ** 32 - 1), fc.nat(15), fc.nat(255), (g, op, error, set, code) => {
        expect(decodePscRequest(encodePscRequest(g, op))).toEqual({ gfn: g, operation: op });
        expect(decodePscResponse(encodePscResponse(error))).toEqual({ error });
        expect(decodeTermRequest(encodeTermRequest(set, code))).toEqual({ reasonSet: set, reasonCode: code });
      }),
    );
  });

  it('lays a PSC request out as the GHCB spec does: GFN 51:12, operation 55:52, GHCBInfo 0x014', () => {
    expect(encodePscRequest(0x12345, 'shared')).toBe(0x0020_0000_1234_5014n);
    expect(encodeTermRequest(1, 2)).toBe(0x2_1100n);
  });

  it('rejects any reserved bit, another GHCBInfo, or an unknown operation', () => {
    fc.assert(
      fc.property(gfn, operation, fc.integer({ min: 56, max: 63 }), (g, op, bit) => {
        expect(() => decodePscRequest(encodePscRequest(g, op) | (1n << BigInt(bit)))).toThrow(GhcbMsrError);
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 12, max: 31 }), (bit) => {
        expect(() => decodePscResponse(encodePscResponse(0) | (1n << BigInt(bit)))).toThrow('reserved');
      }),
    );
    expect(() => decodePscRequest((3n << 52n) | 0x014n)).toThrow(
      'PSC operation 3 is neither 1 (private) nor 2 (shared)',
    );
    expect(() => decodePscRequest(0x015n)).toThrow('is not a PSC request');
    expect(() => decodeTermRequest(encodeTermRequest(0, 0) | (1n << 30n))).toThrow('reserved');
  });
});
