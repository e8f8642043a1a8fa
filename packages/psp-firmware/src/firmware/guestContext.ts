import { LaunchDigest } from '../measure/launchDigest.js';
import { IdBlockBuffer } from './commandBuffers.js';

/** Guest states (AMD-ASPFW sev_guest.h enum snp_guest_state; SNP_GUEST_STATUS reports the number). */
export const GuestState = { INIT: 0, LAUNCH: 1, RUNNING: 2 } as const;
/** A guest state by name (a key of {@link GuestState}). */
export type GuestStateName = keyof typeof GuestState;

/** What the firmware keeps in a guest context page (its contents are the firmware's own). */
export class GuestContext {
  state: GuestStateName = 'INIT';
  asid = 0;
  policy = 0n;
  imiEnabled = false;
  gosvw: Uint8Array = new Uint8Array(16);
  readonly digest = new LaunchDigest();
  /** VMPCK0..3 and REPORT_ID, generated at LAUNCH_START. */
  vmpcks: readonly Uint8Array[] = [];
  reportId: Uint8Array = new Uint8Array(32);
  /** Per-VMPCK message counters (msg_count0..3), zero at GCTX_CREATE. */
  readonly msgCounts: bigint[] = [0n, 0n, 0n, 0n];
  /** Set at LAUNCH_FINISH. */
  hostData: Uint8Array = new Uint8Array(32);
  idBlock: IdBlock | undefined;
  idKeyDigest: Uint8Array = new Uint8Array(48);
  authorKeyDigest: Uint8Array = new Uint8Array(48);
  authorKeyEnabled = false;

  constructor(
    /** Distinguishes contexts created on the same page over time; derives the guest's secrets. */
    readonly generation: number,
    readonly launchTcb: bigint,
  ) {}
}

/** The ID block (AMD-ASPFW sev_mcmd.h; 0x60 bytes): what the guest owner expects of the launch. */
export interface IdBlock {
  /** Expected launch digest. */
  readonly ld: Uint8Array;
  readonly familyId: Uint8Array;
  readonly imageId: Uint8Array;
  readonly version: number;
  readonly guestSvn: number;
  readonly policy: bigint;
}

/** The size of an ID block. */
export const ID_BLOCK_BYTES = 0x60;

/** The ID block's 0x60 bytes, as LAUNCH_FINISH reads them and the ID key signs them. */
export function encodeIdBlock(block: IdBlock): Uint8Array {
  return IdBlockBuffer.encode(block);
}
