import { createCipheriv, createDecipheriv } from 'node:crypto';
import { copyBytes } from '../bytes.js';
import { FirmwareInputError, LengthError } from '../errors.js';

/**
 * The SNP guest message (struct snp_guest_msg_hdr + payload, arch/x86/include/asm/sev.h;
 * docs/spec-notes.md §5.3): a 0x60-byte header, then the payload encrypted with AES-256-GCM
 * under a VMPCK. The IV is the 64-bit sequence number, zero-padded to 12 bytes; the additional
 * data is the header from ALGO (0x30) to its end; the 16-byte tag sits in AUTHTAG.
 */
export const GuestMessageHeader = {
  BYTES: 0x60,
  AUTHTAG: 0x00,
  MSG_SEQNO: 0x20,
  ALGO: 0x30,
  HDR_VERSION: 0x31,
  HDR_SZ: 0x32,
  MSG_TYPE: 0x34,
  MSG_VERSION: 0x35,
  MSG_SZ: 0x36,
  MSG_VMPCK: 0x3c,
} as const;
/** The header's AEAD algorithm value for AES-256-GCM, the only one guest messages use. */
export const AEAD_AES_256_GCM = 1;
const HDR_VERSION = 1;
const TAG_BYTES = 16;
/** A guest message fills one 4 KiB page. */
export const GUEST_MESSAGE_MAX_PAYLOAD = 4096 - GuestMessageHeader.BYTES;

/** Message types (enum msg_type, arch/x86/include/asm/sev.h). */
export const MsgType = {
  CPUID_REQ: 1,
  CPUID_RSP: 2,
  KEY_REQ: 3,
  KEY_RSP: 4,
  REPORT_REQ: 5,
  REPORT_RSP: 6,
} as const;

/** A guest message in the clear: the header fields that matter and the payload. */
export interface GuestMessage {
  readonly seqno: bigint;
  readonly msgType: number;
  readonly msgVersion: number;
  readonly vmpck: number;
  readonly payload: Uint8Array;
}

function iv(seqno: bigint): Buffer {
  const bytes = Buffer.alloc(12);
  bytes.writeBigUInt64LE(seqno, 0);
  return bytes;
}

/** Encrypts a message under a 32-byte VMPCK into header + ciphertext. */
export function sealGuestMessage(key: Uint8Array, message: GuestMessage): Buffer {
  const { payload } = message;
  if (payload.length > GUEST_MESSAGE_MAX_PAYLOAD) {
    throw new LengthError('a guest message payload', `at most ${GUEST_MESSAGE_MAX_PAYLOAD}`, payload.length);
  }
  const H = GuestMessageHeader;
  const header = Buffer.alloc(H.BYTES);
  header.writeBigUInt64LE(message.seqno, H.MSG_SEQNO);
  header[H.ALGO] = AEAD_AES_256_GCM;
  header[H.HDR_VERSION] = HDR_VERSION;
  header.writeUInt16LE(H.BYTES, H.HDR_SZ);
  header[H.MSG_TYPE] = message.msgType;
  header[H.MSG_VERSION] = message.msgVersion;
  header.writeUInt16LE(payload.length, H.MSG_SZ);
  header[H.MSG_VMPCK] = message.vmpck;
  const cipher = createCipheriv('aes-256-gcm', key, iv(message.seqno));
  cipher.setAAD(header.subarray(H.ALGO));
  const ciphertext = Buffer.concat([cipher.update(payload), cipher.final()]);
  cipher.getAuthTag().copy(header, H.AUTHTAG);
  return Buffer.concat([header, ciphertext]);
}

/** Reads a sealed message's header without decrypting it. */
export function readGuestMessageHeader(
  bytes: Uint8Array,
): Omit<GuestMessage, 'payload'> & { msgSize: number } {
  if (bytes.length < GuestMessageHeader.BYTES)
    throw new LengthError('a guest message', 'at least 96', bytes.length);
  const H = GuestMessageHeader;
  const header = Buffer.from(bytes.buffer, bytes.byteOffset, H.BYTES);
  return {
    seqno: header.readBigUInt64LE(H.MSG_SEQNO),
    msgType: header[H.MSG_TYPE] ?? 0,
    msgVersion: header[H.MSG_VERSION] ?? 0,
    vmpck: header[H.MSG_VMPCK] ?? 0,
    msgSize: header.readUInt16LE(H.MSG_SZ),
  };
}

/**
 * Decrypts and authenticates a sealed message; undefined if the header is malformed (algorithm,
 * version, sizes) or the tag does not verify, as the firmware rejects either.
 */
export function openGuestMessage(key: Uint8Array, bytes: Uint8Array): GuestMessage | undefined {
  const H = GuestMessageHeader;
  const { msgSize, ...fields } = readGuestMessageHeader(bytes);
  const header = Buffer.from(bytes.buffer, bytes.byteOffset, H.BYTES);
  if (header[H.ALGO] !== AEAD_AES_256_GCM || header[H.HDR_VERSION] !== HDR_VERSION) return undefined;
  if (header.readUInt16LE(H.HDR_SZ) !== H.BYTES || H.BYTES + msgSize > bytes.length) return undefined;
  const decipher = createDecipheriv('aes-256-gcm', key, iv(fields.seqno));
  decipher.setAAD(header.subarray(H.ALGO));
  decipher.setAuthTag(header.subarray(H.AUTHTAG, H.AUTHTAG + TAG_BYTES));
  const ciphertext = bytes.subarray(H.BYTES, H.BYTES + msgSize);
  try {
    return { ...fields, payload: Buffer.concat([decipher.update(ciphertext), decipher.final()]) };
  } catch {
    return undefined;
  }
}

/** MSG_REPORT_REQ payload (struct snp_report_req, include/uapi/linux/sev-guest.h): 96 bytes. */
export const REPORT_REQUEST_BYTES = 96;
/** MSG_REPORT_RSP payload: status u32, report size u32, 24 reserved bytes, then the report. */
export const REPORT_RESPONSE_HEADER_BYTES = 0x20;

/** MSG_REPORT_REQ's payload: the 64 bytes of REPORT_DATA and the VMPL to report at. */
export interface ReportRequest {
  readonly reportData: Uint8Array;
  readonly vmpl: number;
}

/**
 * MSG_REPORT_REQ's payload bytes.
 * @throws LengthError when REPORT_DATA is not 64 bytes.
 */
export function encodeReportRequest(request: ReportRequest): Buffer {
  if (request.reportData.length !== 64) throw new LengthError('REPORT_DATA', '64', request.reportData.length);
  const bytes = Buffer.alloc(REPORT_REQUEST_BYTES);
  bytes.set(request.reportData, 0);
  bytes.writeUInt32LE(request.vmpl, 64);
  return bytes;
}

/**
 * Reads MSG_REPORT_REQ's payload.
 * @throws LengthError when it is not 96 bytes.
 */
export function decodeReportRequest(bytes: Uint8Array): ReportRequest {
  if (bytes.length !== REPORT_REQUEST_BYTES) throw new LengthError('a report request', '96', bytes.length);
  return { reportData: copyBytes(bytes, 0, 64), vmpl: Buffer.from(bytes).readUInt32LE(64) };
}

/** MSG_REPORT_RSP's payload: the firmware status and the report. */
export interface ReportResponse {
  readonly status: number;
  readonly report: Uint8Array;
}

/** MSG_REPORT_RSP's payload bytes: the header, then the report. */
export function encodeReportResponse(response: ReportResponse): Buffer {
  const bytes = Buffer.alloc(REPORT_RESPONSE_HEADER_BYTES + response.report.length);
  bytes.writeUInt32LE(response.status, 0);
  bytes.writeUInt32LE(response.report.length, 4);
  bytes.set(response.report, REPORT_RESPONSE_HEADER_BYTES);
  return bytes;
}

/**
 * Reads MSG_REPORT_RSP's payload.
 * @throws LengthError when it is shorter than its header; FirmwareInputError when the report size it states
 * runs past its end.
 */
export function decodeReportResponse(bytes: Uint8Array): ReportResponse {
  if (bytes.length < REPORT_RESPONSE_HEADER_BYTES)
    throw new LengthError('a report response', 'at least 32', bytes.length);
  const view = Buffer.from(bytes);
  const size = view.readUInt32LE(4);
  if (REPORT_RESPONSE_HEADER_BYTES + size > bytes.length) {
    throw new FirmwareInputError(
      'REPORT_FORMAT',
      `report response claims ${size} report bytes, has ${bytes.length - 32}`,
    );
  }
  return {
    status: view.readUInt32LE(0),
    report: copyBytes(bytes, REPORT_RESPONSE_HEADER_BYTES, REPORT_RESPONSE_HEADER_BYTES + size),
  };
}
