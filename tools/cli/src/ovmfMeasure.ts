// `snp-ref measure --mode snp …`: the launch of an OVMF guest, with sev-snp-measure's flags.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  checkImageSize,
  cmdlineBytes,
  cpuSignature,
  firmwareOp,
  type KernelHashes,
  type LaunchPlan,
  type OvmfLaunchOptions,
  ovmfLaunchPlan,
  ovmfVmsaProvenance,
  parseOvmfImage,
  VCPU_TYPES,
  VMM_TYPES,
  type VmmType,
  vcpuTypeSignature,
  vcpuTypeSource,
} from '@snp-ref/psp-firmware/measure';
import { CliInputError } from './commandLine/inputError.js';
import { errnoCode } from './files.js';

/** The flags of sev-snp-measure that select and shape an SNP launch (values as typed, unparsed). */
export interface OvmfFlags {
  readonly mode: string;
  readonly ovmf?: string;
  readonly vcpus?: string;
  readonly vcpuType?: string;
  readonly vcpuSig?: string;
  readonly vcpuFamily?: string;
  readonly vcpuModel?: string;
  readonly vcpuStepping?: string;
  readonly vmmType?: string;
  readonly guestFeatures?: string;
  readonly kernel?: string;
  readonly initrd?: string;
  readonly append?: string;
  readonly snpOvmfHash?: string;
}

/** A flag the user got wrong: the message names it. */
export class FlagError extends CliInputError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

export const SUPPORTED_MODES = ['snp', 'snp:ovmf-hash'] as const;

/** An integer in Python's int(x, 0) notation (decimal, 0x…, 0o…, 0b…), as sev-snp-measure reads it. */
function integer(flag: string, text: string | undefined, bits: number): bigint | undefined {
  if (text === undefined) return undefined;
  const value = /^(?:0x[0-9a-f]+|0o[0-7]+|0b[01]+|[1-9][0-9]*|0+)$/i.test(text.replaceAll('_', ''))
    ? BigInt(text.replaceAll('_', '').replace(/^0+(?=\d)/, ''))
    : undefined;
  if (value === undefined || value >> BigInt(bits) !== 0n)
    throw new FlagError(
      `${flag}: expected an integer of at most ${bits} bits (e.g. 0x1), got ${JSON.stringify(text)}`,
    );
  return value;
}

async function readFileOrFail(flag: string, path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new FlagError(`${flag}: cannot read ${path} (${errnoCode(error)})`);
  }
}

/** SHA-256 of a file (relative to `cwd`), streamed: an initrd may be hundreds of MiB. */
async function sha256File(flag: string, path: string, cwd: string): Promise<Uint8Array> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(resolve(cwd, path))) hash.update(chunk as Buffer);
  } catch (error) {
    throw new FlagError(`${flag}: cannot read ${path} (${errnoCode(error)})`);
  }
  return hash.digest();
}

function vcpuSignature(flags: OvmfFlags, vmmType: VmmType): { value: number; from: string } {
  if (flags.vcpuFamily !== undefined) {
    const [family, model, stepping] = (['vcpuFamily', 'vcpuModel', 'vcpuStepping'] as const).map((name) => {
      const flag = FLAG_NAMES[name];
      const value = integer(flag, flags[name], 8);
      if (value === undefined) throw new FlagError(`${flag}: required with --vcpu-family`);
      return Number(value);
    }) as [number, number, number];
    return {
      value: cpuSignature(family, model, stepping),
      from: `--vcpu-family ${family} --vcpu-model ${model} --vcpu-stepping ${stepping}`,
    };
  }
  const sig = integer('--vcpu-sig', flags.vcpuSig, 32);
  if (sig !== undefined) return { value: Number(sig), from: `--vcpu-sig ${flags.vcpuSig}` };
  if (flags.vcpuType !== undefined) {
    const fromType = vcpuTypeSignature(flags.vcpuType);
    if (fromType === undefined)
      throw new FlagError(
        `--vcpu-type: unknown type ${JSON.stringify(flags.vcpuType)}; expected one of ${VCPU_TYPES.join(', ')}`,
      );
    return { value: fromType, from: vcpuTypeSource(flags.vcpuType) ?? flags.vcpuType };
  }
  // sev-snp-measure: EC2 and GCE load a fixed RDX, so only QEMU needs the signature.
  if (vmmType === 'qemu')
    throw new FlagError("missing --vcpu-type or --vcpu-sig or --vcpu-family in guest mode 'snp'");
  return { value: 0, from: 'not given (unused by this VMM)' };
}

function vmmTypeOf(text: string | undefined): VmmType {
  const name = (text ?? 'qemu').toLowerCase();
  if (!(VMM_TYPES as readonly string[]).includes(name))
    throw new FlagError(`--vmm-type: unknown VMM type ${JSON.stringify(text)}; expected QEMU, ec2 or gce`);
  return name as VmmType;
}

async function kernelHashes(flags: OvmfFlags, cwd: string): Promise<KernelHashes | undefined> {
  if (flags.kernel === undefined) {
    if (flags.initrd !== undefined) throw new FlagError('--initrd: --kernel required when using --initrd');
    if (flags.append !== undefined) throw new FlagError('--append: --kernel required when using --append');
    return undefined;
  }
  return {
    kernel: await sha256File('--kernel', flags.kernel, cwd),
    initrd:
      flags.initrd === undefined
        ? createHash('sha256').digest()
        : await sha256File('--initrd', flags.initrd, cwd),
    cmdline: createHash('sha256').update(cmdlineBytes(flags.append)).digest(),
  };
}

/** A launch laid out from the flags: the plan to measure, and its VMSAs with their provenance. */
export interface OvmfLaunch {
  readonly plan: LaunchPlan;
  readonly vmsas: ReturnType<typeof ovmfVmsaProvenance>;
}

/**
 * The launch of `--mode snp` or `--mode snp:ovmf-hash` (firmware pages only), with the image
 * referred to by absolute path so the plan replays from anywhere; relative paths are from `cwd`.
 * FlagError or FirmwareInputError name what is wrong.
 */
export async function ovmfLaunch(flags: OvmfFlags, cwd: string): Promise<OvmfLaunch> {
  if (!(SUPPORTED_MODES as readonly string[]).includes(flags.mode)) {
    throw new FlagError(
      `--mode: ${JSON.stringify(flags.mode)} is not supported (snp-ref models SEV-SNP launches); expected ${SUPPORTED_MODES.join(' or ')}`,
    );
  }
  if (flags.ovmf === undefined) throw new FlagError('--ovmf: the OVMF image is required');
  const imagePath = resolve(cwd, flags.ovmf);
  const bytes = await readFileOrFail('--ovmf', imagePath);
  if (flags.mode === 'snp:ovmf-hash') {
    checkImageSize(bytes.length);
    const ops = [firmwareOp({ gpa: 2 ** 32 - bytes.length, bytes }, imagePath)];
    return { plan: { name: `ovmf-hash ${imagePath}`, seed: '', ops }, vmsas: [] };
  }
  if (flags.vcpus === undefined) throw new FlagError("--vcpus: missing --vcpus N in guest mode 'snp'");
  const vcpus = Number(integer('--vcpus', flags.vcpus, 16));
  const vmmType = vmmTypeOf(flags.vmmType);
  const ovmfHash = flags.snpOvmfHash;
  if (ovmfHash !== undefined && !/^[0-9a-f]{96}$/i.test(ovmfHash))
    throw new FlagError(
      '--snp-ovmf-hash: expected the 48-byte hash as 96 hex digits (from --mode snp:ovmf-hash)',
    );
  const image = parseOvmfImage(bytes);
  const hashes = await kernelHashes(flags, cwd);
  const signature = vcpuSignature(flags, vmmType);
  const options: OvmfLaunchOptions = {
    imagePath,
    vcpus,
    vcpuSignature: signature.value,
    vcpuSignatureFrom: signature.from,
    vmmType,
    guestFeatures: integer('--guest-features', flags.guestFeatures, 64) ?? 1n,
    ...(hashes && { kernelHashes: hashes }),
    ...(ovmfHash !== undefined && { ovmfHash: new Uint8Array(Buffer.from(ovmfHash, 'hex')) }),
  };
  return { plan: ovmfLaunchPlan(image, options), vmsas: ovmfVmsaProvenance(image, options) };
}

const FLAG_NAMES: Readonly<Record<keyof OvmfFlags, string>> = {
  mode: '--mode',
  ovmf: '--ovmf',
  vcpus: '--vcpus',
  vcpuType: '--vcpu-type',
  vcpuSig: '--vcpu-sig',
  vcpuFamily: '--vcpu-family',
  vcpuModel: '--vcpu-model',
  vcpuStepping: '--vcpu-stepping',
  vmmType: '--vmm-type',
  guestFeatures: '--guest-features',
  kernel: '--kernel',
  initrd: '--initrd',
  append: '--append',
  snpOvmfHash: '--snp-ovmf-hash',
};

/** The OVMF flags given among a command's options (keyed as OvmfFlags is, values as typed). */
export function ovmfFlags(options: Readonly<Record<string, unknown>>): Partial<OvmfFlags> {
  const flags: Partial<Record<keyof OvmfFlags, string>> = {};
  for (const key of Object.keys(FLAG_NAMES) as (keyof OvmfFlags)[]) {
    const value = options[key];
    if (typeof value === 'string') flags[key] = value;
  }
  return flags;
}

/** The OVMF flags that only mean something with --mode (to refuse them with --plan). */
export const OVMF_FLAG_NAMES: readonly string[] = Object.values(FLAG_NAMES);
