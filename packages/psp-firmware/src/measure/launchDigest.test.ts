import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PAGE_SIZE } from '@snp-ref/rmp-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PageType } from '../pageType.js';
import { LaunchDigest } from './launchDigest.js';
import { measurePlan } from './measurePlan.js';
import { type LaunchPlan, parseLaunchPlan } from './plan.js';

const vectors = join(import.meta.dirname, '../../test/vectors');
const readJson = (path: string): unknown => JSON.parse(readFileSync(join(vectors, path), 'utf8'));
const expected = readJson('launch-digest/expected.json') as Record<string, string>;
const expectedSteps = readJson('launch-digest/expected-steps.json') as Record<
  string,
  { initial: string; steps: { ld: string }[] }
>;
const plans = readdirSync(join(vectors, 'launch-digest/plans')).map((file) =>
  parseLaunchPlan(readJson(`launch-digest/plans/${file}`)),
);

describe('launch digest vectors (sev-snp-measure)', () => {
  it('covers every vector', () => {
    expect(plans.map((p) => p.name).sort()).toEqual(Object.keys(expected).sort());
  });

  it.each(plans.map((plan) => [plan.name, plan] as const))('%s', (name, plan) => {
    const { digest, steps } = measurePlan(plan);
    expect(digest).toBe(expected[name]);
    const stepVector = expectedSteps[name];
    if (stepVector !== undefined)
      expect(steps.map((s) => s.digest)).toEqual(stepVector.steps.map((s) => s.ld));
  });

  // The real-firmware case needs Debian's OVMF image (package ovmf 2022.11-6+deb12u2), not shipped here.
  const ovmfImage = '/usr/share/ovmf/OVMF.fd';
  it.runIf(existsSync(ovmfImage))('OVMF.fd, 1 vCPU (sev-snp-measure --mode snp)', () => {
    const vector = readJson('ovmf/ovmf-fd-snp-1vcpu-epyc-v4.json') as {
      stdout: string;
      ops: { op: string; gpa?: string; pages?: number; contents_sha384?: string }[];
    };
    const image = readFileSync(ovmfImage);
    const digest = new LaunchDigest();
    for (const op of vector.ops) {
      if (op.op === 'vmsa') {
        digest.extend(PageType.VMSA, 0, Buffer.from(op.contents_sha384 ?? '', 'hex'));
        continue;
      }
      const gpa = Number(op.gpa);
      for (let i = 0; i < (op.pages ?? 1); i++) {
        const at = gpa + i * PAGE_SIZE;
        if (op.op === 'normal')
          digest.update(PageType.NORMAL, at, image.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE));
        else
          digest.update(
            op.op === 'zero' ? PageType.ZERO : op.op === 'secrets' ? PageType.SECRETS : PageType.CPUID,
            at,
          );
      }
    }
    expect(digest.hex()).toBe(vector.stdout);
  });
});

describe(LaunchDigest, () => {
  it('hashes PAGE_INFO as the worked example in the vectors README lays it out', () => {
    const digest = new LaunchDigest();
    digest.update(PageType.ZERO, 0x80_0000);
    const pageInfo = Buffer.concat([
      Buffer.alloc(96),
      Buffer.from('7000030000000000', 'hex'),
      Buffer.from('0000800000000000', 'hex'),
    ]);
    expect(digest.hex()).toBe(createHash('sha384').update(pageInfo).digest('hex'));
  });

  it('records every VMSA page at the fixed VMSA gpa, whatever gpa it is given', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 39 - 1 }), (gfn) => {
        const page = Buffer.alloc(PAGE_SIZE, 0xab);
        const [a, b] = [new LaunchDigest(), new LaunchDigest()];
        a.update(PageType.VMSA, gfn * PAGE_SIZE, page);
        b.update(PageType.VMSA, 0, page);
        expect(a.hex()).toBe(b.hex());
      }),
    );
  });

  it('rejects a measured page that is not 4096 bytes', () => {
    expect(() => new LaunchDigest().update(PageType.NORMAL, 0, new Uint8Array(4095))).toThrow(
      'a measured page must be 4096 bytes, got 4095',
    );
  });
});

describe(measurePlan, () => {
  const rangeOp = fc.record({
    op: fc.constantFrom('normal' as const, 'zero' as const),
    gfn: fc.integer({ min: 0, max: 2 ** 20 }),
    pages: fc.integer({ min: 0, max: 4 }),
  });

  it('measures a range exactly as the same pages given one op each', () => {
    fc.assert(
      fc.property(fc.string(), fc.array(rangeOp, { maxLength: 4 }), (seed, ops) => {
        const plan = (planOps: LaunchPlan['ops']): LaunchPlan => ({ name: 'p', seed, ops: planOps });
        const ranges = ops.map(({ op, gfn, pages }) => ({ op, gpa: gfn * PAGE_SIZE, pages }));
        const singles = ranges.flatMap(({ op, gpa, pages }) =>
          Array.from({ length: pages }, (_, i) => ({ op, gpa: gpa + i * PAGE_SIZE, pages: 1 })),
        );
        expect(measurePlan(plan(ranges)).digest).toBe(measurePlan(plan(singles)).digest);
      }),
      { numRuns: 50 },
    );
  });
});

describe('LaunchDigest.updatePages', () => {
  it('measures a range page by page, and names a length that is not a whole number of pages', () => {
    const [range, single] = [new LaunchDigest(), new LaunchDigest()];
    const bytes = Buffer.alloc(2 * PAGE_SIZE, 3);
    range.updatePages(PageType.NORMAL, 0x1000, bytes);
    single.update(PageType.NORMAL, 0x1000, bytes.subarray(0, PAGE_SIZE));
    single.update(PageType.NORMAL, 0x2000, bytes.subarray(PAGE_SIZE));
    expect(range.hex()).toBe(single.hex());
    expect(() => range.updatePages(PageType.NORMAL, 0, new Uint8Array(5000))).toThrow(
      'a range of pages must be a multiple of 4096 bytes, got 5000',
    );
  });
});
