import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PackedStruct, StructLayout } from '@snp-ref/psp-firmware';
import { expect, it } from 'vitest';
import {
  KvmSevCmd,
  KvmSevSnpLaunchFinish,
  KvmSevSnpLaunchStart,
  KvmSevSnpLaunchUpdate,
  KvmSevSnpLaunchUpdateV4,
} from './structs.js';

const STRUCTS: Record<string, PackedStruct<StructLayout>> = {
  kvm_sev_cmd: KvmSevCmd,
  kvm_sev_snp_launch_start: KvmSevSnpLaunchStart,
  kvm_sev_snp_launch_update: KvmSevSnpLaunchUpdate,
  kvm_sev_snp_launch_update_v4: KvmSevSnpLaunchUpdateV4,
  kvm_sev_snp_launch_finish: KvmSevSnpLaunchFinish,
};

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const width = (kind: PackedStruct<StructLayout>['layout'][string][1]) =>
  typeof kind === 'object' ? kind.bytes : { u8: 1, u16: 2, u32: 4, u64: 8 }[kind];

it('lays out every uAPI struct field at the offset and size the C compiler gives it', () => {
  const binary = join(mkdtempSync(join(tmpdir(), 'kvm-uapi-')), 'uapi_layout');
  execFileSync('cc', ['-O1', '-o', binary, join(import.meta.dirname, 'uapi_layout.c')]);
  const fromC = execFileSync(binary, { encoding: 'utf8' }).trim().split('\n');

  const fromTs = Object.entries(STRUCTS).flatMap(([cName, struct]) => [
    ...Object.entries(struct.layout).map(([field, [offset, kind]]) => {
      const cField = snake(field).replace('sev_fd', 'sev_fd').replace('_v4', '');
      return `${cName} ${cField} ${offset} ${width(kind)}`;
    }),
    `${cName} sizeof ${struct.size} ${struct.size}`,
  ]);
  expect(fromTs).toEqual(fromC);
});
