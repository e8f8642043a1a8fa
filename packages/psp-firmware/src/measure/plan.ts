import { hash } from 'node:crypto';
import { hex, PAGE_SIZE } from '@snp-ref/rmp-core';
import { bytesToHex } from '../bytes.js';
import { FirmwareInputError, PlanError } from '../errors.js';
import { PageType } from '../pageType.js';
import { encodeVmsa, type VmsaValues, vmsaField } from '../vmsa/layout.js';
import { DIGEST_BYTES } from './launchDigest.js';

/** Plan operations (test/vectors/README.md "Synthetic plan format"); normal and zero cover `pages` pages. */
export type PlanOpName = 'normal' | 'zero' | 'unmeasured' | 'secrets' | 'cpuid' | 'vmsa';

/** One operation of a launch plan: pages of one type from `gpa`, their contents where the type has them. */
export interface PlanOp {
  readonly op: PlanOpName;
  /** Guest physical address of the first page, 4 KiB aligned. */
  readonly gpa: number;
  /** Pages covered: any count ≥ 0 for normal, zero and unmeasured, 1 for the others. */
  readonly pages: number;
  /** normal only: take the pages from this file (path relative to the plan) at this byte offset. */
  readonly file?: { readonly path: string; readonly offset: number };
  /** normal only: the pages hold these bytes at this offset and zeros elsewhere. */
  readonly bytes?: { readonly offset: number; readonly data: Uint8Array };
  /** vmsa only: the page is the VMSA with these field values (zero elsewhere). */
  readonly vmsa?: VmsaValues;
}

/**
 * A launch as a list of LAUNCH_UPDATE operations. Pages without a file, bytes or VMSA fields take
 * their contents from the seed's stream; `initialDigest` starts the chain somewhere other than
 * 48 zero bytes (a precomputed OVMF hash).
 */
export interface LaunchPlan {
  readonly name: string;
  readonly seed: string;
  readonly initialDigest?: Uint8Array;
  readonly ops: readonly PlanOp[];
}

/** The firmware page type each plan operation launches its pages with. */
export const PLAN_OP_TYPES: Readonly<Record<PlanOpName, PageType>> = {
  normal: PageType.NORMAL,
  zero: PageType.ZERO,
  unmeasured: PageType.UNMEASURED,
  secrets: PageType.SECRETS,
  cpuid: PageType.CPUID,
  vmsa: PageType.VMSA,
};

const RANGE_OPS = new Set<string>(['normal', 'zero', 'unmeasured']);
/** Largest gpa + 1 the RMP can record: the gfn field is bits 50:12 (docs/spec-notes.md §1.1). */
const GPA_LIMIT = 2 ** 51;
/**
 * Pages one plan may measure: 2^28, a 1 TiB guest. Far beyond any launch (which measures the
 * firmware and a few metadata pages), it keeps a mistyped count from running for hours.
 */
export const MAX_PLAN_PAGES = 2 ** 28;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function parseGpa(value: unknown, path: string): number {
  if (typeof value !== 'string' || !/^0x[0-9a-f]+$/i.test(value)) {
    throw new PlanError(path, `expected a hex string such as "0x1000", got ${JSON.stringify(value)}`);
  }
  const gpa = Number.parseInt(value.slice(2), 16);
  if (gpa >= GPA_LIMIT)
    throw new PlanError(path, `${value} is beyond the 51-bit guest physical address space`);
  if (gpa % PAGE_SIZE !== 0) throw new PlanError(path, `${value} is not 4 KiB aligned`);
  return gpa;
}

function parseOp(value: unknown, path: string): PlanOp {
  if (!isRecord(value)) throw new PlanError(path, 'expected an object');
  const { op } = value;
  if (typeof op !== 'string' || !Object.hasOwn(PLAN_OP_TYPES, op)) {
    throw new PlanError(
      `${path}.op`,
      `unknown page type ${op === undefined ? '(missing)' : JSON.stringify(op)}; expected one of ${Object.keys(PLAN_OP_TYPES).join(', ')}`,
    );
  }
  const gpa = parseGpa(value.gpa, `${path}.gpa`);
  if (value.vmsa !== undefined && op !== 'vmsa')
    throw new PlanError(`${path}.vmsa`, 'only a vmsa op takes VMSA fields');
  if (value.bytes !== undefined && op !== 'normal')
    throw new PlanError(`${path}.bytes`, 'only normal pages take bytes');
  if (!RANGE_OPS.has(op)) {
    if (value.pages !== undefined && value.pages !== 1)
      throw new PlanError(`${path}.pages`, `a ${op} op covers exactly one page`);
    if (value.vmsa === undefined) return { op: op as PlanOpName, gpa, pages: 1 };
    return { op: 'vmsa', gpa, pages: 1, vmsa: parseVmsaValues(value.vmsa, `${path}.vmsa`) };
  }
  // The vectors write a single unmeasured page without a count.
  const pages = op === 'unmeasured' && value.pages === undefined ? 1 : value.pages;
  if (typeof pages !== 'number' || !Number.isSafeInteger(pages) || pages < 0) {
    throw new PlanError(`${path}.pages`, `expected a page count ≥ 0, got ${JSON.stringify(pages)}`);
  }
  if (gpa + pages * PAGE_SIZE > GPA_LIMIT)
    throw new PlanError(`${path}.pages`, 'the range runs past the 51-bit guest physical address space');
  if (value.file === undefined) {
    if (value.offset !== undefined) throw new PlanError(`${path}.offset`, 'an offset needs a file');
    if (value.bytes === undefined) return { op: op as PlanOpName, gpa, pages };
    return { op: 'normal', gpa, pages, bytes: parseBytes(value.bytes, pages, `${path}.bytes`) };
  }
  if (value.bytes !== undefined)
    throw new PlanError(`${path}.bytes`, 'a page takes a file or bytes, not both');
  if (op !== 'normal')
    throw new PlanError(`${path}.file`, 'only normal pages take their contents from a file');
  if (typeof value.file !== 'string' || value.file === '')
    throw new PlanError(`${path}.file`, 'expected a file path');
  const offset = value.offset ?? 0;
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
    throw new PlanError(`${path}.offset`, `expected a byte offset ≥ 0, got ${JSON.stringify(offset)}`);
  }
  return { op: 'normal', gpa, pages, file: { path: value.file, offset } };
}

const HEX_BYTES = /^(?:[0-9a-f]{2})*$/i;

function parseBytes(value: unknown, pages: number, path: string): NonNullable<PlanOp['bytes']> {
  if (!isRecord(value)) throw new PlanError(path, 'expected {"offset": N, "hex": "…"}');
  const offset = value.offset ?? 0;
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0)
    throw new PlanError(`${path}.offset`, `expected a byte offset ≥ 0, got ${JSON.stringify(offset)}`);
  if (typeof value.hex !== 'string' || !HEX_BYTES.test(value.hex))
    throw new PlanError(`${path}.hex`, 'expected bytes as an even number of hex digits');
  const data = Buffer.from(value.hex, 'hex');
  if (offset + data.length > pages * PAGE_SIZE)
    throw new PlanError(path, `${data.length} bytes at offset ${offset} do not fit in ${pages} page(s)`);
  return { offset, data: new Uint8Array(data) };
}

function parseVmsaValues(value: unknown, path: string): VmsaValues {
  if (!isRecord(value)) throw new PlanError(path, 'expected an object of VMSA field values');
  const values: Record<string, bigint | Uint8Array> = {};
  for (const [name, v] of Object.entries(value)) {
    const where = `${path}.${name}`;
    let field: ReturnType<typeof vmsaField>;
    try {
      field = vmsaField(name);
    } catch (error) {
      throw new PlanError(where, (error as Error).message);
    }
    if (field.array === true) {
      if (typeof v !== 'string' || !HEX_BYTES.test(v))
        throw new PlanError(where, 'expected bytes as an even number of hex digits');
      values[name] = new Uint8Array(Buffer.from(v, 'hex'));
    } else {
      if (typeof v !== 'string' || !/^0x[0-9a-f]+$/i.test(v))
        throw new PlanError(where, `expected a hex string such as "0x1f80", got ${JSON.stringify(v)}`);
      values[name] = BigInt(v);
    }
  }
  try {
    encodeVmsa(values);
  } catch (error) {
    if (error instanceof FirmwareInputError) throw new PlanError(path, error.message);
    throw error;
  }
  return values;
}

function parseInitialDigest(value: unknown): Uint8Array | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^[0-9a-f]{96}$/i.test(value))
    throw new PlanError('initialDigest', `expected ${DIGEST_BYTES} bytes as 96 hex digits`);
  return new Uint8Array(Buffer.from(value, 'hex'));
}

/** Checks a parsed JSON value against the plan format; throws PlanError naming the first bad field. */
export function parseLaunchPlan(value: unknown): LaunchPlan {
  if (!isRecord(value)) throw new PlanError('plan', 'expected a JSON object');
  const { name, seed, ops } = value;
  if (typeof name !== 'string') throw new PlanError('name', 'expected a string');
  if (typeof seed !== 'string') throw new PlanError('seed', 'expected a string');
  if (!Array.isArray(ops)) throw new PlanError('ops', 'expected an array');
  const initialDigest = parseInitialDigest(value.initialDigest);
  const parsed = ops.map((op, i) => parseOp(op, `ops[${i}]`));
  const pages = parsed.reduce((n, op) => n + op.pages, 0);
  if (pages > MAX_PLAN_PAGES)
    throw new PlanError(
      'ops',
      `${pages} pages in all: a plan measures at most ${MAX_PLAN_PAGES} (a 1 TiB guest)`,
    );
  return { name, seed, ...(initialDigest && { initialDigest }), ops: parsed };
}

/** The plan as the JSON value parseLaunchPlan reads (its inverse). */
export function launchPlanJson(plan: LaunchPlan): Record<string, unknown> {
  const op = (o: PlanOp) => ({
    op: o.op,
    gpa: hex(o.gpa),
    ...(RANGE_OPS.has(o.op) && { pages: o.pages }),
    ...(o.file && { file: o.file.path, offset: o.file.offset }),
    ...(o.bytes && { bytes: { offset: o.bytes.offset, hex: bytesToHex(o.bytes.data) } }),
    ...(o.vmsa && {
      vmsa: Object.fromEntries(
        Object.entries(o.vmsa).map(([k, v]) => [k, typeof v === 'bigint' ? hex(v) : bytesToHex(v)]),
      ),
    }),
  });
  return {
    name: plan.name,
    seed: plan.seed,
    ...(plan.initialDigest && { initialDigest: bytesToHex(plan.initialDigest) }),
    ops: plan.ops.map(op),
  };
}

/**
 * Page `index` of an op whose contents the plan spells out (bytes or VMSA fields), or undefined
 * when they come from a file or the seed's stream.
 */
export function explicitPage(op: PlanOp, index: number): Uint8Array | undefined {
  if (op.vmsa !== undefined) return encodeVmsa(op.vmsa);
  if (op.bytes === undefined) return undefined;
  const page = new Uint8Array(PAGE_SIZE);
  const start = index * PAGE_SIZE;
  const { offset, data } = op.bytes;
  const from = Math.max(offset, start);
  const to = Math.min(offset + data.length, start + PAGE_SIZE);
  if (from < to) page.set(data.subarray(from - offset, to - offset), from - start);
  return page;
}

/**
 * The plan's page contents for ops without a file: one stream SHA-256(seed || u32le(0)) || SHA-256(seed || u32le(1)) || …,
 * consumed 4096 bytes per NORMAL or VMSA page in plan order (test/vectors/README.md).
 */
export class SeededPages {
  private readonly input: Buffer;
  private counter = 0;

  constructor(seed: string) {
    const seedBytes = Buffer.from(seed, 'utf8');
    this.input = Buffer.alloc(seedBytes.length + 4);
    this.input.set(seedBytes);
  }

  /** The next 4096 bytes of the stream, written into `page` (a new buffer if not given). */
  next(page: Buffer = Buffer.alloc(PAGE_SIZE)): Buffer {
    const counterAt = this.input.length - 4;
    for (let at = 0; at < PAGE_SIZE; at += 32) {
      this.input.writeUInt32LE(this.counter++, counterAt);
      page.write(hash('sha256', this.input, 'binary'), at, 'latin1');
    }
    return page;
  }
}
