import { expectDefined, hex, PAGE_SIZE, type RmpEntryJson } from '@snp-ref/rmp-core';

/** What a page is, for colouring: hypervisor-owned, firmware-owned, or a guest's (validated or not). */
type PageClass = 'hypervisor' | 'firmware' | `guest:${number}:${'v' | 'n'}`;

function classify(e: RmpEntryJson | undefined): PageClass {
  if (e === undefined || !e.assigned) return 'hypervisor';
  if (e.asid === 0) return 'firmware';
  return `guest:${e.asid}:${e.validated ? 'v' : 'n'}`;
}

const WIDTH = 1024;
const MAX_ROWS = 1024;
const MAP_HEIGHT = 768;
/** Room for the title above the panels, the pfn labels left of each, the offsets below. */
const [TOP, LEFT, BELOW, GAP] = [48, 72, 40, 24];
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

const xmlText = (text: string) => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;');

const label = (c: PageClass) =>
  c === 'hypervisor'
    ? 'hypervisor-owned'
    : c === 'firmware'
      ? 'firmware (ASID 0)'
      : `ASID ${c.split(':')[1]}${c.endsWith(':v') ? ', validated' : ', not validated'}`;

/**
 * Pages per row: a square grid of at least 64 columns (a 4096-page host is 64 × 64, a 1 GiB host
 * 512 rows of 512 pages, 2 MiB each), widened for big hosts so there are at most 1024 rows.
 */
function pagesPerRow(hostPages: number): number {
  let perRow = 64;
  while (Math.ceil(hostPages / perRow) > perRow) perRow *= 2;
  while (Math.ceil(hostPages / perRow) > MAX_ROWS) perRow *= 2;
  return perRow;
}

/** One panel: the runs of same-kind pages as rectangles, with pfn labels on the left and page offsets below. */
function panel(
  title: string,
  rmp: Readonly<Record<string, RmpEntryJson>>,
  grid: { hostPages: number; perRow: number; x: number; width: number; rowHeight: number },
  seen: Set<PageClass>,
): string[] {
  const { hostPages, perRow, x: left, width, rowHeight } = grid;
  const byPfn = new Map(Object.entries(rmp).map(([pfn, e]) => [Number(pfn), e]));
  const rows = Math.ceil(hostPages / perRow);
  const cell = width / perRow;
  const out = [
    `<text x="${left}" y="${TOP - 8}" font-weight="bold">${xmlText(title)}</text>`,
    `<rect x="${left}" y="${TOP}" width="${width}" height="${rows * rowHeight}" fill="#e8e8e8" stroke="#999"/>`,
  ];
  // Only pages with entries can differ from hypervisor-owned: the panel is grey, then the runs.
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
    const y = TOP + Math.floor(start / perRow) * rowHeight;
    out.push(
      `<rect x="${left + (start % perRow) * cell}" y="${y}" width="${(end - start) * cell}" height="${rowHeight}" fill="${fill}" fill-opacity="${opacity}"><title>pfn ${hex(start)}..${hex(end - 1)}: ${label(kind)}</title></rect>`,
    );
  }
  // The axes: a pfn every eighth of the rows on the left, page offsets in the row below.
  const every = Math.max(1, Math.ceil(rows / 8));
  for (let row = 0; row < rows; row += every)
    out.push(
      `<text x="${left - 4}" y="${TOP + row * rowHeight + Math.min(rowHeight, 12)}" text-anchor="end">${hex(row * perRow)}</text>`,
    );
  for (let at = 0; at < perRow; at += perRow / 4)
    out.push(`<text x="${left + at * cell}" y="${TOP + rows * rowHeight + 14}">+${hex(at)}</text>`);
  return out;
}

/**
 * The host's memory as an SVG map, one panel per RMP (side by side, e.g. one per KVM ABI): rows of
 * pages, consecutive pages of one kind drawn as one rectangle, coloured by owner ASID (pale when not
 * validated), hypervisor pages grey, firmware pages black. A title, pfn axes, and a legend of what
 * any panel shows.
 */
export function rmpSvg(
  title: string,
  hostPages: number,
  panels: readonly { readonly label: string; readonly rmp: Readonly<Record<string, RmpEntryJson>> }[],
): string {
  const perRow = pagesPerRow(hostPages);
  const rows = Math.ceil(hostPages / perRow);
  const rowHeight = Math.max(1, Math.min(16, Math.floor(MAP_HEIGHT / rows)));
  const width = (WIDTH - LEFT - (panels.length - 1) * (LEFT + GAP)) / panels.length;
  const seen = new Set<PageClass>();
  const drawn = panels.flatMap((p, n) =>
    panel(p.label, p.rmp, { hostPages, perRow, x: LEFT + n * (width + GAP + LEFT), width, rowHeight }, seen),
  );
  const mapBottom = TOP + rows * rowHeight + BELOW;
  const legend = (['hypervisor', ...[...seen].sort()] as PageClass[]).map((k, n) => {
    const { fill, opacity } = colour(k);
    const y = mapBottom + 18 + n * 18;
    return `<rect x="${LEFT}" y="${y - 11}" width="14" height="14" fill="${fill}" fill-opacity="${opacity}" stroke="#999"/><text x="${LEFT + 20}" y="${y}">${label(k)}</text>`;
  });
  const height = mapBottom + 24 + legend.length * 18;
  const bytesPerRow = perRow * PAGE_SIZE;
  const [unit, size] = (
    [
      ['GiB', 2 ** 30],
      ['MiB', 2 ** 20],
      ['KiB', 2 ** 10],
    ] as const
  ).find(([, bytes]) => bytesPerRow >= bytes) ?? ['KiB', 2 ** 10];
  const rowSize = `${bytesPerRow / size} ${unit}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<text x="${LEFT}" y="18" font-size="16" font-weight="bold">${xmlText(title)}</text>`,
    ...drawn,
    `<text x="${LEFT}" y="${mapBottom}">${hostPages} pages; each row ${perRow} pages (${rowSize}) from the pfn on its left, the page offset below</text>`,
    ...legend,
    '</svg>',
    '',
  ].join('\n');
}
