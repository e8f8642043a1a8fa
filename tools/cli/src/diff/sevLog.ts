// A SEV or SEV-ES measurement log (`snp-ref measure --mode sev|seves --log`) as diff steps: the
// firmware, the kernel hashes table and each vCPU's VMSA, by name, each with its SHA-256.
import type { SevLogStep } from '../measureLog.js';
import { type DiffStep, isStringRecord, SourceError, type StepSource } from './source.js';

const HEX64 = /^[0-9a-f]{64}$/;
const GPA = /^0x[0-9a-f]+$/i;
const LAUNCHES: Readonly<Record<string, string>> = { sev: 'SEV', seves: 'SEV-ES' };

/** A region's name: what matches it with the other launch's (a firmware of another size is still the firmware). */
function regionName(s: SevLogStep): string | undefined {
  if (s.kind === 'firmware') return 'firmware';
  if (s.kind === 'hashes-table') return 'kernel hashes table';
  if (s.kind === 'vmsa' && Number.isSafeInteger(s.vcpu)) return `VMSA of vCPU ${s.vcpu}`;
  return undefined;
}

const HASH_ENTRIES = ['kernel', 'initrd', 'cmdline'];

function regionStep(file: string, n: number, s: SevLogStep): DiffStep {
  const region = regionName(s);
  if (
    region === undefined ||
    typeof s.sha256 !== 'string' ||
    !HEX64.test(s.sha256) ||
    typeof s.digest !== 'string' ||
    !HEX64.test(s.digest) ||
    !Number.isSafeInteger(s.bytes) ||
    s.bytes < 0 ||
    (s.mode !== undefined && !Object.hasOwn(LAUNCHES, s.mode)) ||
    (s.gpa !== undefined &&
      (typeof s.gpa !== 'string' || !GPA.test(s.gpa) || !Number.isSafeInteger(Number(s.gpa)))) ||
    (s.vmsa !== undefined && !isStringRecord(s.vmsa)) ||
    (s.hashes !== undefined && !isStringRecord(s.hashes, HEX64, HASH_ENTRIES))
  )
    throw new SourceError(
      `${file}:${n}: expected a SEV or SEV-ES log line (kind firmware, hashes-table or vmsa with its vcpu, bytes, sha256 and digest as snp-ref measure --mode sev|seves --log writes them)`,
    );
  return {
    region,
    ...(s.gpa !== undefined && { gpa: Number(s.gpa) }),
    type: s.kind,
    contents: s.sha256,
    bytes: s.bytes,
    ...(s.vmsa && { vmsa: s.vmsa }),
    ...(s.hashes && { hashes: s.hashes }),
  };
}

/** The regions of a SEV or SEV-ES log, its lines parsed (with their line numbers), in order. */
export function sevLogSteps(file: string, lines: readonly (readonly [SevLogStep, number])[]): StepSource {
  const steps = lines.map(([s, n]) => regionStep(file, n, s));
  const mode = lines[0]?.[0].mode;
  const other = lines.find(([s]) => s.mode !== mode);
  if (other !== undefined)
    throw new SourceError(`${file}:${other[1]}: mode ${other[0].mode} after ${mode} on line 1`);
  const launch = (mode !== undefined && LAUNCHES[mode]) || 'SEV or SEV-ES';
  const digest = lines.at(-1)?.[0].digest;
  return { label: `${launch} log ${file}`, kind: 'sev-log', steps, ...(digest !== undefined && { digest }) };
}
