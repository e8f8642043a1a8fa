import { PlanError } from '@snp-ref/psp-firmware/measure';
import { cac } from 'cac';
import { describe, expect, it, vi } from 'vitest';
import { defineCommand, type Program } from './command.js';
import { commandUsage, HELP_OPTION, optionUsage, VERSION_OPTION } from './help.js';
import { CliInputError } from './inputError.js';
import { runProgram } from './run.js';

const echo = defineCommand({
  name: 'echo',
  summary: 'print what the action is given',
  arguments: [
    { name: 'first', required: true },
    { name: 'rest', variadic: true },
  ],
  options: [
    { flag: '--value', type: 'string', value: 'v', description: 'a value' },
    { flag: '--maybe', type: 'optional-string', value: 'm', description: 'a value that may be left out' },
    { flag: '--count', type: 'string', value: 'n', default: '3', description: 'a value with a default' },
    { flag: '--loud', alias: '-l', type: 'boolean', description: 'a switch' },
  ],
  action: async ({ args, options }, io) => io.stdout(JSON.stringify({ args, options })),
});

const fail = defineCommand({
  name: 'fail',
  summary: 'throw',
  arguments: [{ name: 'what', required: true }],
  options: [],
  action: async ({ args: { what } }) => {
    if (what === 'input') throw new CliInputError('INPUT', ['the first problem', 'the second problem']);
    if (what === 'plan') throw new PlanError('ops[0].gpa', '0x10 is not 4 KiB aligned');
    if (what === 'code') return 3;
    throw new TypeError('a bug');
  },
});

const commands = [echo, fail];
/** How many times each command was loaded. */
const loads = new Map<string, number>();
const program: Program = {
  name: 'prog',
  version: async () => '1.2.3',
  commands: commands.map((c) => ({
    name: c.name,
    load: async () => {
      loads.set(c.name, (loads.get(c.name) ?? 0) + 1);
      return c;
    },
  })),
};

async function run(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const status = await runProgram(program, argv, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    readStdin: () => '',
    cwd: '/',
    stderrIsTTY: false,
  });
  return { status, stdout, stderr };
}

const echoed = async (...argv: string[]) => JSON.parse((await run('echo', ...argv)).stdout);

describe(runProgram, () => {
  it('hands the action every value exactly as typed: hex, negative, a lone -, leading zeros', async () => {
    expect(await echoed('0x16', '-', '-22', '--value', '-22', '--maybe', '0x16', '--count=007')).toEqual({
      args: { first: '0x16', rest: ['-', '-22'] },
      options: { value: '-22', maybe: '0x16', count: '007', loud: false },
    });
    expect(await echoed('--value=0x10', '-l', 'x', '--', '--value')).toEqual({
      args: { first: 'x', rest: ['--value'] },
      options: { value: '0x10', count: '3', loud: true },
    });
  });

  it('gives an optional value left out as true', async () => {
    expect((await echoed('x', '--maybe', '--loud')).options).toMatchObject({ maybe: true, loud: true });
    expect((await echoed('x', '--maybe')).options).toMatchObject({ maybe: true });
  });

  it('refuses an unknown command, an unknown option, a missing value or argument: exit 2, the problem named', async () => {
    expect(await run('nope')).toEqual({
      status: 2,
      stdout: '',
      stderr: 'prog: unknown command "nope"; see prog --help\n',
    });
    expect(await run('echo', 'x', '--bogus', '1')).toMatchObject({
      status: 2,
      stderr: 'prog: Unknown option `--bogus`\n',
    });
    // Left out of the option given once, of its last or of its first repetition (cac sees the first two as an array).
    for (const values of [['--value'], ['--value', 'a', '--value'], ['--value', '--value', 'a']])
      expect(await run('echo', 'x', ...values)).toMatchObject({
        status: 2,
        stderr: 'prog: option `--value <v>` value is missing\n',
      });
    expect(await run('echo', '--loud')).toMatchObject({
      status: 2,
      stderr: 'prog: missing required args for command `echo <first> [...rest]`\n',
    });
  });

  it("reports the user's errors, its own and the packages', as exit 2 with one line per problem", async () => {
    expect(await run('fail', 'input')).toEqual({
      status: 2,
      stdout: '',
      stderr: 'prog: the first problem\nprog: the second problem\n',
    });
    expect(await run('fail', 'plan')).toMatchObject({
      status: 2,
      stderr: 'prog: ops[0].gpa: 0x10 is not 4 KiB aligned\n',
    });
  });

  it('reports anything else as an internal error, exit 1, with the stack', async () => {
    const { status, stderr } = await run('fail', 'bug');
    expect(status).toBe(1);
    expect(stderr).toMatch(/^prog: internal error: TypeError: a bug\n\s+at /);
  });

  it('loads only the command it runs; --help loads them all to list them', async () => {
    loads.clear();
    await run('echo', 'x', '--loud');
    await run('echo', '--help');
    expect(Object.fromEntries(loads)).toEqual({ echo: 2 });
    await run('nope');
    expect(Object.fromEntries(loads)).toEqual({ echo: 2 });
    expect((await run('--help')).stdout).toMatch(
      /echo <first> \[\.\.\.rest\] +print what.*\n +fail <what> +throw/,
    );
    expect(Object.fromEntries(loads)).toEqual({ echo: 3, fail: 1 });
  });

  it("returns the action's exit code", async () => {
    expect((await run('fail', 'code')).status).toBe(3);
  });

  it('prints help and version instead of running anything', async () => {
    expect(await run('echo', '--help')).toMatchObject({
      status: 0,
      stdout: expect.stringMatching(/^prog\/1\.2\.3\n/),
    });
    expect((await run('--version')).stdout).toBe(
      `prog/1.2.3 ${process.platform}-${process.arch} node-${process.version}\n`,
    );
    expect((await run()).stdout).toBe((await run('--help')).stdout);
  });

  // The help text was cac's before the descriptors; it must not change.
  it('lays help out as cac does, byte for byte', async () => {
    const cli = cac(program.name)
      .help()
      .version(await program.version(), '--version');
    for (const c of commands) {
      const command = cli.command(commandUsage(c), c.summary);
      for (const o of c.options)
        command.option(optionUsage(o), o.description, o.type === 'boolean' ? {} : { default: o.default });
    }
    const cacHelp = (argv: string[]) => {
      const log = vi.spyOn(console, 'log').mockImplementation(() => {});
      cli.parse(['node', 'prog', ...argv], { run: false });
      const printed = log.mock.calls.map((call) => `${call.join(' ')}\n`).join('');
      log.mockRestore();
      return printed;
    };
    expect((await run('--help')).stdout).toBe(cacHelp(['--help']));
    expect((await run('echo', '--help')).stdout).toBe(cacHelp(['echo', '--help']));
    expect([HELP_OPTION, VERSION_OPTION].map(optionUsage)).toEqual(['-h, --help', '--version']);
    expect(commandUsage(echo)).toBe('echo <first> [...rest]');
    expect(echo.options.map(optionUsage)).toEqual([
      '--value <v>',
      '--maybe [m]',
      '--count <n>',
      '-l, --loud',
    ]);
  });
});
