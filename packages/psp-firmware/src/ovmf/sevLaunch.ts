import { createHash } from 'node:crypto';
import { LaunchOptionsError } from '../errors.js';
import type { VmsaValues } from '../vmsa/layout.js';
import { encodeVmsa } from '../vmsa/layout.js';
import { checkImageSize, type OvmfImage, parseOvmfImage } from './image.js';
import { launchVmsas, ovmfVmsaProvenance, type VcpuOptions, type VmsaProvenance } from './launch.js';
import { type KernelHashes, sevHashesTable } from './sevHashes.js';

/** The two launches before SNP, as sev-snp-measure's --mode names them. */
export type SevMode = 'sev' | 'seves';

/**
 * One LAUNCH_UPDATE_DATA or LAUNCH_UPDATE_VMSA of a SEV or SEV-ES launch. VMSAs have no guest
 * address: the firmware encrypts each vCPU's save area in place (SEV API spec #55766, LAUNCH_UPDATE_VMSA).
 */
export interface SevRegion {
  readonly kind: 'firmware' | 'hashes-table' | 'vmsa';
  readonly gpa?: number;
  readonly bytes: Uint8Array;
  /** vmsa regions: the vCPU and the VMSA's fields. */
  readonly vcpu?: number;
  readonly vmsa?: VmsaValues;
  /** The hashes-table region: the SHA-256 of each entry, as the table holds them. */
  readonly hashes?: KernelHashes;
}

/** An SEV or SEV-ES launch: what LAUNCH_UPDATE_DATA and LAUNCH_UPDATE_VMSA measure, in order. */
export interface SevLaunch {
  readonly mode: SevMode;
  readonly regions: readonly SevRegion[];
  /** SEV-ES: the VMSAs by role with where each field comes from; SEV has none. */
  readonly vmsas: VmsaProvenance;
}

/** What an SEV or SEV-ES launch of an OVMF image needs besides the image. */
export interface SevLaunchOptions extends Omit<VcpuOptions, 'guestFeatures'> {
  readonly mode: SevMode;
  readonly kernelHashes?: KernelHashes;
}

const FOUR_GIB = 2 ** 32;

/** sev-snp-measure guest.py seves_calc_launch_digest builds every SEV-ES VMSA with SEV_FEATURES 0. */
const SEV_ES_FEATURES = {
  guestFeatures: 0n,
  guestFeaturesFrom:
    'SEV-ES: 0 whatever --guest-features says (sev-snp-measure guest.py seves_calc_launch_digest)',
} as const;

/**
 * A SEV or SEV-ES launch of OVMF as QEMU performs it and sev-snp-measure computes it (guest.py
 * sev_calc_launch_digest, seves_calc_launch_digest): the firmware image, then the padded SEV hashes
 * table when a kernel is given (QEMU target/i386/sev.c sev_add_kernel_loader_hashes), then for
 * SEV-ES one VMSA per vCPU. A SEV launch without a kernel reads nothing of the image, so an OVMF
 * without a footer table (builds before 2021) measures too.
 */
export function sevLaunch(bytes: Uint8Array, options: SevLaunchOptions): SevLaunch {
  const { mode, kernelHashes } = options;
  if (mode === 'sev' && kernelHashes === undefined) {
    checkImageSize(bytes.length);
    return { mode, regions: [firmware(bytes)], vmsas: [] };
  }
  const image = parseOvmfImage(bytes);
  const regions = [firmware(bytes)];
  if (kernelHashes !== undefined) regions.push(hashesTable(image, kernelHashes));
  if (mode === 'sev') return { mode, regions, vmsas: [] };
  const vcpus = { ...options, ...SEV_ES_FEATURES };
  const pages = new Map<VmsaValues, Uint8Array>();
  launchVmsas(image, vcpus).forEach((vmsa, vcpu) => {
    const bytes = pages.get(vmsa) ?? encodeVmsa(vmsa);
    pages.set(vmsa, bytes);
    regions.push({ kind: 'vmsa', bytes, vcpu, vmsa });
  });
  return { mode, regions, vmsas: ovmfVmsaProvenance(image, vcpus) };
}

const firmware = (bytes: Uint8Array): SevRegion => ({
  kind: 'firmware',
  gpa: FOUR_GIB - bytes.length,
  bytes,
});

/** The table is encrypted where the image's SEV hashes table entry puts it, if that entry is there and not 0 (ovmf.py is_sev_hashes_table_supported). */
function hashesTable(image: OvmfImage, hashes: KernelHashes): SevRegion {
  const gpa = image.sevHashesTableGpa;
  if (gpa === undefined || gpa === 0)
    throw new LaunchOptionsError(
      "Kernel specified but OVMF doesn't support kernel/initrd/cmdline measurement",
    );
  return { kind: 'hashes-table', gpa, bytes: sevHashesTable(hashes), hashes };
}

/** A region as measured: its own SHA-256 and the launch digest once it is in. */
export interface SevStep {
  readonly region: SevRegion;
  readonly sha256: string;
  readonly digest: string;
}

/**
 * GCTX.LD of a SEV or SEV-ES launch: one SHA-256 over every byte LAUNCH_UPDATE_DATA and
 * LAUNCH_UPDATE_VMSA encrypt, in order (SEV API spec #55766; LAUNCH_MEASURE then HMACs it with the
 * TIK, which sev-snp-measure leaves out). Not a PAGE_INFO chain: no page types, no per-page digests.
 */
export function measureSevLaunch(launch: Pick<SevLaunch, 'regions'>): { digest: string; steps: SevStep[] } {
  const ld = createHash('sha256');
  const steps = launch.regions.map((region) => {
    ld.update(region.bytes);
    const sha256 = createHash('sha256').update(region.bytes).digest('hex');
    return { region, sha256, digest: ld.copy().digest('hex') };
  });
  return { digest: ld.digest('hex'), steps };
}
