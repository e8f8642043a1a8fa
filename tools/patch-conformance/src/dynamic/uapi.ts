// The harness's `call` line carries the bytes of the uAPI struct, encoded by the model's codec of
// the patch's flavour (packages/kvm-svm/src/uapi/structs.ts): the patch's C reads each field at
// its offset, whatever it names it. The static rule uapi-codec-layout holds the patch's struct to
// the same offsets.
import { KvmSevSnpLaunchUpdate, KvmSevSnpLaunchUpdateV4 } from '@snp-ref/kvm-svm';
import type { Flavour } from '../c/patch.js';

/** A launch update by role: guest frame, userspace address, length in bytes, page type. */
export interface LaunchUpdateCall {
  readonly gfn: number;
  readonly uaddr: number;
  readonly len: number;
  readonly type: number;
}

/** The harness line of a launch update: `call` and the struct's bytes in hex. */
export const callLine = (flavour: Flavour, call: LaunchUpdateCall) => `call ${structHex(flavour, call)}`;

/** The struct's bytes in hex, as the codec of the flavour lays them out. */
export function structHex(flavour: Flavour, call: LaunchUpdateCall): string {
  const bytes =
    flavour === 'v4'
      ? // RFC v4 had no gpa (it came from memslots) and a 32-bit length.
        KvmSevSnpLaunchUpdateV4.encode({
          uaddr: BigInt(call.uaddr),
          len: call.len >>> 0,
          imiPage: 0,
          pageType: call.type,
          vmpl3Perms: 0,
          vmpl2Perms: 0,
          vmpl1Perms: 0,
        })
      : KvmSevSnpLaunchUpdate.encode({
          gfnStart: BigInt(call.gfn),
          uaddr: BigInt(call.uaddr),
          len: BigInt(call.len),
          type: call.type,
          flags: 0,
        });
  return Buffer.from(bytes).toString('hex');
}
