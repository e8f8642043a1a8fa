// `snp-ref rmp`: the RMP after a scenario, as a table and as a map of host memory.
import { defineCommand } from '../commandLine/command.js';
import { CliInputError } from '../commandLine/inputError.js';
import { filesOf } from '../files.js';
import { entryJsonText } from '../format/entry.js';
import { rmpSvg } from '../format/svg.js';
import { loadScenario, scenarioModules } from './scenarioInput.js';

export const rmpCommand = defineCommand({
  name: 'rmp',
  summary: 'Run a scenario and print the RMP entries that are not all zero; --svg draws the host memory',
  arguments: [],
  options: [
    { flag: '--scenario', type: 'string', value: 'file', description: 'the scenario to run first' },
    {
      flag: '--svg',
      type: 'string',
      value: 'file',
      description: 'also draw the host memory as an SVG map, coloured by owner',
    },
    {
      flag: '--json',
      type: 'boolean',
      description: "print the entries as JSON: the rmp object of snp-ref run's result",
    },
  ],
  action: async ({ options }, io) => {
    if (options.scenario === undefined)
      throw new CliInputError('USAGE', '--scenario: a scenario file is required');
    const files = filesOf(io);
    const { runScenario } = await scenarioModules();
    const scenario = await loadScenario(files, options.scenario);
    const result = runScenario(scenario);
    if (options.svg !== undefined)
      files.writeText(
        options.svg,
        rmpSvg(`The RMP after ${options.scenario}`, scenario.host.pages, [
          { label: 'host memory', rmp: result.rmp },
        ]),
      );
    if (options.json) {
      io.stdout(`${JSON.stringify(result.rmp, null, 2)}\n`);
      return;
    }
    const lines = Object.entries(result.rmp).map(([pfn, e]) => `${pfn.padStart(10)}  ${entryJsonText(e)}`);
    io.stdout(`${['       pfn  entry', ...lines].join('\n')}\n`);
  },
});
