import { hash } from 'node:crypto';
import { PlanError } from '../errors.js';
import { PageType } from '../pageType.js';
import { PAGE_BYTES } from './launchDigest.js';

/** Plan operations (test/vectors/README.md "Synthetic plan format"); normal and zero cover `pages` pages. */
export type PlanOpName = 'normal' | 'zero' | 'unmeasured' | 'secrets' | 'cpuid' | 'vmsa';

export interface PlanOp {
  readonly op: PlanOpName;
  /** Guest physical address of the first page, 4 KiB aligned. */
  readonly gpa: number;
  /** Pages covered: any count ≥ 0 for normal and zero, 1 for the others. */
  readonly pages: number;
  /** normal only: take the pages from this file (path relative to the plan) at this byte offset. */
  readonly file?: { readonly path: string; readonly offset: number };
}

/** A launch as a list of LAUNCH_UPDATE operations, with the seed of its page contents. */
export interface LaunchPlan {
  readonly name: string;
  readonly seed: string;
  readonly ops: readonly PlanOp[];
}

export const PLAN_OP_TYPES: Readonly<Record<PlanOpName, PageType>> = {
  normal: PageType.NORMAL,
  zero: PageType.ZERO,
  unmeasured: PageType.UNMEASURED,
  secrets: PageType.SECRETS,
  cpuid: PageType.CPUID,
  vmsa: PageType.VMSA,
};

const RANGE_OPS = new Set<string>(['normal', 'zero']);
/** Largest gpa + 1 the RMP can record: the gfn field is bits 50:12 (../shared/SPEC-NOTES.md 1.1). */
const GPA_LIMIT = 2 ** 51;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function parseGpa(value: unknown, path: string): number {
  if (typeof value !== 'string' || !/^0x[0-9a-f]+$/i.test(value)) {
    throw new PlanError(path, `expected a hex string such as "0x1000", got ${JSON.stringify(value)}`);
  }
  const gpa = Number.parseInt(value.slice(2), 16);
  if (gpa >= GPA_LIMIT)
    throw new PlanError(path, `${value} is beyond the 51-bit guest physical address space`);
  if (gpa % PAGE_BYTES !== 0) throw new PlanError(path, `${value} is not 4 KiB aligned`);
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
  if (!RANGE_OPS.has(op)) {
    if (value.pages !== undefined && value.pages !== 1)
      throw new PlanError(`${path}.pages`, `a ${op} op covers exactly one page`);
    return { op: op as PlanOpName, gpa, pages: 1 };
  }
  const { pages } = value;
  if (typeof pages !== 'number' || !Number.isSafeInteger(pages) || pages < 0) {
    throw new PlanError(`${path}.pages`, `expected a page count ≥ 0, got ${JSON.stringify(pages)}`);
  }
  if (gpa + pages * PAGE_BYTES > GPA_LIMIT)
    throw new PlanError(`${path}.pages`, 'the range runs past the 51-bit guest physical address space');
  if (value.file === undefined) {
    if (value.offset !== undefined) throw new PlanError(`${path}.offset`, 'an offset needs a file');
    return { op: op as PlanOpName, gpa, pages };
  }
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

/** Checks a parsed JSON value against the plan format; throws PlanError naming the first bad field. */
export function parseLaunchPlan(value: unknown): LaunchPlan {
  if (!isRecord(value)) throw new PlanError('plan', 'expected a JSON object');
  const { name, seed, ops } = value;
  if (typeof name !== 'string') throw new PlanError('name', 'expected a string');
  if (typeof seed !== 'string') throw new PlanError('seed', 'expected a string');
  if (!Array.isArray(ops)) throw new PlanError('ops', 'expected an array');
  return { name, seed, ops: ops.map((op, i) => parseOp(op, `ops[${i}]`)) };
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
  next(page: Buffer = Buffer.alloc(PAGE_BYTES)): Buffer {
    const counterAt = this.input.length - 4;
    for (let at = 0; at < PAGE_BYTES; at += 32) {
      this.input.writeUInt32LE(this.counter++, counterAt);
      page.write(hash('sha256', this.input, 'binary'), at, 'latin1');
    }
    return page;
  }
}
