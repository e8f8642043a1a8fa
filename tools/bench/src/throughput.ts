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
