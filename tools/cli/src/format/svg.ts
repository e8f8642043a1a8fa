import { expectDefined, PAGE_SIZE, type RmpEntryJson } from '@snp-ref/rmp-core';

/** What a page is, for colouring: hypervisor-owned, firmware-owned, or a guest's (validated or not). */
type PageClass = 'hypervisor' | 'firmware' | `guest:${number}:${'v' | 'n'}`;

function classify(e: RmpEntryJson | undefined): PageClass {
  if (e === undefined || !e.assigned) return 'hypervisor';
  if (e.asid === 0) return 'firmware';
  return `guest:${e.asid}:${e.validated ? 'v' : 'n'}`;
}

const WIDTH = 1024;
const MAX_ROWS = 1024;
const PALETTE = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#9467bd',
  '#ff7f0e',
  '#17becf',
  '#8c564b',
  '#e377c2',
  '#bcbd22',
];

function colour(c: PageClass): { fill: string; opacity: number } {
  if (c === 'hypervisor') return { fill: '#e8e8e8', opacity: 1 };
  if (c === 'firmware') return { fill: '#333333', opacity: 1 };
  const [, asid, v] = c.split(':');
  return { fill: PALETTE[(Number(asid) - 1) % PALETTE.length] ?? '#000', opacity: v === 'v' ? 1 : 0.45 };
}

/**
 * The host's memory as an SVG map: rows of pages (512, or more for big hosts, so at most 1024 rows),
 * consecutive pages of one kind drawn as one rectangle, coloured by owner ASID (pale when not
 * validated), hypervisor pages grey, firmware pages black, with a legend. A 1 GiB host is 512 rows
 * of 512 pages (2 MiB per row).
 */
export function rmpSvg(hostPages: number, rmp: Readonly<Record<string, RmpEntryJson>>): string {
  const byPfn = new Map(Object.entries(rmp).map(([pfn, e]) => [Number(pfn), e]));
  let perRow = 512;
  while (Math.ceil(hostPages / perRow) > MAX_ROWS) perRow *= 2;
  const rows = Math.ceil(hostPages / perRow);
  const cell = WIDTH / perRow;
  const rowHeight = Math.max(2, Math.min(16, Math.floor(768 / rows)));
  const rects: string[] = [];
  const seen = new Set<PageClass>();
  // Only pages with entries can differ from hypervisor-owned: draw the rows as grey, then the runs.
  const pfns = [...byPfn.keys()].sort((a, b) => a - b);
  for (let i = 0; i < pfns.length; ) {
    const start = expectDefined(pfns[i], 'a pfn of the map');
    const kind = classify(byPfn.get(start));
    let end = start + 1;
    while (
      i + 1 < pfns.length &&
      pfns[i + 1] === end &&
      classify(byPfn.get(end)) === kind &&
      end % perRow !== 0
    ) {
      end++;
      i++;
    }
    i++;
    if (kind === 'hypervisor') continue;
    seen.add(kind);
    const { fill, opacity } = colour(kind);
    const x = (start % perRow) * cell;
    const y = Math.floor(start / perRow) * rowHeight;
    rects.push(
      `<rect x="${x}" y="${y}" width="${(end - start) * cell}" height="${rowHeight}" fill="${fill}" fill-opacity="${opacity}"><title>pfn 0x${start.toString(16)}..0x${(end - 1).toString(16)}: ${kind}</title></rect>`,
    );
  }
  const mapHeight = rows * rowHeight;
  const legendEntries: [PageClass, string][] = [
    ['hypervisor', 'hypervisor-owned'],
    ...[...seen]
      .sort()
      .map((k): [PageClass, string] => [
        k,
        k === 'firmware'
          ? 'firmware (ASID 0)'
          : `ASID ${k.split(':')[1]}${k.endsWith(':v') ? ', validated' : ', not validated'}`,
      ]),
  ];
  const legend = legendEntries.map(([k, label], n) => {
    const { fill, opacity } = colour(k);
    const y = mapHeight + 30 + n * 18;
    return `<rect x="0" y="${y - 11}" width="14" height="14" fill="${fill}" fill-opacity="${opacity}" stroke="#999"/><text x="20" y="${y}">${label}</text>`;
  });
  const height = mapHeight + 40 + legendEntries.length * 18;
  const bytesPerRow = perRow * PAGE_SIZE;
  const rowLabel = bytesPerRow >= 2 ** 30 ? `${bytesPerRow / 2 ** 30} GiB` : `${bytesPerRow / 2 ** 20} MiB`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect x="0" y="0" width="${WIDTH}" height="${mapHeight}" fill="#e8e8e8"/>`,
    ...rects,
    `<text x="0" y="${mapHeight + 14}">${hostPages} pages; each row ${perRow} pages (${rowLabel}), pfn 0 at the top left</text>`,
    ...legend,
    '</svg>',
    '',
  ].join('\n');
}
