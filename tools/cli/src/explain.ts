// `snp-ref explain`: which checks can make a KVM SNP command return this ret and fw_error.
import { type Check, explainFailure, type KvmCommand } from '@snp-ref/kvm-svm';
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
  readonly kernel: readonly Check[];
  readonly firmware: readonly Check[];
  readonly note?: string;
}

export function explain(cmdText: string, retText: string, fwText = '0'): Explanation {
  const cmd = command(cmdText);
  const err = errno(retText);
  const fw = fwError(fwText);
  const checks = explainFailure(cmd, err, fw);
  const note =
    fw !== undefined && err !== 'EIO' && err !== 'ENOTTY'
      ? `a firmware status comes back with ret -EIO (-5) (-ENOTTY for SNP_GCTX_CREATE); ret -${Errno[err]} with fw_error ${fw} is not a combination KVM produces`
      : undefined;
  return {
    cmd,
    errno: err,
    fwError: fw ?? 'SUCCESS',
    kernel: checks.filter((c) => c.side === 'kernel'),
    firmware: checks.filter((c) => c.side === 'firmware'),
    ...(note && { note }),
  };
}

export function formatExplanation(e: Explanation): string {
  const item = (c: Check) => `  - ${c.check}${c.abi ? ` [${c.abi} ABI only]` : ''}\n    rule: ${c.rule}`;
  const lines = [
    `KVM_SEV_SNP_${e.cmd.toUpperCase()} returned -${Errno[e.errno]} (${e.errno}) with fw_error ${e.fwError === 'SUCCESS' ? '0' : `0x${SevStatus[e.fwError].toString(16)} (${e.fwError})`}.`,
    '',
  ];
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
