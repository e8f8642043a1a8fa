import type { Log } from 'sarif';
import { type ConformReport, SERIES_RULE } from './conform.js';
import { DYNAMIC_RULE, HARNESS_RULES } from './dynamic/index.js';
import type { Location, PatchRef } from './input.js';
import type { Finding } from './rules/rule.js';
import { RULES as STATIC_RULES } from './rules/rules.js';

const RULES = [SERIES_RULE, ...STATIC_RULES, DYNAMIC_RULE, ...HARNESS_RULES];

const plural = (n: number, word: string, words = `${word}s`) => `${n} ${n === 1 ? word : words}`;

/** A posted patch as a reviewer names it: `[PATCH v2 2/4] subject`. */
const patchName = (ref: PatchRef) => `[${ref.tag ?? 'PATCH'}] ${ref.subject ?? ''}`.trim();

/** A place in the input: the file and line, and the posted patch the line is in. */
const place = (loc: Location) =>
  `${loc.patch === undefined ? '' : `${patchName(loc.patch)}, `}${loc.file}:${loc.line}`;

const where = (loc: Location | undefined, side: string) =>
  loc === undefined ? [] : [`${side} ${place(loc)}`];

/** Patch numbers as runs: 1–5, 7–20. */
function ranges(numbers: readonly number[]): string {
  const runs: [number, number][] = [];
  for (const n of [...numbers].sort((a, b) => a - b)) {
    const last = runs.at(-1);
    if (last !== undefined && n === last[1] + 1) last[1] = n;
    else runs.push([n, n]);
  }
  return runs.map(([a, b]) => (a === b ? `${a}` : `${a}–${b}`)).join(', ');
}

/** What was read and how it was paired: the lines above the findings. */
function head(report: ConformReport): string[] {
  const findings = report.findings.length;
  const rules = new Set(report.findings.map((f) => f.rule)).size;
  const posted = report.patches.length > 0;
  const lines = [
    `${report.patch}: ${posted ? `${plural(report.patches.length, 'patch', 'patches')}, ` : ''}flavour ${report.flavour} (${report.flavourFrom})`,
    ...report.patches.map(
      (p) =>
        `  ${patchName(p)}${p.from === undefined ? '' : ` — ${p.from}`}${p.date === undefined ? '' : `, ${p.date}`}`,
    ),
    ...(report.skipped.length === 0
      ? []
      : [`  left out: ${report.skipped.map((s) => `${s.subject} (${s.why})`).join('; ')}`]),
    ...(report.missing.length === 0
      ? []
      : [
          `  not in the input: ${ranges(report.missing)} of ${report.patches[0]?.m ?? '?'} (checked as far as the input goes)`,
        ]),
    ...pairedLines(report),
    // An annotated patch pairs what it annotates; a posted one is told what it lacks and how to map it.
    ...(report.flavourFrom.startsWith("the patch's flavour line")
      ? []
      : report.unpaired.map((u) => `  not paired: ${u.entity}: ${u.why}`)),
    `  ${plural(findings, 'finding')} in ${plural(rules, 'rule')}`,
  ];
  return lines;
}

/** What was paired, one line per way of pairing. */
function pairedLines(report: ConformReport): string[] {
  if (report.paired.length === 0) return ['  paired: nothing'];
  const ways = [...new Set(report.paired.map((p) => p.by))];
  return ways.map(
    (by) =>
      `  paired by ${by}: ${report.paired
        .filter((p) => p.by === by)
        .map((p) => `${p.entity} = ${p.kind === 'struct' ? `struct ${p.name}` : `${p.name}()`}`)
        .join(', ')}`,
  );
}

/**
 * A rule's findings as a review reply has them: per place in the patch, the line quoted once and
 * what is wrong there; then findings in the model alone, one line each.
 */
function reply(findings: readonly Finding[]): string[] {
  const lines: string[] = [];
  const inModel: string[] = [];
  const places = new Map<string, Finding[]>();
  for (const f of findings) {
    if (f.c === undefined) {
      inModel.push('', `  in the model, ${f.ts === undefined ? '' : place(f.ts)}: ${f.message}`);
      continue;
    }
    const key = `${place(f.c)} ${f.ts === undefined ? '' : place(f.ts)}`;
    places.set(key, [...(places.get(key) ?? []), f]);
  }
  for (const [first, ...more] of places.values()) {
    if (first?.c === undefined) continue;
    const messages = [first, ...more].map((f) => f.message);
    lines.push(
      '',
      `  ${place(first.c)}:`,
      ...(first.quote === undefined ? [] : [`  > ${first.quote}`]),
      ...(first.ts === undefined ? [] : [`  (the model: ${place(first.ts)})`]),
      ...(messages.length === 1 ? [`  ${messages[0]}`] : messages.map((m) => `  - ${m}`)),
    );
  }
  return [...lines, ...inModel];
}

/**
 * Readable, like a review reply: per input, what was read and paired, then per rule (its review
 * point and rationale once, with a count) each finding with the line it is about quoted.
 */
export function formatText(reports: readonly ConformReport[]): string {
  return reports
    .map((report) => {
      const groups = RULES.flatMap((rule) => {
        const findings = report.findings.filter((f) => f.rule === rule.id);
        if (findings.length === 0) return [];
        return [
          '',
          `${rule.id}: ${plural(findings.length, 'finding')}`,
          `  why: ${rule.rationale}`,
          ...reply(findings),
        ];
      });
      const unseen =
        report.notAnalysed.length === 0
          ? []
          : [
              '',
              `not analysed (called, but neither in the patch nor in the rules' catalogue): ${report.notAnalysed.map((n) => `${n}()`).join(', ')}`,
            ];
      const notes = report.notes.map((note) => `note: ${note}`);
      return [...head(report), ...groups, ...unseen, ...(notes.length > 0 ? ['', ...notes] : [])].join('\n');
    })
    .join('\n\n');
}

/**
 * At a glance: per input its head line, then per rule its count, where in the patch it first
 * fires, and its rationale's first sentence; `--format text` gives every finding.
 */
export function formatSummary(reports: readonly ConformReport[]): string {
  return reports
    .map((report) => {
      const rules = RULES.filter((rule) => report.findings.some((f) => f.rule === rule.id));
      const lines = rules.map((rule) => {
        const findings = report.findings.filter((f) => f.rule === rule.id);
        const inPatch = findings.filter((f) => f.c !== undefined);
        const first = inPatch[0]?.c;
        const counts = `${inPatch.length} in the patch${inPatch.length < findings.length ? `, ${findings.length - inPatch.length} in the model` : ''}`;
        // The rationale's first sentence: the review point and what it asks.
        const why = rule.rationale.split(/(?<=\.) /)[0] ?? '';
        return `  ${rule.id}: ${counts}${first === undefined ? '' : `, first at ${place(first)}`}\n    ${why}`;
      });
      const head = `${report.patch}: flavour ${report.flavour}, ${plural(report.paired.length, 'entity', 'entities')} paired, ${
        report.findings.length === 0
          ? 'no finding'
          : `${plural(report.findings.length, 'finding')} in ${plural(rules.length, 'rule')}`
      }`;
      return [head, ...lines].join('\n');
    })
    .join('\n');
}

const xml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** JUnit XML: a test suite per patch, a test case per rule, a failure per finding. */
export function formatJunit(reports: readonly ConformReport[]): string {
  const suites = reports.map((report) => {
    const cases = RULES.map((rule) => {
      const findings = report.findings.filter((f) => f.rule === rule.id);
      const failures = findings.map(
        (f) =>
          `      <failure message="${xml(f.message)}">${xml([...where(f.c, 'C'), ...where(f.ts, 'TS')].join('\n'))}</failure>`,
      );
      return [
        `    <testcase classname="${xml(report.patch)}" name="${rule.id}">`,
        ...failures,
        '    </testcase>',
      ].join('\n');
    });
    const failing = RULES.filter((rule) => report.findings.some((f) => f.rule === rule.id)).length;
    return [
      `  <testsuite name="${xml(report.patch)}" tests="${RULES.length}" failures="${failing}">`,
      ...cases,
      '  </testsuite>',
    ].join('\n');
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<testsuites name="snp-conform">',
    ...suites,
    '</testsuites>',
    '',
  ].join('\n');
}

/** SARIF 2.1.0: one run, the rules with their rationale, a result per finding with both locations. */
export function formatSarif(reports: readonly ConformReport[], version: string): string {
  const location = (loc: Location) => ({
    physicalLocation: { artifactLocation: { uri: loc.file }, region: { startLine: loc.line } },
  });
  const results = reports.flatMap((report) =>
    report.findings.map((f) => ({
      ruleId: f.rule,
      ruleIndex: RULES.findIndex((r) => r.id === f.rule),
      level: 'error' as const,
      message: {
        text: `${f.message} (${f.c?.patch === undefined ? report.patch : patchName(f.c.patch)}, ${report.flavour})`,
      },
      locations: [f.c, f.ts].filter((l): l is Location => l !== undefined).map(location),
    })),
  );
  // Typed against @types/sarif (the SARIF 2.1.0 object model), so a malformed log does not compile.
  const sarif: Log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'snp-conform',
            version,
            informationUri: 'https://github.com/snp-ref/snp-ref',
            rules: RULES.map((r) => ({ id: r.id, shortDescription: { text: r.rationale } })),
          },
        },
        results,
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}
