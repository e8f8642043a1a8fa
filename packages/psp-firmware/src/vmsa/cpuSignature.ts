import vcpuTypes from './vcpu-types.json' with { type: 'json' };

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

/** QEMU's AMD EPYC CPU models by sev-snp-measure's --vcpu-type names (vcpu-types.json). */
const MODELS: Readonly<Record<string, readonly [family: number, model: number, stepping: number]>> =
  Object.fromEntries(
    Object.entries(vcpuTypes.types).map(([name, fms]) => {
      const [family, model, stepping] = fms;
      if (fms.length !== 3 || family === undefined || model === undefined || stepping === undefined)
        throw new Error(`vcpu-types.json ${name}: expected [family, model, stepping]`);
      return [name, [family, model, stepping] as const];
    }),
  );

/** The vCPU type names sev-snp-measure's --vcpu-type accepts. */
export const VCPU_TYPES: readonly string[] = Object.keys(MODELS);

/** The signature of a named vCPU type, or undefined if the name is not one of VCPU_TYPES. */
export function vcpuTypeSignature(name: string): number | undefined {
  const model = Object.hasOwn(MODELS, name) ? MODELS[name] : undefined;
  return model && cpuSignature(...model);
}

/** Where a named vCPU type's signature comes from, for provenance tables. */
export function vcpuTypeSource(name: string): string | undefined {
  const model = Object.hasOwn(MODELS, name) ? MODELS[name] : undefined;
  return (
    model &&
    `vCPU type table: ${name} = family ${model[0]}, model ${model[1]}, stepping ${model[2]} (${vcpuTypes.source})`
  );
}
