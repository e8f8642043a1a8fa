// sev-snp-measure's flags for `snp-ref measure --mode …`, read as that tool reads them.

import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  cmdlineBytes,
  cpuSignature,
  type KernelHashes,
  VCPU_TYPES,
  VMM_TYPES,
  type VmmType,
  vcpuTypeSignature,
  vcpuTypeSource,
} from '@snp-ref/psp-firmware/measure';
import { CliInputError } from './commandLine/inputError.js';
import { errnoCode } from './files.js';

/** The flags of sev-snp-measure that select and shape a launch (values as typed, unparsed). */
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
  readonly svsm?: string;
  readonly varsSize?: string;
  readonly varsFile?: string;
  readonly hostKernel?: string;
}

export const FLAG_NAMES: Readonly<Record<keyof OvmfFlags, string>> = {
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
  svsm: '--svsm',
  varsSize: '--vars-size',
  varsFile: '--vars-file',
  hostKernel: '--host-kernel',
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

/** A flag the user got wrong: the message names it. */
export class FlagError extends CliInputError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

/** An integer in Python's int(x, 0) notation (decimal, 0x…, 0o…, 0b…), as sev-snp-measure reads it. */
export function integer(flag: string, text: string | undefined, bits: number): bigint | undefined {
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

/** A firmware image or variable store is mapped below 4 GiB: a larger file is refused before it is read. */
const MAX_IMAGE_BYTES = 2 ** 32;

/** The size of a file (relative to `cwd`), or a FlagError naming the flag. */
export function fileSize(flag: string, path: string, cwd: string): number {
  try {
    return statSync(resolve(cwd, path)).size;
  } catch (error) {
    throw new FlagError(`${flag}: cannot read ${path} (${errnoCode(error)})`);
  }
}

/**
 * A firmware image (relative to `cwd`), read whole after its size is checked. Synchronously: a few
 * MiB read in one go, where reading them through the thread pool only waits.
 */
export function readImage(flag: string, path: string, cwd: string): Uint8Array {
  const size = fileSize(flag, path, cwd);
  if (size > MAX_IMAGE_BYTES)
    throw new FlagError(`${flag}: ${path} is ${size} bytes; a firmware image must fit below 4 GiB`);
  try {
    return readFileSync(resolve(cwd, path));
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

/** The vCPU signature from --vcpu-family/-model/-stepping, --vcpu-sig or --vcpu-type (sev-snp-measure cli.py get_vcpu_sig). */
export function vcpuSignature(flags: OvmfFlags, vmmType: VmmType): { value: number; from: string } {
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
    throw new FlagError(`missing --vcpu-type or --vcpu-sig or --vcpu-family in guest mode '${flags.mode}'`);
  return { value: 0, from: 'not given (unused by this VMM)' };
}

/** --vcpus, required in every mode but sev (cli.py). */
export function vcpuCount(flags: OvmfFlags): number {
  if (flags.vcpus === undefined)
    throw new FlagError(`--vcpus: missing --vcpus N in guest mode '${flags.mode}'`);
  return Number(integer('--vcpus', flags.vcpus, 16));
}

export function vmmTypeOf(text: string | undefined): VmmType {
  const name = (text ?? 'qemu').toLowerCase();
  if (!(VMM_TYPES as readonly string[]).includes(name))
    throw new FlagError(`--vmm-type: unknown VMM type '${text}'; expected QEMU, ec2 or gce`);
  return name as VmmType;
}

/** --initrd and --append need --kernel, in every mode (cli.py). */
export function checkKernelFlags(flags: OvmfFlags): void {
  if (flags.kernel !== undefined) return;
  if (flags.initrd !== undefined) throw new FlagError('--initrd: --kernel required when using --initrd');
  if (flags.append !== undefined) throw new FlagError('--append: --kernel required when using --append');
}

/** SHA-256 of -kernel, -initrd (empty if not given) and -append with its NUL (sev_hashes.py SevHashes). */
export async function kernelHashes(flags: OvmfFlags, cwd: string): Promise<KernelHashes | undefined> {
  checkKernelFlags(flags);
  if (flags.kernel === undefined) return undefined;
  return {
    kernel: await sha256File('--kernel', flags.kernel, cwd),
    initrd:
      flags.initrd === undefined
        ? createHash('sha256').digest()
        : await sha256File('--initrd', flags.initrd, cwd),
    cmdline: createHash('sha256').update(cmdlineBytes(flags.append)).digest(),
  };
}
