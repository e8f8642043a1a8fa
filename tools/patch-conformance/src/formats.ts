import type { Log } from 'sarif';
import type { ConformReport } from './conform.js';
import { DYNAMIC_RULE, HARNESS_RULES } from './dynamic/index.js';
import type { Location } from './input.js';
import { RULES as STATIC_RULES } from './rules/rules.js';

const RULES = [...STATIC_RULES, DYNAMIC_RULE, ...HARNESS_RULES];

const where = (loc: Location | undefined, side: string) =>
  loc === undefined ? [] : [`${side} ${loc.file}:${loc.line}`];

/** Readable: per patch, the findings grouped by rule, each rule with its rationale once and its count. */
export function formatText(reports: readonly ConformReport[]): string {
  return reports
    .map((report) => {
      const rules = RULES.filter((rule) => report.findings.some((f) => f.rule === rule.id));
      const head = `${report.patch} (${report.flavour}): ${report.paired.length} annotations paired, ${report.findings.length} finding(s) in ${rules.length} rule(s)`;
      const groups = rules.map((rule) => {
        const findings = report.findings.filter((f) => f.rule === rule.id);
        return [
          '',
          `  ${rule.id}: ${findings.length} finding(s)`,
          `    why: ${rule.rationale}`,
          ...findings.map((f) => {
            const at = [...where(f.c, 'C'), ...where(f.ts, 'TS')].join('  ');
            return `    - ${f.message}${at === '' ? '' : `\n      at ${at}`}`;
          }),
        ].join('\n');
      });
      const unseen =
        report.notAnalysed.length === 0
          ? []
          : [
              '',
              `  not analysed (called, but neither in the patch nor in the rules' catalogue): ${report.notAnalysed.map((n) => `${n}()`).join(', ')}`,
            ];
      const notes = report.notes.map((note) => `\n  note: ${note}`);
      return [head, ...groups, ...unseen, ...notes].join('\n');
    })
    .join('\n\n');
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
      message: { text: `${f.message} (${report.patch}, ${report.flavour})` },
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
