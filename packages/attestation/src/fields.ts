// A report as a reader wants it: every field by its spec name and offset, with what it means.
import { bytesToHex, PolicyBit } from '@snp-ref/psp-firmware';
import { PLATFORM_INFO_BITS, unnamedPlatformInfoBits } from './bounds.js';
import { type DecodedReport, fieldsOfLayout, type ReportFields } from './layout.js';
import { type Product, productOfCpuid } from './product.js';
import { decodeTcb, formatTcb } from './tcb.js';

/**
 * A field of a report as shown to a reader: its spec name and offset, its value, and what the value means.
 */
export interface ShownField {
  /** The spec's name: MEASUREMENT, REPORTED_TCB, … */
  readonly name: string;
  /** "0x090" */
  readonly offset: string;
  /** Bytes as hex, 64-bit values as 0x hex, the rest in decimal. */
  readonly value: string;
  /** What the value means, where it has a meaning beyond itself. */
  readonly meaning?: string;
}

/**
 * SIGNING_KEY, bits 4:2 of the flags at 0x048: 0 VCEK, 1 VLEK, 7 none; bit 0 AUTHOR_KEY_EN, bit 1
 * MASK_CHIP_KEY (go-sev-guest abi.go ParseSignerInfo, ReportSigner).
 */
export function signingKeyOf(flags: number): 'VCEK' | 'VLEK' | 'none' | `reserved (${number})` {
  const key = (flags >> 2) & 7;
  if (key === 0) return 'VCEK';
  if (key === 1) return 'VLEK';
  return key === 7 ? 'none' : `reserved (${key})`;
}

const snakeName = (field: string) => field.replace(/([A-Z])/g, '_$1').toUpperCase();
const hex64 = (v: bigint) => `0x${v.toString(16).padStart(16, '0')}`;
const isZero = (bytes: Uint8Array) => bytes.every((b) => b === 0);

function bitNames(value: bigint, bits: readonly (readonly [number, string])[]): string {
  const set = bits.filter(([bit]) => (value >> BigInt(bit)) & 1n).map(([, name]) => name);
  return set.length === 0 ? 'none set' : set.join(' ');
}

function policyMeaning(policy: bigint): string {
  const bits = Object.entries(PolicyBit).map(([name, mask]) => [mask.toString(2).length - 1, name] as const);
  return `ABI ${(policy >> 8n) & 0xffn}.${policy & 0xffn} minimum; ${bitNames(policy, bits)}`;
}

function platformInfoMeaning(info: bigint): string {
  const named = bitNames(
    info,
    PLATFORM_INFO_BITS.map(([n, mask]) => [mask.toString(2).length - 1, n] as const),
  );
  const unnamed = unnamedPlatformInfoBits(info);
  return unnamed === 0n ? named : `${named}; unnamed bits 0x${unnamed.toString(16)}`;
}

/** What each field means, for the fields that have a meaning beyond their value. */
function meaningOf(name: string, fields: ReportFields, product: Product | undefined): string | undefined {
  const tcb = (v: bigint) => formatTcb(decodeTcb(v, product));
  switch (name) {
    case 'policy':
      return policyMeaning(fields.policy);
    case 'platformInfo':
      return platformInfoMeaning(fields.platformInfo);
    case 'flags':
      return `SIGNING_KEY ${signingKeyOf(fields.flags)}; MASK_CHIP_KEY ${(fields.flags >> 1) & 1}; AUTHOR_KEY_EN ${fields.flags & 1}`;
    case 'signatureAlgo':
      return fields.signatureAlgo === 1 ? 'ECDSA P-384 with SHA-384' : 'unknown algorithm';
    case 'currentTcb':
    case 'reportedTcb':
    case 'committedTcb':
    case 'launchTcb':
      return tcb(fields[name]);
    case 'idKeyDigest':
      return isZero(fields.idKeyDigest) ? 'none: launched without an ID block' : undefined;
    case 'authorKeyDigest':
      return isZero(fields.authorKeyDigest) ? 'none: no author key' : undefined;
    case 'cpuidFamId':
      return fields.cpuidModId === undefined
        ? undefined
        : (productOfCpuid(fields.cpuidFamId ?? 0, fields.cpuidModId) ?? 'not a known SEV-SNP generation');
    default:
      return undefined;
  }
}

/** Every field of the report's layout in offset order, then the signature. */
export function shownFields(report: DecodedReport, product: Product | undefined): ShownField[] {
  const fields = report.fields as Readonly<Record<string, number | bigint | Uint8Array>>;
  const shown: ShownField[] = fieldsOfLayout(report.layoutVersion).map(([name, [at, kind]]) => {
    const value = fields[name] as number | bigint | Uint8Array;
    const meaning = meaningOf(name, report.fields, product);
    return {
      name: snakeName(name),
      offset: `0x${at.toString(16).padStart(3, '0').toUpperCase()}`,
      value:
        value instanceof Uint8Array
          ? bytesToHex(value)
          : kind === 'u64'
            ? hex64(value as bigint)
            : String(value),
      ...(meaning === undefined ? {} : { meaning }),
    };
  });
  shown.push(
    { name: 'SIGNATURE_R', offset: '0x2A0', value: bytesToHex(report.signature.r), meaning: 'big-endian' },
    { name: 'SIGNATURE_S', offset: '0x2E8', value: bytesToHex(report.signature.s), meaning: 'big-endian' },
  );
  return shown;
}
