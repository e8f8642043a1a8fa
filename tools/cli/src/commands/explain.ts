// `snp-ref explain`: the checks behind a KVM SNP command's ret and fw_error.
import { defineCommand } from '../commandLine/command.js';
import { CliInputError } from '../commandLine/inputError.js';

export const explainCommand = defineCommand({
  name: 'explain',
  summary: 'List the checks that make a KVM SNP command fail with this ret and fw_error',
  arguments: [],
  options: [
    {
      flag: '--cmd',
      type: 'optional-string',
      value: 'command',
      description: 'launch_start, launch_update or launch_finish',
    },
    {
      flag: '--ret',
      type: 'optional-string',
      value: 'errno',
      description: 'the ioctl result: -22, 22 or EINVAL',
    },
    {
      flag: '--fw-error',
      type: 'optional-string',
      value: 'status',
      description: 'kvm_sev_cmd.error: 0 (default), 0x16 or INVALID_PARAM',
    },
    {
      flag: '--abi',
      type: 'optional-string',
      value: 'flavour',
      description: 'only the checks of this KVM ABI: reviewed, v4 or upstream (Linux 6.11+, guest_memfd)',
    },
    { flag: '--json', type: 'boolean', description: 'print the checks as JSON' },
  ],
  action: async ({ options: { cmd, ret, fwError, abi, json } }, io) => {
    if (typeof cmd !== 'string' || typeof ret !== 'string')
      throw new CliInputError('USAGE', '--cmd and --ret are required (e.g. --cmd launch_update --ret -22)');
    const { explain, formatExplanation } = await import('../explain.js');
    const e = explain(
      cmd,
      ret,
      typeof fwError === 'string' ? fwError : undefined,
      typeof abi === 'string' ? abi : undefined,
    );
    io.stdout(json ? `${JSON.stringify(e, null, 2)}\n` : formatExplanation(e));
  },
});
