import { PAGE_SIZE } from '@snp-ref/rmp-core';
import { LaunchOptionsError, OvmfError } from '../errors.js';
import type { LaunchPlan } from '../measure/plan.js';
import { resetSettings, resetVmsaValues, SVSM_RESET_STATE } from '../vmsa/resetState.js';
import { checkImageSize, OvmfGuid, type OvmfImage, parseOvmfImage } from './image.js';
import {
  checkOptions,
  firmwareOp,
  type OvmfLaunchOptions,
  sectionOp,
  type VmsaProvenance,
  vcpuRange,
  vmsaOp,
} from './launch.js';

/** What a launch of a Coconut SVSM below OVMF needs besides the two images. */
export interface SvsmLaunchOptions
  extends Pick<OvmfLaunchOptions, 'vcpus' | 'vcpuSignature' | 'vcpuSignatureFrom'> {
  /** How the plan names the OVMF and SVSM image files. */
  readonly ovmfPath: string;
  readonly svsmPath: string;
  /** Bytes of OVMF_VARS, mapped between the SVSM and OVMF (sev-snp-measure --vars-size). */
  readonly varsSize: number;
}

/** A Coconut SVSM below OVMF: both images, where they sit, and the SVSM's entry point. */
export interface SvsmImages {
  readonly ovmf: Pick<OvmfImage, 'gpa' | 'bytes'>;
  readonly svsm: OvmfImage;
  readonly entry: number;
}

/**
 * Lays out an SVSM launch (sev-snp-measure guest.py svsm_calc_launch_digest): OVMF ends at 4 GiB,
 * OVMF_VARS sits right below it and the SVSM ends where the variable store begins; the SVSM
 * carries OVMF's footer table and SEV metadata format (ovmf.py `SVSM(OVMF)`). OVMF itself is
 * measured but not parsed, so any page-sized image will do.
 */
export function svsmImages(ovmf: Uint8Array, svsm: Uint8Array, varsSize: number): SvsmImages {
  checkImageSize(ovmf.length);
  const ovmfGpa = 2 ** 32 - ovmf.length;
  if (!Number.isSafeInteger(varsSize) || varsSize < 0 || varsSize % PAGE_SIZE !== 0)
    throw new LaunchOptionsError(
      `vars size: expected a multiple of 4096 bytes (OVMF_VARS is whole pages), got ${varsSize}`,
    );
  if (varsSize > ovmfGpa)
    throw new LaunchOptionsError(
      `vars size: ${varsSize} bytes do not fit below OVMF at 0x${ovmfGpa.toString(16)}`,
    );
  const image = parseOvmfImage(svsm, ovmfGpa - varsSize);
  if (image.svsmEntry === undefined)
    throw new OvmfError(
      'SVSM footer table',
      `no SVSM info entry (GUID ${OvmfGuid.SVSM_INFO}): not a Coconut SVSM image`,
    );
  return { ovmf: { gpa: ovmfGpa, bytes: ovmf }, svsm: image, entry: image.svsmEntry };
}

/** Every vCPU of the SVSM starts alike, at the SVSM's entry (vmsa.py VMSA_SVSM.pages). */
const svsmInputs = (images: SvsmImages, options: SvsmLaunchOptions) =>
  ({ ...options, vmmType: 'qemu', eip: images.entry, guestFeatures: 1n }) as const;

/**
 * The launch digest's pages: OVMF, then the SVSM, as NORMAL pages; the SVSM's metadata sections
 * as QEMU measures them (no kernel hashes); one VMSA per vCPU.
 */
export function svsmLaunchPlan(images: SvsmImages, options: SvsmLaunchOptions): LaunchPlan {
  checkOptions({ ...options, guestFeatures: 1n });
  const vmsa = vmsaOp(resetVmsaValues(svsmInputs(images, options), SVSM_RESET_STATE));
  return {
    name: `svsm ${options.svsmPath} below ovmf ${options.ovmfPath}`,
    seed: '',
    ops: [
      firmwareOp(images.ovmf, options.ovmfPath),
      firmwareOp(images.svsm, options.svsmPath),
      ...images.svsm.sections.map((s) => sectionOp(s, images.svsm, { vmmType: 'qemu' })),
      ...Array.from({ length: options.vcpus }, () => vmsa),
    ],
  };
}

/** The SVSM launch's one kind of VMSA, field by field with its source. */
export function svsmVmsaProvenance(images: SvsmImages, options: SvsmLaunchOptions): VmsaProvenance {
  return [
    {
      role: 'SVSM, every vCPU',
      vcpus: vcpuRange(0, options.vcpus - 1),
      eip: images.entry,
      settings: resetSettings(svsmInputs(images, options), SVSM_RESET_STATE),
    },
  ];
}
