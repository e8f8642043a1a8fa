// `snp-ref measure --mode …`: the launch of an OVMF guest in each of sev-snp-measure's modes.

import { resolve } from 'node:path';
import {
  changeName,
  checkImageSize,
  firmwareOp,
  type LaunchPlan,
  laterBackports,
  ovmfLaunchPlan,
  ovmfVmsaProvenance,
  parseKernelVersion,
  parseOvmfImage,
  type SevLaunch,
  sevLaunch,
  svsmImages,
  svsmLaunchPlan,
  svsmVmsaProvenance,
  type VmmType,
  type VmsaProvenance,
  versionText,
} from '@snp-ref/psp-firmware/measure';
import {
  checkKernelFlags,
  FLAG_NAMES,
  FlagError,
  fileSize,
  integer,
  kernelHashes,
  type OvmfFlags,
  readImage,
  vcpuCount,
  vcpuSignature,
  vmmTypeOf,
} from './ovmfFlags.js';

const VCPU_FLAGS = ['vcpus', 'vcpuType', 'vcpuSig', 'vcpuFamily', 'vcpuModel', 'vcpuStepping'] as const;
const SVSM_FLAGS = ['svsm', 'varsSize', 'varsFile'] as const;

/**
 * sev-snp-measure's guest modes (cli.py --mode): the name `-v` prints (cli.py print_measurement,
 * SevMode names) and the flags the mode accepts but does not measure (guest.py calc_launch_digest).
 */
export const GUEST_MODES = {
  sev: { label: 'SEV', unused: [...VCPU_FLAGS, 'vmmType', 'guestFeatures', 'hostKernel', ...SVSM_FLAGS] },
  seves: { label: 'SEV_ES', unused: ['guestFeatures', ...SVSM_FLAGS] },
  snp: { label: 'SEV_SNP', unused: SVSM_FLAGS },
  'snp:ovmf-hash': { label: 'SEV_SNP', unused: [] },
  'snp:svsm': { label: 'SEV_SNP_SVSM', unused: ['kernel', 'initrd', 'append', 'guestFeatures'] },
} as const satisfies Record<string, { label: string; unused: readonly (keyof OvmfFlags)[] }>;
export type GuestMode = keyof typeof GUEST_MODES;

/**
 * A launch laid out from the flags: a PAGE_INFO chain (SNP modes) or a SEV/SEV-ES SHA-256, with its
 * VMSAs' provenance. An SNP plan names its images by path; `images` holds the bytes read from them,
 * so the pages measured are those the metadata was parsed from.
 */
export type OvmfLaunch =
  | {
      readonly mode: GuestMode;
      readonly plan: LaunchPlan;
      readonly vmsas: VmsaProvenance;
      readonly images: ReadonlyMap<string, Uint8Array>;
    }
  | { readonly mode: GuestMode; readonly sev: SevLaunch; readonly vmsas: VmsaProvenance };

export function guestMode(mode: string): GuestMode {
  if (!Object.hasOwn(GUEST_MODES, mode))
    throw new FlagError(
      `--mode: ${JSON.stringify(mode)} is not a guest mode; expected one of ${Object.keys(GUEST_MODES).join(', ')}`,
    );
  return mode as GuestMode;
}

/**
 * The launch `--mode` names, with images referred to by absolute path so a plan replays from
 * anywhere; relative paths are from `cwd`. Flags the mode does not measure are reported through
 * `note` (sev-snp-measure ignores them silently). FlagError or FirmwareInputError name what is wrong.
 */
export async function ovmfLaunch(
  flags: OvmfFlags,
  cwd: string,
  note: (text: string) => void,
): Promise<OvmfLaunch> {
  const mode = guestMode(flags.mode);
  if (flags.ovmf === undefined) throw new FlagError('--ovmf: the OVMF image is required');
  const ovmfPath = resolve(cwd, flags.ovmf);
  const bytes = readImage('--ovmf', ovmfPath, cwd);
  if (mode === 'snp:ovmf-hash') {
    checkImageSize(bytes.length);
    const ops = [firmwareOp({ gpa: 2 ** 32 - bytes.length, bytes }, ovmfPath)];
    const plan = { name: `ovmf-hash ${ovmfPath}`, seed: '', ops };
    return { mode, plan, vmsas: [], images: new Map([[ovmfPath, bytes]]) };
  }
  checkKernelFlags(flags);
  for (const key of GUEST_MODES[mode].unused)
    if (flags[key] !== undefined)
      note(`note: ${FLAG_NAMES[key]} is not measured in guest mode '${mode}' (as in sev-snp-measure)`);
  if (flags.snpOvmfHash !== undefined && mode !== 'snp')
    throw new FlagError(`--snp-ovmf-hash: SNP OVMF hash only works with SNP (guest mode '${mode}')`);
  const vmmType = vmmTypeOf(flags.vmmType);
  if (mode === 'sev') {
    const hashes = await kernelHashes(flags, cwd);
    const sev = sevLaunch(bytes, {
      mode,
      vcpus: 0,
      vcpuSignature: 0,
      vmmType,
      ...(hashes && { kernelHashes: hashes }),
    });
    return { mode, sev, vmsas: sev.vmsas };
  }
  const vcpus = vcpuCount(flags);
  const vmm = mode === 'snp:svsm' ? 'qemu' : vmmType;
  const signature = vcpuSignature(flags, vmm);
  const cpu = { vcpus, vcpuSignature: signature.value, vcpuSignatureFrom: signature.from };
  if (mode === 'snp:svsm') {
    if (vmmType !== 'qemu') throw new FlagError('--vmm-type: SVSM mode is only implemented for Qemu.');
    if (flags.hostKernel !== undefined)
      throw new FlagError(
        "--host-kernel: the SVSM's VMSA is Coconut's QEMU's, not KVM's defaults (sev-snp-measure matched it on one host)",
      );
    return svsmLaunch(flags, ovmfPath, bytes, cpu, cwd);
  }
  const hashes = await kernelHashes(flags, cwd);
  const kernel = hostKernel(flags, vmmType, note, mode === 'snp' && flags.guestFeatures !== undefined);
  if (mode === 'seves') {
    const sev = sevLaunch(bytes, {
      mode,
      ...cpu,
      vmmType,
      ...kernel,
      ...(hashes && { kernelHashes: hashes }),
    });
    return { mode, sev, vmsas: sev.vmsas };
  }
  const ovmfHash = flags.snpOvmfHash;
  if (ovmfHash !== undefined && !/^[0-9a-f]{96}$/i.test(ovmfHash))
    throw new FlagError(
      '--snp-ovmf-hash: expected the 48-byte hash as 96 hex digits (from --mode snp:ovmf-hash)',
    );
  const image = parseOvmfImage(bytes);
  const options = {
    imagePath: ovmfPath,
    ...cpu,
    vmmType,
    guestFeatures: integer('--guest-features', flags.guestFeatures, 64) ?? 1n,
    ...kernel,
    ...(hashes && { kernelHashes: hashes }),
    ...(ovmfHash !== undefined && { ovmfHash: new Uint8Array(Buffer.from(ovmfHash, 'hex')) }),
  };
  return {
    mode,
    plan: ovmfLaunchPlan(image, options),
    vmsas: ovmfVmsaProvenance(image, options),
    images: new Map([[ovmfPath, bytes]]),
  };
}

/**
 * --host-kernel: KVM's VMSA defaults in that release (QEMU only). A --guest-features given with it
 * (`snp`; `seves` ignores the flag) wins over the kernel's SEV_FEATURES (an admin may have set
 * kvm_amd.debug_swap).
 */
function hostKernel(
  flags: OvmfFlags,
  vmmType: VmmType,
  note: (text: string) => void,
  featuresGiven: boolean,
) {
  if (flags.hostKernel === undefined) return {};
  if (vmmType !== 'qemu')
    throw new FlagError(
      `--host-kernel: models KVM under QEMU; --vmm-type ${flags.vmmType} runs its own hypervisor`,
    );
  const version = parseKernelVersion(flags.hostKernel);
  for (const change of laterBackports(version))
    note(
      `note: stable ${versionText(version)}.y later took ${changeName(change)}: a recent ${versionText(version)}.y measures as ${versionText(change.kernel)}`,
    );
  const keep = featuresGiven ? ['sev_features'] : [];
  return { hostKernel: { version, keep } };
}

/** `--mode snp:svsm`: --svsm below OVMF and its variable store (--vars-size, or --vars-file's size). */
function svsmLaunch(
  flags: OvmfFlags,
  ovmfPath: string,
  ovmf: Uint8Array,
  cpu: { vcpus: number; vcpuSignature: number; vcpuSignatureFrom: string },
  cwd: string,
): OvmfLaunch {
  if (flags.varsFile !== undefined && flags.varsSize !== undefined)
    throw new FlagError('argument --vars-file: not allowed with argument --vars-size');
  // cli.py tests `args.vars_size` for truth: --vars-size 0 counts as not given.
  const varsSize =
    flags.varsFile !== undefined
      ? fileSize('--vars-file', flags.varsFile, cwd)
      : Number(integer('--vars-size', flags.varsSize, 32) ?? 0n) || undefined;
  if (varsSize === undefined)
    throw new FlagError('--vars-size: snp:svsm mode requires --vars-size or --vars-file');
  if (flags.svsm === undefined)
    throw new FlagError("--svsm: the SVSM image is required in guest mode 'snp:svsm'");
  const svsmPath = resolve(cwd, flags.svsm);
  const svsm = readImage('--svsm', svsmPath, cwd);
  const images = svsmImages(ovmf, svsm, varsSize);
  const options = { ...cpu, ovmfPath, svsmPath, varsSize };
  return {
    mode: 'snp:svsm',
    plan: svsmLaunchPlan(images, options),
    vmsas: svsmVmsaProvenance(images, options),
    images: new Map([
      [ovmfPath, ovmf],
      [svsmPath, svsm],
    ]),
  };
}
