import { LaunchOptionsError } from '../errors.js';
import data from './host-kernels.json' with { type: 'json' };

/** A mainline Linux release, as `uname -r` starts: major.minor (a patch level and suffix are read past). */
export interface KernelVersion {
  readonly major: number;
  readonly minor: number;
}

/** What a change does to one VMSA field. */
export type FieldChange = (
  | { readonly kind: 'set'; readonly bits: bigint }
  | { readonly kind: 'clear'; readonly bits: bigint }
  /** Zero before the release, the VMM profile's value from it. */
  | { readonly kind: 'zero-before' }
) & {
  /** The condition on the host, when there is one ("the CPU has DebugSwap"). */
  readonly when?: string;
};

/** One change of KVM's initial VMSA (host-kernels.json), with its commit and a public copy of the patch. */
export interface HostKernelChange {
  readonly kernel: KernelVersion;
  readonly commit: string;
  readonly title: string;
  readonly source: string;
  readonly note: string;
  readonly fields: Readonly<Record<string, FieldChange>>;
  /** Stable branches that took the change later. */
  readonly stable: readonly string[];
}

const VERSION = /^v?(\d{1,3})\.(\d{1,3})(?:\.\d{1,4})?(?:[-+~_][\w.+~-]*)?$/;

/** "6.8", "v6.10", "6.8.0-45-generic"; LaunchOptionsError otherwise. */
export function parseKernelVersion(text: string): KernelVersion {
  const match = VERSION.exec(text);
  if (match === null)
    throw new LaunchOptionsError(
      `host kernel: expected a Linux version such as 6.8, 6.10 or 6.8.0-45-generic, got ${JSON.stringify(text)}`,
    );
  return { major: Number(match[1]), minor: Number(match[2]) };
}

/** A kernel version as "major.minor". */
export const versionText = (v: KernelVersion) => `${v.major}.${v.minor}`;
const atLeast = (v: KernelVersion, w: KernelVersion) =>
  v.major > w.major || (v.major === w.major && v.minor >= w.minor);

function fieldChange(op: Record<string, unknown>, where: string): FieldChange {
  const when = typeof op.when === 'string' ? { when: op.when } : {};
  if (typeof op.set === 'string') return { kind: 'set', bits: BigInt(op.set), ...when };
  if (typeof op.clear === 'string') return { kind: 'clear', bits: BigInt(op.clear), ...when };
  if (op.zeroBefore === true) return { kind: 'zero-before', ...when };
  throw new Error(`host-kernels.json ${where}: expected set, clear or zeroBefore`);
}

/** The changes, oldest first. */
export const HOST_KERNEL_CHANGES: readonly HostKernelChange[] = data.changes.map((c) => ({
  ...c,
  kernel: parseKernelVersion(c.kernel),
  stable: 'stable' in c ? c.stable : [],
  fields: Object.fromEntries(
    Object.entries(c.fields).map(([field, op]) => [field, fieldChange(op, `${c.commit} ${field}`)]),
  ),
}));

/** A change in words: `6.8 5abf6dceb066 "SEV: disable SEV-ES DebugSwap by default"`. */
export const changeName = (c: HostKernelChange) => `${versionText(c.kernel)} ${c.commit} "${c.title}"`;

/** What a change does to a field, in words: "sets 0x20 when …", "copied into the VMSA". */
export const fieldChangeText = (op: FieldChange) =>
  op.kind === 'zero-before'
    ? 'copied into the VMSA'
    : `${op.kind === 'set' ? 'sets' : 'clears'} 0x${op.bits.toString(16)}${op.when ? ` when ${op.when}` : ''}`;

/** Stable branches this version may be on that took a later change (a note for the user). */
export function laterBackports(version: KernelVersion): HostKernelChange[] {
  return HOST_KERNEL_CHANGES.filter(
    (c) => !atLeast(version, c.kernel) && c.stable.includes(versionText(version)),
  );
}

interface Setting {
  readonly field: string;
  readonly value: bigint;
  readonly from: string;
}

/**
 * The initial VMSA's settings on host kernel `version`: each field a change touches takes its value
 * at that release and names the changes behind it; fields in `keep` (given by flag) stay as they are.
 */
export function onHostKernel<S extends Setting>(
  settings: readonly S[],
  version: KernelVersion,
  keep: ReadonlySet<string> = new Set(),
): S[] {
  const linux = `Linux ${versionText(version)}`;
  return settings.map((s) => {
    const changes = HOST_KERNEL_CHANGES.filter((c) => c.fields[s.field] !== undefined);
    if (changes.length === 0 || keep.has(s.field)) return s;
    let value = s.value;
    const applied: string[] = [];
    for (const c of changes) {
      const op = c.fields[s.field] as FieldChange;
      const ok = atLeast(version, c.kernel);
      if (op.kind === 'zero-before' && !ok) value = 0n;
      if (op.kind === 'set' && ok) value |= op.bits;
      if (op.kind === 'clear' && ok) value &= ~op.bits;
      if (ok) applied.push(`${fieldChangeText(op)} since ${changeName(c)}`);
    }
    const next = changes.find((c) => !atLeast(version, c.kernel));
    const pending =
      next === undefined
        ? []
        : [`${fieldChangeText(next.fields[s.field] as FieldChange)} only from ${changeName(next)}`];
    return { ...s, value, from: `${linux}: ${[...applied, ...pending].join('; ')} (${s.from})` };
  });
}

/**
 * The changes that explain a field going from `a` to `b` (or back): a bit one of them sets or
 * clears, or a value one of them copies into the VMSA where it was zero.
 */
export function changesBehind(field: string, a: bigint, b: bigint): HostKernelChange[] {
  return HOST_KERNEL_CHANGES.filter((c) => {
    const op = c.fields[field];
    if (op === undefined || a === b) return false;
    if (op.kind === 'zero-before') return a === 0n || b === 0n;
    return (a ^ b) === op.bits;
  });
}
