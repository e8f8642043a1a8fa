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
  it('draws a run of same-owner pages as one rectangle per row, with a title, axes and a legend', () => {
    const rmp: Record<string, ReturnType<typeof guest>> = {};
    for (let pfn = 0x1fe; pfn < 0x204; pfn++) rmp[`0x${pfn.toString(16)}`] = guest(1, true); // crosses a row
    rmp['0x300'] = guest(2, false);
    const svg = rmpSvg('The RMP after a <test>', 4096, [{ label: 'host memory', rmp }]);
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(svg).toContain('font-weight="bold">The RMP after a &lt;test></text>');
    expect(svg.match(/<title>pfn/g)).toHaveLength(3); // 0x1fe-0x1ff, 0x200-0x203, 0x300
    expect(svg).toContain('pfn 0x200..0x203: ASID 1, validated');
    expect(svg).toContain('4096 pages; each row 64 pages (256 KiB)');
    expect(svg).toMatch(/text-anchor="end">0x200<\/text>/); // a pfn on the left axis
    expect(svg).toMatch(/>\+0x20<\/text>/); // a page offset below
    expect(svg).toContain('>ASID 2, not validated</text>');
  });

  it('puts one panel per RMP side by side, with one legend of what any panel shows', () => {
    const svg = rmpSvg('two', 4096, [
      { label: 'reviewed', rmp: { '0x104': guest(1, true) } },
      { label: 'v4', rmp: { '0x101': guest(2, false) } },
    ]);
    expect(svg).toMatch(/<text x="72" y="40" font-weight="bold">reviewed<\/text>/);
    expect(svg).toMatch(/<text x="[0-9.]+" y="40" font-weight="bold">v4<\/text>/);
    expect(svg).toContain('>ASID 1, validated</text>');
    expect(svg).toContain('>ASID 2, not validated</text>');
  });

  it('keeps a 1 GiB host to 512 rows of 2 MiB, and bigger hosts to at most 1024 rows', () => {
    expect(rmpSvg('', 2 ** 18, [])).toContain('each row 512 pages (2 MiB)');
    expect(rmpSvg('', 2 ** 28, [])).toContain('each row 262144 pages (1 GiB)');
  });
});
