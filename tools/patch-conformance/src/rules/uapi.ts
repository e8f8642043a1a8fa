import { structLayout } from '../c/layout.js';
import { codecLayout } from '../ts/codec.js';
import { tsEntity } from './reach.js';
import type { Finding, Rule } from './rule.js';

const UAPI = 'uapi.kvm_sev_snp_launch_update';
const camel = (name: string) => name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

export const uapiHvaAndGpa: Rule = {
  id: 'uapi-hva-and-gpa',
  rationale:
    'Review point 1: the LAUNCH_UPDATE uAPI struct carries both the userspace address (to pin) and the guest physical address.',
  check({ c }) {
    const struct = c.entities.get(UAPI);
    if (struct === undefined || struct.kind !== 'struct') return [];
    const layout = structLayout(struct.node);
    if (typeof layout === 'string')
      return [{ rule: this.id, message: `cannot lay out the C struct: ${layout}`, c: struct.location }];
    const names = layout.fields.map((f) => f.name);
    const missing = [
      names.some((n) => /uaddr|hva/.test(n)) ? undefined : 'a userspace address (uaddr)',
      names.some((n) => /gfn|gpa/.test(n)) ? undefined : 'a guest address (gfn_start or gpa)',
    ].filter((m) => m !== undefined);
    if (missing.length === 0) return [];
    return [
      {
        rule: this.id,
        message: `struct ${struct.name} has no ${missing.join(' and no ')}`,
        c: struct.location,
      },
    ];
  },
};

export const uapiCodecLayout: Rule = {
  id: 'uapi-codec-layout',
  rationale:
    'The TS codec of the uAPI struct must put every field where the C compiler does: same names, offsets, sizes and total size.',
  check({ c, ts }) {
    const struct = c.entities.get(UAPI);
    const codec = tsEntity(ts, UAPI, c.patch.flavour);
    if (struct === undefined || struct.kind !== 'struct' || codec === undefined) return [];
    const cLayout = structLayout(struct.node);
    const tsLayout = codecLayout(codec.node);
    if (typeof cLayout === 'string' || typeof tsLayout === 'string') {
      return [
        {
          rule: this.id,
          message: `cannot compare layouts: ${typeof cLayout === 'string' ? cLayout : tsLayout}`,
          c: struct.location,
          ts: codec.location,
        },
      ];
    }
    const findings: Finding[] = [];
    const at = (line: number) => ({ file: codec.location.file, line });
    if (cLayout.size !== tsLayout.size) {
      findings.push({
        rule: this.id,
        message: `C struct is ${cLayout.size} bytes, the codec ${tsLayout.size}`,
        c: struct.location,
        ts: codec.location,
      });
    }
    for (const field of cLayout.fields) {
      const mine = tsLayout.fields.find((f) => f.name === camel(field.name));
      const padding = /^(pad|rsvd|reserved)/.test(field.name);
      if (mine === undefined) {
        if (!padding)
          findings.push({
            rule: this.id,
            message: `C field ${field.name} has no codec field ${camel(field.name)}`,
            c: c.locate(field.node),
            ts: codec.location,
          });
      } else if (mine.offset !== field.offset || mine.size !== field.size) {
        findings.push({
          rule: this.id,
          message: `${field.name}: C puts ${field.size} bytes at ${field.offset}, the codec ${mine.size} at ${mine.offset}`,
          c: c.locate(field.node),
          ts: at(mine.line),
        });
      }
    }
    for (const field of tsLayout.fields) {
      if (!cLayout.fields.some((f) => camel(f.name) === field.name)) {
        findings.push({
          rule: this.id,
          message: `codec field ${field.name} is not in the C struct`,
          c: struct.location,
          ts: at(field.line),
        });
      }
    }
    return findings;
  },
};
