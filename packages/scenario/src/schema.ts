import { FAULT_SITES } from '@snp-ref/kvm-svm';
import { VCPU_TYPES, VMM_TYPES } from '@snp-ref/psp-firmware/measure';
import { z } from 'zod';
import { codeRef, hexData, num, u64 } from './values.js';

// The scenario format of packages/scenario/README.md, version 1: one zod schema is both the validator of
// `snp-ref run` and the JSON Schema of `snp-ref schema`.

/** Free text for the reader of a scenario; the runner ignores it. */
const note = z.string({ error: 'expected a string' }).optional();

const name = z.string({ error: 'expected a VM name' }).min(1, { error: 'expected a non-empty VM name' });
const pageSize = z.enum(['4K', '2M'], { error: 'expected "4K" or "2M"' });
const gmemName = z
  .string({ error: 'expected a guest_memfd name' })
  .min(1, { error: 'expected a non-empty guest_memfd name' });

/**
 * The vCPU state LAUNCH_FINISH builds each VMSA from: the VMM profiles of `snp-ref measure`
 * (sev-snp-measure's --vmm-type, --vcpu-type or --vcpu-sig, --guest-features), and the APs' reset
 * EIP (the OVMF SEV-ES reset block's; default the BSP's).
 */
const vmsa = z
  .strictObject({
    vmm: z
      .string()
      .transform((v) => v.toLowerCase())
      .pipe(z.enum(VMM_TYPES, { error: 'expected "QEMU", "ec2" or "gce"' })),
    vcpuType: z
      .enum(VCPU_TYPES as [string, ...string[]], { error: `expected one of ${VCPU_TYPES.join(', ')}` })
      .optional(),
    vcpuSig: num.optional(),
    guestFeatures: u64.optional(),
    apResetEip: num.optional(),
  })
  .refine((v) => v.vmm !== 'qemu' || v.vcpuType !== undefined || v.vcpuSig !== undefined, {
    error: 'QEMU puts the vCPU signature in RDX: give vcpuType or vcpuSig',
  });

const step = z.discriminatedUnion(
  'op',
  [
    z.strictObject({
      note,
      op: z.literal('vm.create'),
      vm: name,
      asid: num.optional(),
      vcpus: num.optional(),
      vmsa: vmsa.optional(),
    }),
    z.strictObject({
      note,
      op: z.literal('mmap'),
      vm: name,
      hva: num,
      pfn: num,
      pages: num,
      fill: z
        .union([
          z.literal('zero'),
          z.strictObject({ seed: z.string() }),
          // A file's bytes from `offset` (zero past its end); a path relative to the scenario's directory.
          z.strictObject({ file: z.string().min(1), offset: num.optional() }),
        ])
        .optional(),
    }),
    z.strictObject({
      note,
      op: z.literal('memslot.set'),
      vm: name,
      slot: num,
      gpa: num,
      hva: num,
      size: num,
      // upstream: the guest_memfd behind the slot's private pages and the byte offset into it.
      gmem: gmemName.optional(),
      gmemOffset: num.optional(),
    }),
    z.strictObject({ note, op: z.literal('gmem.create'), vm: name, name: gmemName, pfn: num, pages: num }),
    z.strictObject({
      note,
      op: z.literal('memory.attributes'),
      vm: name,
      gpa: num,
      size: num,
      private: z.boolean(),
    }),
    z.strictObject({ note, op: z.literal('snp.launch_start'), vm: name, policy: u64.optional() }),
    z.strictObject({
      note,
      op: z.literal('snp.launch_update'),
      vm: name,
      hva: num,
      gpa: num,
      len: num,
      // Any name: an unknown type is the step's EINVAL (README.md "Errors a step reports"), not an invalid file.
      type: z
        .string({ error: 'expected a page type name' })
        .describe('normal, vmsa, zero, unmeasured, secrets or cpuid'),
    }),
    z.strictObject({ note, op: z.literal('snp.launch_finish'), vm: name }),
    z.strictObject({
      note,
      op: z.literal('inject'),
      at: z.enum(FAULT_SITES, {
        error: `expected one of ${FAULT_SITES.map((s) => `"${s}"`).join(', ')}`,
      }),
      nth: num,
      // A code for psp.launch_update and rmpupdate; the kernel sites fail as their API does (README).
      error: codeRef.optional(),
    }),
    z.strictObject({
      note,
      op: z.literal('hv.rmpupdate'),
      pfn: num,
      entry: z.strictObject({
        assigned: z.boolean(),
        asid: num,
        gpa: num,
        pageSize,
        immutable: z.boolean(),
      }),
    }),
    z.strictObject({ note, op: z.literal('hv.read'), vm: name, hva: num, len: num }),
    z.strictObject({ note, op: z.literal('hv.write'), vm: name, hva: num, data: hexData }),
    z.strictObject({
      note,
      op: z.literal('guest.pvalidate'),
      vm: name,
      gpa: num,
      validate: z.boolean(),
      pageSize: pageSize.optional(),
    }),
    z.strictObject({
      note,
      op: z.literal('guest.read'),
      vm: name,
      gpa: num,
      len: num,
      private: z.boolean().optional(),
    }),
    z.strictObject({
      note,
      op: z.literal('guest.write'),
      vm: name,
      gpa: num,
      data: hexData,
      private: z.boolean().optional(),
    }),
    z.strictObject({ note, op: z.literal('rmp.query'), pfn: num }),
  ],
  {
    error:
      'expected a known op: vm.create, mmap, memslot.set, gmem.create, memory.attributes, snp.launch_start, snp.launch_update, snp.launch_finish, inject, hv.rmpupdate, hv.read, hv.write, guest.pvalidate, guest.read, guest.write or rmp.query',
  },
);

/** The scenario format (version 1) as a zod schema; {@link parseScenario} reads a file with it. */
export const scenarioSchema = z.strictObject({
  scenario: z.literal(1, { error: 'expected 1 (the format version)' }),
  description: z.string({ error: 'expected a string' }).optional(),
  host: z.strictObject({
    pages: num.refine((pages) => pages >= 1 && pages <= 2 ** 32, {
      error: 'expected 1 to 2^32 pages (the RMP model covers up to 16 TiB)',
    }),
  }),
  kvm: z
    .strictObject({
      abi: z
        .enum(['reviewed', 'v4', 'upstream'], { error: 'expected "reviewed", "v4" or "upstream"' })
        .optional(),
      rejectAssignedOnUpdate: z.boolean().optional(),
    })
    .optional(),
  steps: z.array(step),
});

/** A scenario as parsed: numbers as numbers, data as bytes. */
export type Scenario = z.output<typeof scenarioSchema>;
/** One step of a scenario. */
export type Step = Scenario['steps'][number];

/** The scenario format as a JSON Schema (draft 2020-12), describing what a file may contain. */
export function scenarioJsonSchema(): Record<string, unknown> {
  return {
    $id: 'https://snp-ref.dev/scenario-1.schema.json',
    title: 'snp-ref scenario, version 1',
    ...z.toJSONSchema(scenarioSchema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }),
  };
}

/** A problem with a scenario file: where (a JSON path such as `steps[3].len`) and what was expected. */
export interface ScenarioProblem {
  readonly path: string;
  readonly message: string;
}

/** A scenario that parsed, or every problem found in it. */
export type ParsedScenario =
  | { readonly ok: true; readonly scenario: Scenario }
  | { readonly ok: false; readonly problems: readonly ScenarioProblem[] };

function jsonPath(path: readonly PropertyKey[]): string {
  return (
    path.reduce<string>(
      (out, key) =>
        typeof key === 'number' ? `${out}[${key}]` : out === '' ? String(key) : `${out}.${String(key)}`,
      '',
    ) || '(root)'
  );
}

/** Validates parsed JSON against the format; every problem is listed, none is thrown. */
export function parseScenario(value: unknown): ParsedScenario {
  const result = scenarioSchema.safeParse(value);
  if (result.success) return { ok: true, scenario: result.data };
  return {
    ok: false,
    problems: result.error.issues.map((issue) => ({ path: jsonPath(issue.path), message: issue.message })),
  };
}
