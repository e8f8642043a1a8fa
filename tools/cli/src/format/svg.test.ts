import { describe, expect, it } from 'vitest';
import { rmpSvg } from './svg.js';

const guest = (asid: number, validated: boolean) => ({
  assigned: true,
  asid,
  gpa: '0x0',
  pageSize: '4K' as const,
  immutable: false,
  validated,
  vmsa: false,
});

describe(rmpSvg, () => {
  it('draws a run of same-owner pages as one rectangle per row, and a legend of what it shows', () => {
    const rmp: Record<string, ReturnType<typeof guest>> = {};
    for (let pfn = 0x1fe; pfn < 0x204; pfn++) rmp[`0x${pfn.toString(16)}`] = guest(1, true); // crosses a row
    rmp['0x300'] = guest(2, false);
    const svg = rmpSvg(4096, rmp);
    expect(svg.match(/<title>pfn/g)).toHaveLength(3); // 0x1fe-0x1ff, 0x200-0x203, 0x300
    expect(svg).toContain('pfn 0x200..0x203: guest:1:v');
    expect(svg).toContain('ASID 1, validated');
    expect(svg).toContain('ASID 2, not validated');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  });

  it('keeps a 1 GiB host to 512 rows of 2 MiB, and bigger hosts to at most 1024 rows', () => {
    expect(rmpSvg(2 ** 18, {})).toContain('each row 512 pages (2 MiB)');
    expect(rmpSvg(2 ** 28, {})).toContain('each row 262144 pages (1 GiB)');
  });
});
