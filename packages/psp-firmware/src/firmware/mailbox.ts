import { PAGE_SIZE } from '@snp-ref/rmp-core';
import { SnpCommand } from '../commands.js';
import { type FwStatus, fwStatus } from '../status.js';
import { refuse } from './checks.js';
import {
  IdAuthInfo,
  IdBlockBuffer,
  SnpActivate,
  SnpAddr,
  SnpGuestRequest,
  SnpGuestStatusArgs,
  SnpGuestStatusBuffer,
  SnpLaunchFinish,
  SnpLaunchStart,
  SnpLaunchUpdate,
  SnpPagePaddr,
  SnpPlatformStatusBuffer,
} from './commandBuffers.js';
import {
  ID_KEY_ALGO_ECDSA_P384_SHA384 as ALGO_ECDSA_P384_SHA384,
  decodeEcdsaPublicKey,
  decodeEcdsaSignature,
  type IdAuth,
} from './idAuth.js';
import type { SnpFirmware } from './snpFirmware.js';

/** The C-bit (encryption bit) of a system physical address: CPUID 0x8000001F EBX[5:0], 51 on EPYC. */
export const C_BIT = 51;
const PAGE_MASK = BigInt(PAGE_SIZE - 1);
const WITHOUT_C_BIT = ~(1n << BigInt(C_BIT));

const status = fwStatus;
const INVALID_PARAM = status('INVALID_PARAM');

/** A page frame from a command's physical address: the C-bit dropped, low 12 bits must be clear. */
function pfnOf(paddr: bigint): number | undefined {
  const address = paddr & WITHOUT_C_BIT;
  return (address & PAGE_MASK) === 0n ? Number(address >> 12n) : undefined;
}

/**
 * The firmware's mailbox: a command id and its command buffer, as the host driver hands them over
 * (sev_do_cmd in drivers/crypto/ccp/sev-dev.c), decoded byte for byte and run. Reserved bits and
 * unaligned addresses are INVALID_PARAM, an unknown id INVALID_COMMAND (AMD-ASPFW sev_dispatch.c);
 * a buffer of the wrong size is a LengthError naming the structure.
 */
export function runCommand(
  fw: SnpFirmware,
  command: number,
  buffer: Uint8Array = new Uint8Array(),
): FwStatus {
  switch (command) {
    case SnpCommand.SNP_INIT:
      return fw.snpInit();
    case SnpCommand.SNP_SHUTDOWN:
      return fw.snpShutdown();
    case SnpCommand.SNP_DF_FLUSH:
      return fw.dfFlush();
    case SnpCommand.SNP_PLATFORM_STATUS:
      return platformStatus(fw, buffer);
    case SnpCommand.SNP_GCTX_CREATE:
    case SnpCommand.SNP_DECOMMISSION: {
      const pfn = pfnOf(SnpAddr.decode(buffer).address);
      if (pfn === undefined) return INVALID_PARAM;
      return command === SnpCommand.SNP_GCTX_CREATE ? fw.gctxCreate(pfn) : fw.decommission(pfn);
    }
    case SnpCommand.SNP_ACTIVATE: {
      const args = SnpActivate.decode(buffer);
      const gctx = pfnOf(args.gctxPaddr);
      return gctx === undefined ? refuse('SNP_ACTIVATE', 'INVALID_PARAM') : fw.activate(gctx, args.asid);
    }
    case SnpCommand.SNP_LAUNCH_START:
      return launchStart(fw, buffer);
    case SnpCommand.SNP_LAUNCH_UPDATE:
      return launchUpdate(fw, buffer);
    case SnpCommand.SNP_LAUNCH_FINISH:
      return launchFinish(fw, buffer);
    case SnpCommand.SNP_PAGE_RECLAIM:
    case SnpCommand.SNP_PAGE_UNSMASH: {
      const { paddr } = SnpPagePaddr.decode(buffer);
      const pfn = pfnOf(paddr & ~1n);
      if (pfn === undefined) return INVALID_PARAM; // bits 11:1 are reserved
      if (command === SnpCommand.SNP_PAGE_UNSMASH) return fw.pageUnsmash(pfn);
      return fw.pageReclaim(pfn, (paddr & 1n) === 1n ? '2M' : '4K');
    }
    case SnpCommand.SNP_GUEST_REQUEST: {
      const args = SnpGuestRequest.decode(buffer);
      const [gctx, req, res] = [pfnOf(args.gctxPaddr), pfnOf(args.reqPaddr), pfnOf(args.resPaddr)];
      if (gctx === undefined || req === undefined || res === undefined) return INVALID_PARAM;
      return fw.guestRequest(gctx, req, res);
    }
    case SnpCommand.SNP_GUEST_STATUS:
      return guestStatus(fw, buffer);
    default:
      return status('INVALID_COMMAND');
  }
}

/**
 * Writes a 32-byte status output: it must not cross a page, and the page must be FIRMWARE or
 * hypervisor-owned (AMD-ASPFW snp_mcmd_platform_status, snp_mcmd_guest_status).
 */
function writeOutput(fw: SnpFirmware, paddr: bigint, bytes: Uint8Array): FwStatus {
  const address = paddr & WITHOUT_C_BIT;
  if ((address & PAGE_MASK) + BigInt(bytes.length) > BigInt(PAGE_SIZE)) return INVALID_PARAM;
  const pfn = Number(address >> 12n);
  if (fw.rmp.has(pfn)) {
    const e = fw.rmp.read(pfn);
    const firmwareOrHypervisor = !e.assigned || (e.asid === 0 && e.immutable && !e.vmsa);
    if (!firmwareOrHypervisor) return status('INVALID_PAGE_STATE');
  }
  fw.memory.write(pfn, bytes, Number(address & PAGE_MASK));
  return status('SUCCESS');
}

function platformStatus(fw: SnpFirmware, buffer: Uint8Array): FwStatus {
  const { address } = SnpAddr.decode(buffer);
  const p = fw.platformStatus().platform;
  return writeOutput(
    fw,
    address,
    SnpPlatformStatusBuffer.encode({ ...p, rmpFlags: p.isRmpInitialized ? 1 : 0 }),
  );
}

function guestStatus(fw: SnpFirmware, buffer: Uint8Array): FwStatus {
  const args = SnpGuestStatusArgs.decode(buffer);
  const gctx = pfnOf(args.gctxPaddr);
  if (gctx === undefined) return INVALID_PARAM;
  const result = fw.guestStatus(gctx);
  if (result.guest === undefined) return result.status;
  return writeOutput(fw, args.address, SnpGuestStatusBuffer.encode({ ...result.guest, flags: 0 }));
}

function launchStart(fw: SnpFirmware, buffer: Uint8Array): FwStatus {
  const args = SnpLaunchStart.decode(buffer);
  const gctx = pfnOf(args.gctxPaddr);
  if (gctx === undefined || (args.flags & ~0b11) !== 0 || (args.maGctxPaddr & PAGE_MASK) !== 0n)
    return refuse('SNP_LAUNCH_START', 'INVALID_PARAM');
  if ((args.flags & 1) !== 0) return refuse('SNP_LAUNCH_START', 'UNSUPPORTED'); // migration agents are not modelled
  return fw.launchStart(gctx, { policy: args.policy, gosvw: args.gosvw, imiEnabled: (args.flags & 2) !== 0 });
}

function launchUpdate(fw: SnpFirmware, buffer: Uint8Array): FwStatus {
  const args = SnpLaunchUpdate.decode(buffer);
  const [gctx, pfn] = [pfnOf(args.gctxPaddr), pfnOf(args.address)];
  const reserved =
    (args.flags & ~0x1f) !== 0 || args.rsvd2 !== 0 || (args.perms & 0xff) !== 0 || args.rsvd4 !== 0;
  if (gctx === undefined || pfn === undefined || reserved)
    return refuse('SNP_LAUNCH_UPDATE', 'INVALID_PARAM');
  return fw.launchUpdate(gctx, {
    pfn,
    pageSize: (args.flags & 1) !== 0 ? '2M' : '4K',
    pageType: (args.flags >>> 1) & 0b111,
    imiPage: (args.flags & 0x10) !== 0,
    vmplPerms: [(args.perms >>> 8) & 0xff, (args.perms >>> 16) & 0xff, args.perms >>> 24],
  });
}

function launchFinish(fw: SnpFirmware, buffer: Uint8Array): FwStatus {
  const args = SnpLaunchFinish.decode(buffer);
  const gctx = pfnOf(args.gctxPaddr);
  if (gctx === undefined || args.flags >> 3n !== 0n) return refuse('SNP_LAUNCH_FINISH', 'INVALID_PARAM');
  if ((args.flags & 4n) !== 0n) return refuse('SNP_LAUNCH_FINISH', 'UNSUPPORTED'); // VCEK_DISABLED: the model always signs with the VCEK
  if ((args.flags & 1n) === 0n) return fw.launchFinish(gctx, { hostData: args.hostData });
  const [blockPfn, authPfn] = [pfnOf(args.idBlockPaddr), pfnOf(args.idAuthPaddr)];
  if (blockPfn === undefined || authPfn === undefined) return refuse('SNP_LAUNCH_FINISH', 'INVALID_PARAM');
  const idBlock = IdBlockBuffer.decode(fw.memory.read(blockPfn).subarray(0, IdBlockBuffer.size));
  const auth = IdAuthInfo.decode(fw.memory.read(authPfn));
  const authorKeyEnabled = (args.flags & 2n) !== 0n;
  if (auth.idKeyAlgo !== ALGO_ECDSA_P384_SHA384) return refuse('SNP_LAUNCH_FINISH', 'INVALID_PARAM');
  if (authorKeyEnabled && auth.authKeyAlgo !== ALGO_ECDSA_P384_SHA384)
    return refuse('SNP_LAUNCH_FINISH', 'INVALID_PARAM');
  const idKey = decodeEcdsaPublicKey(auth.idKey);
  const authorKey = authorKeyEnabled ? decodeEcdsaPublicKey(auth.authorKey) : undefined;
  if (idKey === undefined || (authorKeyEnabled && authorKey === undefined))
    return refuse('SNP_LAUNCH_FINISH', 'BAD_SIGNATURE');
  const idAuth: IdAuth = {
    idKey,
    idBlockSignature: decodeEcdsaSignature(auth.idBlockSig),
    ...(authorKey === undefined
      ? {}
      : { author: { key: authorKey, idKeySignature: decodeEcdsaSignature(auth.idKeySig) } }),
  };
  return fw.launchFinish(gctx, { idBlock, idAuth, hostData: args.hostData });
}
