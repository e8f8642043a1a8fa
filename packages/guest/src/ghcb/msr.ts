/**
 * The GHCB MSR protocol (MSR 0xC0010130): GHCBInfo in bits 11:0, GHCBData above
 * (arch/x86/include/asm/sev-common.h; GHCB specification; docs/spec-notes.md §5.2). Values are
 * 64-bit, so bigint.
 */
export const GHCB_MSR = 0xc001_0130;

/**
 * The GHCBInfo codes (bits 11:0 of the MSR) this model speaks: page state change request and response,
 * termination request.
 */
export const GhcbInfo = {
  PSC_REQ: 0x014n,
  PSC_RESP: 0x015n,
  TERM_REQ: 0x100n,
} as const;

/** Page State Change operations (GHCB MSR PSC request bits 55:52). */
export const PscOperation = { PRIVATE: 1, SHARED: 2 } as const;
/** A page state change operation by name: make the page private or shared. */
export type PscOperationName = 'private' | 'shared';

const INFO_MASK = 0xfffn;
const GFN_MASK = (1n << 40n) - 1n;

/** A GHCB MSR value that is not the message it should be, or has reserved bits set. */
export class GhcbMsrError extends Error {
  override readonly name = 'GhcbMsrError';
  readonly code = 'GHCB_MSR_INVALID';
}

/** PSC request: GFN in 51:12, operation in 55:52, bits 63:56 reserved. */
export function encodePscRequest(gfn: number, operation: PscOperationName): bigint {
  const g = BigInt(gfn);
  if (!Number.isSafeInteger(gfn) || g < 0n || g > GFN_MASK)
    throw new GhcbMsrError(`PSC gfn 0x${gfn.toString(16)} does not fit in 40 bits`);
  const op = BigInt(operation === 'private' ? PscOperation.PRIVATE : PscOperation.SHARED);
  return (op << 52n) | (g << 12n) | GhcbInfo.PSC_REQ;
}

/**
 * Reads a page state change request written by the guest.
 * @param msr - The GHCB MSR value.
 * @returns The guest frame number and the operation asked for.
 * @throws GhcbMsrError when the value is not a PSC request, has reserved bits set or names an unknown
 * operation.
 */
export function decodePscRequest(msr: bigint): { gfn: number; operation: PscOperationName } {
  if ((msr & INFO_MASK) !== GhcbInfo.PSC_REQ)
    throw new GhcbMsrError(`GHCBInfo 0x${(msr & INFO_MASK).toString(16)} is not a PSC request (0x014)`);
  if (msr >> 56n !== 0n) throw new GhcbMsrError('PSC request bits 63:56 are reserved and must be zero');
  const op = Number((msr >> 52n) & 0xfn);
  if (op !== PscOperation.PRIVATE && op !== PscOperation.SHARED)
    throw new GhcbMsrError(`PSC operation ${op} is neither 1 (private) nor 2 (shared)`);
  return {
    gfn: Number((msr >> 12n) & GFN_MASK),
    operation: op === PscOperation.PRIVATE ? 'private' : 'shared',
  };
}

/** PSC response: error code in 63:32, 0 = success; bits 31:12 reserved. */
export function encodePscResponse(error: number): bigint {
  if (!Number.isInteger(error) || error < 0 || error > 0xffff_ffff)
    throw new GhcbMsrError(`PSC error ${error} does not fit in 32 bits`);
  return (BigInt(error) << 32n) | GhcbInfo.PSC_RESP;
}

/**
 * Reads the hypervisor's reply to a page state change request.
 * @param msr - The GHCB MSR value.
 * @returns The error code in bits 63:32 (0: done).
 * @throws GhcbMsrError when the value is not a PSC response or has reserved bits set.
 */
export function decodePscResponse(msr: bigint): { error: number } {
  if ((msr & INFO_MASK) !== GhcbInfo.PSC_RESP)
    throw new GhcbMsrError(`GHCBInfo 0x${(msr & INFO_MASK).toString(16)} is not a PSC response (0x015)`);
  if (((msr >> 12n) & 0xf_ffffn) !== 0n)
    throw new GhcbMsrError('PSC response bits 31:12 are reserved and must be zero');
  return { error: Number(msr >> 32n) };
}

/** KVM's generic PSC failure reply: bit 63 set (GHCB_MSR_PSC_RESP_ERROR, sev-common.h). */
export const PSC_RESP_ERROR = 0x8000_0000;

/** Termination reasons (sev-common.h): set 0 general, set 1 Linux. */
export const TermReason = {
  GENERAL: { set: 0, code: 0 },
  LINUX_PSC: { set: 1, code: 1 },
  LINUX_PVALIDATE: { set: 1, code: 2 },
} as const;

/** Termination request: reason set in 15:12, reason code in 23:16. */
export function encodeTermRequest(reasonSet: number, reasonCode: number): bigint {
  if (reasonSet < 0 || reasonSet > 0xf || reasonCode < 0 || reasonCode > 0xff) {
    throw new GhcbMsrError(
      `termination reason ${reasonSet}/${reasonCode} out of range (set 0..15, code 0..255)`,
    );
  }
  return (BigInt(reasonCode) << 16n) | (BigInt(reasonSet) << 12n) | GhcbInfo.TERM_REQ;
}

/**
 * Reads a termination request written by the guest.
 * @param msr - The GHCB MSR value.
 * @returns The reason set and reason code.
 * @throws GhcbMsrError when the value is not a termination request or has reserved bits set.
 */
export function decodeTermRequest(msr: bigint): { reasonSet: number; reasonCode: number } {
  if ((msr & INFO_MASK) !== GhcbInfo.TERM_REQ)
    throw new GhcbMsrError(
      `GHCBInfo 0x${(msr & INFO_MASK).toString(16)} is not a termination request (0x100)`,
    );
  if (msr >> 24n !== 0n)
    throw new GhcbMsrError('termination request bits 63:24 are reserved and must be zero');
  return { reasonSet: Number((msr >> 12n) & 0xfn), reasonCode: Number((msr >> 16n) & 0xffn) };
}
