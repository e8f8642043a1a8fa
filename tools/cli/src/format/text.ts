import { counted } from '@snp-ref/rmp-core';
import type { Scenario, ScenarioResult } from '@snp-ref/scenario';
import { entryJsonText } from './entry.js';

const OUTCOME_FIELDS = ['errno', 'fwError', 'rmpRet', 'fault'] as const;

type StepResult = ScenarioResult['steps'][number];

/** What a step came to: "ok", or its errno, firmware status, RMP return code or fault. */
export const stepOutcome = (s: StepResult): string =>
  s.ok
    ? 'ok'
    : OUTCOME_FIELDS.map((f) => s[f])
        .filter((v) => v !== undefined)
        .join(' ');

/** What else the step returned: its ASID, pages, data read, RMP entry read, or why it failed. */
export const stepDetail = (s: StepResult): string =>
  [
    s.ok && s.asid !== undefined ? `asid ${s.asid}` : '',
    s.pages === undefined ? '' : counted(s.pages, 'page'),
    s.ok && s.data !== undefined ? `data ${s.data.length > 32 ? `${s.data.slice(0, 32)}…` : s.data}` : '',
    s.ok && s.entry !== undefined ? entryJsonText(s.entry) : '',
    s.ok ? '' : s.message,
  ]
    .filter((d) => d !== '')
    .join(', ');

/** The readable form of a result: one line per step (with the scenario's notes), then the VMs. */
export function formatResultText(result: ScenarioResult, scenario?: Scenario): string {
  const rows = result.steps.map((s) => {
    const note = scenario?.steps[s.i]?.note;
    const detail = [stepDetail(s), note === undefined ? '' : `# ${note}`].filter((d) => d !== '').join(', ');
    return [String(s.i).padStart(3), s.op.padEnd(18), stepOutcome(s).padEnd(24), detail].join('  ').trimEnd();
  });
  const vms = Object.entries(result.vms).map(
    ([name, vm]) =>
      `  ${name}: asid ${vm.asid}, ${vm.state}${vm.measurement === null ? '' : `, measurement ${vm.measurement}`}`,
  );
  return [`  i  ${'op'.padEnd(18)}  ${'outcome'.padEnd(24)}  detail`, ...rows, '', 'VMs:', ...vms, ''].join(
    '\n',
  );
}
