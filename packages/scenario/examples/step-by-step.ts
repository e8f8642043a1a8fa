// A scenario file, validated and run one step at a time: every failed step says what refused it
// (`why`), and the run goes on.
import { parseScenario, ScenarioSession } from '@snp-ref/scenario';

const file = {
  scenario: 1,
  host: { pages: 64 },
  kvm: { abi: 'reviewed' },
  steps: [
    { op: 'vm.create', vm: 'a' },
    { op: 'mmap', vm: 'a', hva: '0x10000', pfn: 8, pages: 4, fill: { seed: 'a' } },
    { op: 'snp.launch_start', vm: 'a' },
    { op: 'snp.launch_update', vm: 'a', hva: '0x10000', gpa: '0x0', len: '8KiB', type: 'normal' },
    { op: 'inject', at: 'psp.launch_update', nth: 2, error: 'INVALID_PAGE_STATE' },
    { op: 'snp.launch_update', vm: 'a', hva: '0x12000', gpa: '0x2000', len: '8KiB', type: 'normal' },
    { op: 'hv.write', vm: 'a', hva: '0x10000', data: 'deadbeef' },
    { op: 'guest.read', vm: 'a', gpa: '0x0', len: 4 },
    {
      op: 'hv.rmpupdate',
      pfn: 8,
      entry: { assigned: true, asid: 1, gpa: '0x0', pageSize: '4K', immutable: false },
    },
    { op: 'guest.read', vm: 'a', gpa: '0x0', len: 4 },
    { op: 'guest.pvalidate', vm: 'a', gpa: '0x0', validate: true },
    { op: 'snp.launch_finish', vm: 'a' },
    { op: 'rmp.query', pfn: 4096 },
  ],
};

const parsed = parseScenario(file);
if (!parsed.ok) throw new Error('not a valid scenario');
const session = new ScenarioSession(parsed.scenario);
const shown = ['i', 'op', 'ok', 'asid', 'pages', 'data', 'errno', 'fwError', 'fault', 'why', 'check', 'rule'];
for (const step of parsed.scenario.steps) console.log(JSON.stringify(session.run(step), shown));
console.log(session.result().vms);

// A file that is not a scenario: every problem, with its JSON path; nothing runs.
const broken = parseScenario({
  scenario: 1,
  host: { pages: 0 },
  steps: [{ op: 'snp.launch_update', vm: 'a', hva: 4.5, gpa: 0, len: '1KB', type: 'normal' }],
});
if (!broken.ok) for (const problem of broken.problems) console.log(`${problem.path}: ${problem.message}`);
