import { PAGE_SIZE } from '@snp-ref/rmp-core';
import { LaunchOptionsError, OvmfError } from '../errors.js';
import type { LaunchPlan, PlanOp } from '../measure/plan.js';
import type { VmsaValues } from '../vmsa/layout.js';
import {
  BSP_RESET_EIP,
  type ResetInputs,
  resetSettings,
  resetVmsaValues,
  type VmmType,
} from '../vmsa/resetState.js';
import { type MetadataSection, OvmfGuid, type OvmfImage } from './image.js';
import { type KernelHashes, SEV_HASHES_TABLE_BYTES, sevHashesTable } from './sevHashes.js';

/**
 * What an SEV-SNP launch of an OVMF image needs besides the image: vCPUs, their signature and features, the
 * VMM, kernel hashes.
 */
export interface OvmfLaunchOptions {
  /** How the plan names the image file its NORMAL pages come from. */
  readonly imagePath: string;
  readonly vcpus: number;
  /** CPUID Fn0000_0001 EAX of the guest's vCPU type (QEMU puts it in RDX at reset). */
  readonly vcpuSignature: number;
  /** Where the signature came from (a vCPU type, a flag), for the VMSA's provenance. */
  readonly vcpuSignatureFrom?: string;
  readonly vmmType: VmmType;
  /** SEV_FEATURES of every VMSA (sev-snp-measure --guest-features; 0x1 = SNP active). */
  readonly guestFeatures: bigint;
  /** -kernel/-initrd/-append digests, measured in the SNP_KERNEL_HASHES page. */
  readonly kernelHashes?: KernelHashes;
  /** A precomputed digest of the firmware pages (`--mode snp:ovmf-hash`): the chain starts there. */
  readonly ovmfHash?: Uint8Array;
  /** The VMSA defaults of KVM in this host kernel rather than today's (hostKernel.ts). */
  readonly hostKernel?: NonNullable<ResetInputs['hostKernel']>;
}

/** The firmware image as NORMAL pages ending at 4 GiB: what `--mode snp:ovmf-hash` measures. */
export function firmwareOp(image: Pick<OvmfImage, 'gpa' | 'bytes'>, imagePath: string): PlanOp {
  return {
    op: 'normal',
    gpa: image.gpa,
    pages: image.bytes.length / PAGE_SIZE,
    file: { path: imagePath, offset: 0 },
  };
}

/**
 * The launch QEMU performs for an SNP guest booting this OVMF (and what sev-snp-measure computes):
 * the image as NORMAL pages, then each SEV metadata section in table order (EC2 moves CPUID pages
 * last; GCE leaves SNP_SEC_MEM unmeasured), then one VMSA per vCPU, BSP first.
 */
export function ovmfLaunchPlan(image: OvmfImage, options: OvmfLaunchOptions): LaunchPlan {
  checkOptions(options);
  const hasKernelSection = image.sections.some((s) => s.type === 'SNP_KERNEL_HASHES');
  if (options.kernelHashes !== undefined && !hasKernelSection)
    throw new LaunchOptionsError(
      "Kernel specified but OVMF metadata doesn't include SNP_KERNEL_HASHES section",
    );
  const sections =
    options.vmmType === 'ec2'
      ? [
          ...image.sections.filter((s) => s.type !== 'CPUID'),
          ...image.sections.filter((s) => s.type === 'CPUID'),
        ]
      : image.sections;
  return {
    name: `ovmf ${options.imagePath}`,
    seed: '',
    ...(options.ovmfHash ? { initialDigest: options.ovmfHash } : {}),
    ops: [
      ...(options.ovmfHash ? [] : [firmwareOp(image, options.imagePath)]),
      ...sections.map((s) => sectionOp(s, image, options)),
      ...launchVmsas(image, options).map(vmsaOp),
    ],
  };
}

/** The VMSA op of a launch (recorded at VMSA_GPA whatever its gpa). */
export const vmsaOp = (vmsa: VmsaValues): PlanOp => ({ op: 'vmsa', gpa: 0xffff_ffff_f000, pages: 1, vmsa });

/** What the VMSAs of an OVMF guest depend on (SNP and SEV-ES alike). */
export type VcpuOptions = Pick<
  OvmfLaunchOptions,
  'vcpus' | 'vcpuSignature' | 'vcpuSignatureFrom' | 'vmmType' | 'guestFeatures' | 'hostKernel'
> &
  Pick<ResetInputs, 'guestFeaturesFrom'>;

/**
 * The VMSA of each vCPU: the BSP at the reset vector, the APs at the image's SEV-ES reset block,
 * which must exist even for one vCPU (sev-snp-measure guest.py reads it before vmsa.py VMSA.pages).
 */
export function launchVmsas(image: OvmfImage, options: VcpuOptions): VmsaValues[] {
  checkOptions(options);
  const ap = resetVmsaValues({ ...options, eip: apResetEip(image) });
  const bsp = resetVmsaValues({ ...options, eip: BSP_RESET_EIP });
  // The APs share one object: callers encode each distinct VMSA once, however many vCPUs.
  return Array.from({ length: options.vcpus }, (_, i) => (i === 0 ? bsp : ap));
}

/** A launch's VMSAs by role, each field with its value and where it comes from. */
export type VmsaProvenance = {
  readonly role: string;
  readonly vcpus: string;
  readonly eip: number;
  readonly settings: ReturnType<typeof resetSettings>;
}[];

/** "0", "1", "1-3": a range of vCPU numbers. */
export const vcpuRange = (first: number, last: number) => (first === last ? `${first}` : `${first}-${last}`);

export function apResetEip(image: OvmfImage): number {
  if (image.sevEsResetEip === undefined) {
    throw new OvmfError(
      'footer table',
      `no SEV-ES reset block (GUID ${OvmfGuid.SEV_ES_RESET_BLOCK}): this firmware cannot start vCPUs under SEV-SNP`,
    );
  }
  return image.sevEsResetEip;
}

/** The VMSAs of a launch, BSP then APs (all alike), each field with its value and where it comes from. */
export function ovmfVmsaProvenance(image: OvmfImage, options: VcpuOptions): VmsaProvenance {
  checkOptions(options);
  const roles = [{ role: 'BSP', vcpus: '0', eip: BSP_RESET_EIP }];
  if (options.vcpus > 1)
    roles.push({ role: 'AP', vcpus: vcpuRange(1, options.vcpus - 1), eip: apResetEip(image) });
  return roles.map((r) => ({ ...r, settings: resetSettings({ ...options, eip: r.eip }) }));
}

/** The LAUNCH_UPDATE of one SEV metadata section (sev-snp-measure guest.py snp_update_section). */
export function sectionOp(
  section: MetadataSection,
  image: OvmfImage,
  options: Pick<OvmfLaunchOptions, 'vmmType' | 'kernelHashes'>,
): PlanOp {
  const { gpa, size } = section;
  const pages = size / PAGE_SIZE;
  switch (section.type) {
    case 'SNP_SEC_MEM':
      return { op: options.vmmType === 'gce' ? 'unmeasured' : 'zero', gpa, pages };
    case 'SNP_SECRETS':
      return { op: 'secrets', gpa, pages: 1 };
    case 'CPUID':
      return { op: 'cpuid', gpa, pages: 1 };
    case 'SVSM_CAA':
      return { op: 'zero', gpa, pages };
    case 'SNP_KERNEL_HASHES':
      if (options.kernelHashes === undefined) return { op: 'zero', gpa, pages };
      return { op: 'normal', gpa, pages, bytes: hashesTable(image, section, options.kernelHashes) };
  }
}

/** The SEV hashes table at its place in the SNP_KERNEL_HASHES page (the offset of its gpa in the page). */
function hashesTable(image: OvmfImage, section: MetadataSection, hashes: KernelHashes) {
  const tableGpa = image.sevHashesTableGpa;
  if (tableGpa === undefined)
    throw new OvmfError('footer table', `no SEV hashes table entry (GUID ${OvmfGuid.SEV_HASH_TABLE_RV})`);
  if (section.size !== PAGE_SIZE)
    throw new OvmfError(
      'SEV metadata',
      `the SNP_KERNEL_HASHES section is ${section.size} bytes, expected one page`,
    );
  const offset = tableGpa % PAGE_SIZE;
  if (offset + SEV_HASHES_TABLE_BYTES > PAGE_SIZE)
    throw new OvmfError(
      'footer table',
      `the SEV hashes table at 0x${tableGpa.toString(16)} crosses a page boundary`,
    );
  return { offset, data: sevHashesTable(hashes) };
}

export function checkOptions(
  options: Pick<OvmfLaunchOptions, 'vcpus' | 'vcpuSignature' | 'guestFeatures'>,
): void {
  const { vcpus, vcpuSignature, guestFeatures } = options;
  if (!Number.isSafeInteger(vcpus) || vcpus < 1)
    throw new LaunchOptionsError(`vcpus: expected at least 1, got ${vcpus}`);
  if (!Number.isInteger(vcpuSignature) || vcpuSignature < 0 || vcpuSignature > 0xffff_ffff)
    throw new LaunchOptionsError(`vcpu signature: expected a 32-bit value, got ${vcpuSignature}`);
  if (guestFeatures < 0n || guestFeatures >> 64n !== 0n)
    throw new LaunchOptionsError(
      `guest features: expected a 64-bit value, got 0x${guestFeatures.toString(16)}`,
    );
}
