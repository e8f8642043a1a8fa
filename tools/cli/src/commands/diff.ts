// `snp-ref diff`: the first measured page where two launches differ.
import { defineCommand } from '../commandLine/command.js';
import { CliInputError } from '../commandLine/inputError.js';
import { filesOf } from '../files.js';

export const diffCommand = defineCommand({
  name: 'diff',
  summary:
    'Name the first measured page where two launches differ: each a plan, a measurement log, a scenario or a QEMU trace; - reads one from stdin',
  arguments: [
    { name: 'a', required: true },
    { name: 'b', required: true },
  ],
  options: [
    {
      flag: '--vm',
      type: 'string',
      value: 'name',
      description: 'for a scenario: the VM whose launch to compare (default: the first that measured a page)',
    },
    { flag: '--json', type: 'boolean', description: 'print every difference as JSON' },
  ],
  action: async ({ args, options }, io) => {
    const { readSteps } = await import('../diff/steps.js');
    const { checkComparable } = await import('../diff/source.js');
    const { compareSteps } = await import('../diff/align.js');
    const { formatComparison } = await import('../diff/report.js');
    if (args.a === '-' && args.b === '-')
      throw new CliInputError('USAGE', 'A and B are both - (stdin): only one of them can be read from stdin');
    const files = filesOf(io);
    const a = await readSteps(args.a, files, options.vm);
    const b = await readSteps(args.b, files, options.vm);
    checkComparable(a, b);
    const comparison = compareSteps(a, b);
    if (options.json) {
      const side = ({ label, kind, steps, digest }: typeof a) => ({
        label,
        kind,
        [kind === 'sev-log' ? 'regions' : 'pages']: steps.length,
        digest,
      });
      io.stdout(`${JSON.stringify({ a: side(a), b: side(b), ...comparison }, null, 2)}\n`);
    } else {
      io.stdout(formatComparison(a, b, comparison));
    }
    // As diff(1): 0 the same, 1 different, 2 trouble.
    return comparison.differences.length === 0 ? 0 : 1;
  },
});
