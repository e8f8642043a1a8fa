// What the firmware checks behind each status its launch commands return. The commands name their
// refusals from this table (refuse in snpFirmware.ts and mailbox.ts), so a launch command cannot
// return a status the catalogue does not explain; kvm-svm explains its EIOs with it.
import { type FwStatus, fwStatus, type SevStatusName } from '../status.js';

/** The firmware commands of a launch as KVM issues them. */
export type LaunchCommandName =
  | 'SNP_LAUNCH_START'
  | 'SNP_ACTIVATE'
  | 'SNP_LAUNCH_UPDATE'
  | 'SNP_LAUNCH_FINISH';

/** One command's refusals: where its checks are specified, and what each status it returns means. */
export interface CommandChecks {
  readonly rule: string;
  /** Each status the command refuses with, once, in the order the command first returns it. */
  readonly refusals: readonly (readonly [status: SevStatusName, check: string])[];
}

const ORDER = '(check order of AMD-ASPFW sev_mcmd.c)';
const NOT_INIT = 'the platform is not initialised (SNP_INIT)';
const NOT_CONTEXT = 'the guest context page is not a guest context';

/** The refusals of each launch command (snpFirmware.ts and mailbox.ts make the checks). */
export const FIRMWARE_CHECKS = {
  SNP_LAUNCH_UPDATE: {
    rule: `SEV-SNP firmware ABI §8.17 SNP_LAUNCH_UPDATE ${ORDER}`,
    refusals: [
      [
        'INVALID_PARAM',
        'a bad page address or VMPL permissions, reserved bits set, an unknown page type, an IMI page expected, or a CPUID page the platform contradicts (the corrected page is written back)',
      ],
      ['INVALID_PLATFORM_STATE', NOT_INIT],
      ['INVALID_GUEST', NOT_CONTEXT],
      [
        'INVALID_PAGE_STATE',
        'the page is not pre-guest: assigned to an ASID, immutable, not validated (RMPUPDATE did not make it private, or it was changed since)',
      ],
      ['INVALID_PAGE_SIZE', 'the RMP page size is not the requested one, or a 2 MiB VMSA/secrets/CPUID page'],
      ['INVALID_ADDRESS', 'a 2 MiB page that is not 2 MiB aligned'],
      ['INVALID_GUEST_STATE', 'the guest is not in the LAUNCH state'],
      ['INACTIVE', 'the guest has no ASID yet (SNP_ACTIVATE)'],
      ['INVALID_PAGE_OWNER', "the page is assigned to another ASID than the guest's"],
    ],
  },
  SNP_LAUNCH_START: {
    rule: `SEV-SNP firmware ABI §8.15 SNP_LAUNCH_START ${ORDER}`,
    refusals: [
      [
        'INVALID_PARAM',
        'a bad guest context address or GOSVW, a bad migration agent address, or reserved flags set',
      ],
      ['UNSUPPORTED', 'MA_EN: the model has no migration agents'],
      ['INVALID_PLATFORM_STATE', NOT_INIT],
      ['INVALID_GUEST', NOT_CONTEXT],
      ['INVALID_GUEST_STATE', 'the guest is not in the INIT state (it was launched already)'],
      [
        'POLICY_FAILURE',
        'the policy asks for what the platform cannot give (ABI version, SMT), clears bit 17 or sets a reserved bit',
      ],
    ],
  },
  SNP_ACTIVATE: {
    rule: `SEV-SNP firmware ABI §8.10 SNP_ACTIVATE ${ORDER}`,
    refusals: [
      ['INVALID_PARAM', 'a bad guest context address or ASID'],
      ['INVALID_PLATFORM_STATE', NOT_INIT],
      ['INVALID_GUEST', NOT_CONTEXT],
      ['INVALID_GUEST_STATE', 'the guest is in the INIT state (no SNP_LAUNCH_START yet)'],
      ['INVALID_CONFIG', 'pages are still assigned to the ASID'],
      ['POLICY_FAILURE', 'the policy asks for a single socket and the platform has more'],
      ['INVALID_ASID', 'the ASID is 0 or beyond the SNP ASIDs'],
      ['ASID_OWNED', 'another guest holds the ASID'],
      ['ACTIVE', 'the guest has an ASID already'],
      ['DFFLUSH_REQUIRED', 'the ASID was used since the last DF_FLUSH'],
    ],
  },
  SNP_LAUNCH_FINISH: {
    rule: 'SEV-SNP firmware ABI §8.18 SNP_LAUNCH_FINISH',
    refusals: [
      [
        'INVALID_PARAM',
        'a bad guest context, ID block or ID auth address, reserved flags set, a key algorithm other than ECDSA P-384, or HOST_DATA that is not 32 bytes',
      ],
      ['UNSUPPORTED', 'VCEK_DISABLED: the model always signs with the VCEK'],
      [
        'BAD_SIGNATURE',
        'the ID block or author key signature does not verify, or a key is not a P-384 point',
      ],
      ['INVALID_PLATFORM_STATE', NOT_INIT],
      ['INVALID_GUEST', NOT_CONTEXT],
      ['INVALID_GUEST_STATE', 'the guest is not in the LAUNCH state'],
      ['INACTIVE', 'the guest has no ASID yet (SNP_ACTIVATE)'],
      ['BAD_MEASUREMENT', "the ID block's expected launch digest is not the guest's"],
      ['POLICY_FAILURE', "the ID block's policy is not the guest's"],
    ],
  },
} as const satisfies Readonly<Record<LaunchCommandName, CommandChecks>>;

/** The statuses `command` may refuse with: those its catalogue entry explains. */
export type Refusal<C extends LaunchCommandName> = (typeof FIRMWARE_CHECKS)[C]['refusals'][number][0];

/**
 * The status of a refusal of `_command` (which only types `status`: the compiler rejects a status
 * the command's catalogue entry does not explain).
 */
export function refuse<C extends LaunchCommandName>(_command: C, status: Refusal<C>): FwStatus {
  return fwStatus(status);
}
