// `snp-ref explain`: which checks can make a KVM SNP command return this ret and fw_error.
import { type Check, explainFailure, type KvmAbi, type KvmCommand } from '@snp-ref/kvm-svm';
import { SevStatus, type SevStatusName, sevStatusName } from '@snp-ref/psp-firmware';
import { Errno, type ErrnoName } from '@snp-ref/rmp-core';
import { CliInputError } from './commandLine/inputError.js';

/** A flag value the user got wrong; the message names the flag. */
export class ExplainError extends CliInputError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

const COMMANDS: readonly KvmCommand[] = ['launch_start', 'launch_update', 'launch_finish'];

/** launch_update, snp_launch_update, KVM_SEV_SNP_LAUNCH_UPDATE, … */
function command(text: string): KvmCommand {
  const name = text
    .toLowerCase()
    .replace(/^kvm_sev_/, '')
    .replace(/^snp_/, '');
  const found = COMMANDS.find((c) => c === name);
  if (found === undefined)
    throw new ExplainError(`--cmd: unknown command "${text}"; expected ${COMMANDS.join(', ')}`);
  return found;
}

const ABIS: readonly KvmAbi[] = ['reviewed', 'v4', 'upstream'];

function abi(text: string): KvmAbi {
  const found = ABIS.find((a) => a === text.toLowerCase());
  if (found === undefined)
    throw new ExplainError(`--abi: unknown ABI "${text}"; expected ${ABIS.join(', ')}`);
  return found;
}

/** -22, 22 or EINVAL. */
function errno(text: string): ErrnoName {
  const byName = Object.hasOwn(Errno, text.toUpperCase()) ? (text.toUpperCase() as ErrnoName) : undefined;
  const byNumber = /^-?\d+$/.test(text)
    ? (Object.entries(Errno).find(([, v]) => v === Math.abs(Number(text)))?.[0] as ErrnoName | undefined)
    : undefined;
  const found = byName ?? byNumber;
  if (found === undefined)
    throw new ExplainError(
      `--ret: "${text}" is not an errno KVM returns here (${Object.keys(Errno).join(', ')})`,
    );
  return found;
}

/** 0, 0x16, 22 or INVALID_PARAM; undefined for 0 (SUCCESS: the firmware did not refuse). */
function fwError(text: string): SevStatusName | undefined {
  const upper = text.toUpperCase();
  const candidate = /^(0x[0-9a-f]+|\d+)$/i.test(text) ? sevStatusName(Number(text)) : upper;
  const name = Object.hasOwn(SevStatus, candidate) ? (candidate as SevStatusName) : undefined;
  if (name === undefined)
    throw new ExplainError(
      `--fw-error: "${text}" is not a firmware status (a number such as 0x16, or a name such as INVALID_PARAM)`,
    );
  return name === 'SUCCESS' ? undefined : name;
}

export interface Explanation {
  readonly cmd: KvmCommand;
  readonly errno: ErrnoName;
  readonly fwError: SevStatusName | 'SUCCESS';
  /** The KVM ABI flavour asked about; absent: every flavour's checks but upstream's populate refusals. */
  readonly abi?: KvmAbi;
  /** upstream: the errnos kvm_gmem_populate can have returned behind this -EIO, as `kernel` lists them. */
  readonly innerErrnos?: readonly ErrnoName[];
  readonly kernel: readonly Check[];
  readonly firmware: readonly Check[];
  readonly note?: string;
}

/**
 * Whether a refusal inside upstream's kvm_gmem_populate fits the fw_error: only the firmware's own
 * failure (sev_gmem_post_populate: __sev_issue_cmd → -EIO inside) sets it; the others come before
 * the firmware runs, so fw_error stays 0 (arch/x86/kvm/svm/sev.c).
 */
const fitsFwError = (c: Check, fw: SevStatusName | undefined): boolean =>
  c.innerErrno === undefined || (c.innerErrno === 'EIO') === (fw !== undefined);

/** What a -EIO hides on upstream (snp_launch_update, arch/x86/kvm/svm/sev.c, Linux 6.11+). */
const HIDDEN_ERRNO =
  'upstream snp_launch_update returns -EIO whenever kvm_gmem_populate fails on the first page of the range (a failure after some pages returns 0 with gfn_start, uaddr and len advanced, and the next call fails on that page); the errno from inside is not reported, only pr_debug("kvm_gmem_populate failed, ret %ld (fw_error %d)") prints it, with dynamic debug on for snp_launch_update';

function noteFor(
  cmd: KvmCommand,
  err: ErrnoName,
  fw: SevStatusName | undefined,
  flavour: KvmAbi | undefined,
): string | undefined {
  if (fw !== undefined && err !== 'EIO' && err !== 'ENOTTY')
    return `a firmware status comes back with ret -EIO (-5) (-ENOTTY for SNP_GCTX_CREATE); ret -${Errno[err]} with fw_error ${fw} is not a combination KVM produces`;
  if (cmd !== 'launch_update' || err !== 'EIO') return undefined;
  if (flavour === 'upstream') return HIDDEN_ERRNO;
  if (flavour === undefined)
    return 'on Linux 6.11 and later (guest_memfd) every refusal inside kvm_gmem_populate is -EIO too: --abi upstream lists them and the errno each hides';
  return undefined;
}

export function explain(cmdText: string, retText: string, fwText = '0', abiText?: string): Explanation {
  const cmd = command(cmdText);
  const err = errno(retText);
  const fw = fwError(fwText);
  const flavour = abiText === undefined ? undefined : abi(abiText);
  const checks = explainFailure(cmd, err, fw, flavour).filter((c) => fitsFwError(c, fw));
  const kernel = checks.filter((c) => c.side === 'kernel');
  const inner = [...new Set(kernel.flatMap((c) => (c.innerErrno === undefined ? [] : [c.innerErrno])))];
  const note = noteFor(cmd, err, fw, flavour);
  return {
    cmd,
    errno: err,
    fwError: fw ?? 'SUCCESS',
    ...(flavour && { abi: flavour }),
    ...(inner.length > 0 && { innerErrnos: inner }),
    kernel,
    firmware: checks.filter((c) => c.side === 'firmware'),
    ...(note && { note }),
  };
}

const errnoText = (e: ErrnoName) => `-${Errno[e]} (${e})`;

export function formatExplanation(e: Explanation): string {
  const only = (c: Check) =>
    e.abi !== undefined
      ? ''
      : c.abi
        ? ` [${c.abi} ABI only]`
        : c.abis
          ? ` [${c.abis.join(', ')} ABIs only]`
          : '';
  const inside = (c: Check) =>
    c.innerErrno ? `\n    inside: kvm_gmem_populate returned ${errnoText(c.innerErrno)}` : '';
  const item = (c: Check) => `  - ${c.check}${only(c)}${inside(c)}\n    rule: ${c.rule}`;
  const lines = [
    `KVM_SEV_SNP_${e.cmd.toUpperCase()} returned ${errnoText(e.errno)} with fw_error ${e.fwError === 'SUCCESS' ? '0' : `0x${SevStatus[e.fwError].toString(16)} (${e.fwError})`}${e.abi ? ` (${e.abi} ABI)` : ''}.`,
    '',
  ];
  if (e.innerErrnos)
    lines.push(
      `The -EIO hides the errno from inside kvm_gmem_populate: ${e.innerErrnos.map(errnoText).join(', ')}; each check below names its own.`,
      '',
    );
  lines.push(
    e.fwError === 'SUCCESS'
      ? 'Kernel-side refusals (fw_error 0: the firmware did not refuse):'
      : 'Kernel side: the call reached the firmware, which refused:',
  );
  lines.push(...(e.kernel.length === 0 ? ['  (none with this errno)'] : e.kernel.map(item)));
  if (e.fwError !== 'SUCCESS') {
    lines.push('', `Firmware checks that return ${e.fwError}:`);
    lines.push(
      ...(e.firmware.length === 0 ? ['  (the model knows none for this command)'] : e.firmware.map(item)),
    );
  }
  if (e.note) lines.push('', `note: ${e.note}`);
  return `${lines.join('\n')}\n`;
}
