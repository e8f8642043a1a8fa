// `report verify`'s flags as the library's VerifyOptions: certificates read, expectations parsed.
import {
  type AmdCertificate,
  decodeTcb,
  type Expectations,
  isProduct,
  MAX_CERTIFICATE_FILE_BYTES,
  type Product,
  parseCertificates,
  TCB_PART_NAMES,
  type TcbPartName,
  type TcbParts,
  type VerifyOptions,
} from '@snp-ref/attestation';
import { CliInputError } from '../commandLine/inputError.js';
import { bytesValue, unsignedValue } from '../commandLine/values.js';
import type { Files } from '../files.js';

export interface VerifyFlags {
  readonly vcek?: string | undefined;
  readonly vlek?: string | undefined;
  readonly ca?: string | undefined;
  readonly product?: string | undefined;
  readonly measurement?: string | undefined;
  readonly reportData?: string | undefined;
  readonly hostData?: string | undefined;
  readonly idKeyDigest?: string | undefined;
  readonly authorKeyDigest?: string | undefined;
  readonly policy?: string | undefined;
  readonly platformInfo?: string | undefined;
  readonly minTcb?: string | undefined;
  readonly minLaunchTcb?: string | undefined;
  readonly vmpl?: string | undefined;
  readonly at?: string | undefined;
  readonly noCheckTime?: boolean | undefined;
}

/** The flag each user-given expectation comes from, for the text that says where it came from. */
export const EXPECTATION_FLAGS: Readonly<Record<string, string>> = {
  measurement: '--measurement',
  'report-data': '--report-data',
  'host-data': '--host-data',
  'id-key-digest': '--id-key-digest',
  'author-key-digest': '--author-key-digest',
  policy: '--policy',
  'platform-info': '--platform-info',
  'min-tcb': '--min-tcb',
  'min-launch-tcb': '--min-launch-tcb',
  vmpl: '--vmpl',
  'cert.validity': '--at',
};

export function productOption(value: string | undefined): Product | undefined {
  if (value === undefined) return undefined;
  const name = value.charAt(0).toUpperCase() + value.slice(1).toLowerCase();
  if (!isProduct(name))
    throw new CliInputError('USAGE', `--product: expected Milan, Genoa or Turin, got ${value}`);
  return name;
}

/** The options; `now` is the default of --at (the CLI's clock: the library reads none). */
export function verifyOptionsOf(flags: VerifyFlags, files: Files, now: Date): VerifyOptions {
  if (flags.vcek !== undefined && flags.vlek !== undefined)
    throw new CliInputError(
      'USAGE',
      '--vcek and --vlek: give the certificate of the one key that signed the report',
    );
  if (flags.at !== undefined && flags.noCheckTime)
    throw new CliInputError('USAGE', '--at and --no-check-time: give one');
  const read = (file: string) => parseCertificates(files.readBytes(file, MAX_CERTIFICATE_FILE_BYTES), file);
  const vekFile = flags.vcek ?? flags.vlek;
  const [vek, ...bundled]: (AmdCertificate | undefined)[] = vekFile === undefined ? [] : read(vekFile);
  const chain = [...(bundled as AmdCertificate[]), ...(flags.ca === undefined ? [] : read(flags.ca))];
  const product = productOption(flags.product);
  return {
    vek,
    signer: flags.vcek !== undefined ? 'VCEK' : flags.vlek !== undefined ? 'VLEK' : undefined,
    chain,
    product,
    expected: expectationsOf(flags, product),
    at: flags.noCheckTime ? undefined : flags.at === undefined ? now : dateOption(flags.at),
  };
}

function expectationsOf(flags: VerifyFlags, product: Product | undefined): Expectations {
  const bytes = (flag: string, value: string | undefined, size: number) =>
    value === undefined ? undefined : bytesValue(flag, value, size);
  const entries: [keyof Expectations, unknown][] = [
    ['measurement', bytes('--measurement', flags.measurement, 48)],
    ['reportData', bytes('--report-data', flags.reportData, 64)],
    ['hostData', bytes('--host-data', flags.hostData, 32)],
    ['idKeyDigest', bytes('--id-key-digest', flags.idKeyDigest, 48)],
    ['authorKeyDigest', bytes('--author-key-digest', flags.authorKeyDigest, 48)],
    ['policy', flags.policy === undefined ? undefined : unsignedValue('--policy', flags.policy)],
    [
      'platformInfo',
      flags.platformInfo === undefined ? undefined : unsignedValue('--platform-info', flags.platformInfo),
    ],
    ['minTcb', flags.minTcb === undefined ? undefined : tcbOption('--min-tcb', flags.minTcb, product)],
    [
      'minLaunchTcb',
      flags.minLaunchTcb === undefined
        ? undefined
        : tcbOption('--min-launch-tcb', flags.minLaunchTcb, product),
    ],
    ['vmpl', flags.vmpl === undefined ? undefined : vmplOption(flags.vmpl)],
  ];
  return Object.fromEntries(entries.filter(([, v]) => v !== undefined)) as Expectations;
}

function vmplOption(value: string): number {
  if (!/^[0-3]$/.test(value))
    throw new CliInputError('USAGE', `--vmpl: expected 0, 1, 2 or 3, got "${value}"`);
  return Number(value);
}

/** The short names of the TCB parts, as AMD's KDS names them in a VCEK URL (blSPL, teeSPL, …). */
const TCB_SHORT: Readonly<Record<string, TcbPartName>> = {
  fmc: 'fmc',
  bl: 'bootloader',
  tee: 'tee',
  snp: 'snp',
  ucode: 'microcode',
};

/** A TCB_VERSION number (split for the product), or "bl=2,tee=0,snp=5,ucode=68" with fmc= on Turin. */
function tcbOption(flag: string, value: string, product: Product | undefined): TcbParts {
  if (!value.includes('=')) return decodeTcb(unsignedValue(flag, value), product);
  const parts: Partial<Record<TcbPartName, number>> = {};
  for (const item of value.split(',')) {
    const [key = '', n = ''] = item.split('=');
    const part = TCB_SHORT[key.trim()];
    if (part === undefined || !/^\d{1,3}$/.test(n.trim()) || Number(n) > 255)
      throw new CliInputError(
        'USAGE',
        `${flag}: "${item}" is not NAME=0..255 with NAME one of ${Object.keys(TCB_SHORT).join(', ')}`,
      );
    parts[part] = Number(n);
  }
  const [bootloader, tee, snp, microcode] = TCB_PART_NAMES.slice(1).map((p) => parts[p] ?? 0);
  return {
    ...(parts.fmc === undefined ? {} : { fmc: parts.fmc }),
    bootloader: bootloader ?? 0,
    tee: tee ?? 0,
    snp: snp ?? 0,
    microcode: microcode ?? 0,
  };
}

function dateOption(value: string): Date {
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime()))
    throw new CliInputError(
      'USAGE',
      `--at: expected a date such as 2025-06-30 or 2025-06-30T12:00:00Z, got "${value}"`,
    );
  return date;
}
