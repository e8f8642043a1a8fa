import { Bench } from 'tinybench';

/** Operations per call of a benchmarked function: enough that tinybench's per-call cost is noise. */
export const BATCH = 4096;

/**
 * Runs each function (one call = BATCH operations) under tinybench and returns operations per
 * second, by name. The functions run in the order given, in one Bench, so a reference and the
 * figures compared to it see the same machine state.
 */
export async function opsPerSecond(
  tasks: Readonly<Record<string, () => void>>,
  timeMs = 400,
): Promise<Record<string, number>> {
  const bench = new Bench({ time: timeMs, warmupTime: 100 });
  for (const [name, fn] of Object.entries(tasks)) bench.add(name, fn);
  await bench.run();
  const rates: Record<string, number> = {};
  for (const task of bench.tasks) {
    const result = task.result;
    if (result.state !== 'completed') throw new Error(`benchmark "${task.name}" ended ${result.state}`);
    rates[task.name] = (BATCH * 1000) / result.period;
  }
  return rates;
}

/** A task measured in bytes per second: `run` processes the bytes; `beforeEach` (not timed) prepares it. */
export interface ByteTask {
  readonly run: () => void;
  readonly beforeEach?: () => void;
}

/** Bytes per second of each task, each measured over `runs` passes over `bytes` bytes. */
export async function bytesPerSecond(
  tasks: Readonly<Record<string, ByteTask | (() => void)>>,
  bytes: number,
  runs = 8,
): Promise<Record<string, number>> {
  const bench = new Bench({ iterations: runs, time: 0, warmupIterations: 1, warmupTime: 0 });
  for (const [name, task] of Object.entries(tasks)) {
    if (typeof task === 'function') bench.add(name, task);
    else bench.add(name, task.run, task.beforeEach === undefined ? {} : { beforeEach: task.beforeEach });
  }
  await bench.run();
  return Object.fromEntries(
    bench.tasks.map((t) => [
      t.name,
      t.result.state === 'completed' ? (bytes * 1000) / t.result.period : Number.NaN,
    ]),
  );
}
