/**
 * The CPUID Fn0000_0001 EAX signature of a family/model/stepping (AMD CPUID Specification #25481,
 * "CPUID Fn0000_0001_EAX"): families above 0xf are 0xf + ExtFamily; models split into base and
 * extended nibbles.
 */
export function cpuSignature(family: number, model: number, stepping: number): number {
  const baseFamily = Math.min(family, 0xf);
  const extFamily = family > 0xf ? (family - 0xf) & 0xff : 0;
  return (
    ((extFamily << 20) |
      (((model >> 4) & 0xf) << 16) |
      (baseFamily << 8) |
      ((model & 0xf) << 4) |
      (stepping & 0xf)) >>>
    0
  );
}

/**
 * QEMU's AMD EPYC CPU models and their family/model/stepping (QEMU target/i386/cpu.c
 * builtin_x86_defs), by the names sev-snp-measure --vcpu-type accepts.
 */
const MODELS: Readonly<Record<string, readonly [family: number, model: number, stepping: number]>> = {
  EPYC: [23, 1, 2],
  'EPYC-v1': [23, 1, 2],
  'EPYC-v2': [23, 1, 2],
  'EPYC-IBPB': [23, 1, 2],
  'EPYC-v3': [23, 1, 2],
  'EPYC-v4': [23, 1, 2],
  'EPYC-Rome': [23, 49, 0],
  'EPYC-Rome-v1': [23, 49, 0],
  'EPYC-Rome-v2': [23, 49, 0],
  'EPYC-Rome-v3': [23, 49, 0],
  'EPYC-Milan': [25, 1, 1],
  'EPYC-Milan-v1': [25, 1, 1],
  'EPYC-Milan-v2': [25, 1, 1],
  'EPYC-Genoa': [25, 17, 0],
  'EPYC-Genoa-v1': [25, 17, 0],
  'EPYC-Turin': [26, 0, 0],
};

export const VCPU_TYPES: readonly string[] = Object.keys(MODELS);

/** The signature of a named vCPU type, or undefined if the name is not one of VCPU_TYPES. */
export function vcpuTypeSignature(name: string): number | undefined {
  const model = Object.hasOwn(MODELS, name) ? MODELS[name] : undefined;
  return model && cpuSignature(...model);
}
