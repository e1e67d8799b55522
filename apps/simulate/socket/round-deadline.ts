/** The deadline a round gets when the simulation is not told one (and the heartbeat, which follows it). */
export const BASE_ROUND_TIMEOUT_MS = 300_000;

/**
 * Time allowed per device a worker thread trains in a round. The devices of one thread train in turn
 * (training-gate.ts), so a round lasts about (devices per thread) x (one device's download, fit, seal
 * and send). Measured on the 17,632-item NeuMF (README "The 17,632-item run"): 60-100 ms per device at
 * load average 20 on this 2-core machine, and about 600 ms at load 31-33 (998 of 1,884 devices within
 * a 300 s deadline); 1 s per device leaves room above the worst we saw.
 */
export const ROUND_TIMEOUT_PER_THREAD_DEVICE_MS = 1_000;

/**
 * The round deadline for `devicesPerRound` devices spread over `workers` threads: the base deadline,
 * or longer when one thread hosts more than 300 devices (1,884 devices on 2 threads: 942 s).
 */
export function simulationRoundTimeoutMs(devicesPerRound: number, workers: number): number {
  const perThread = Math.ceil(devicesPerRound / Math.max(1, workers));
  return Math.max(BASE_ROUND_TIMEOUT_MS, perThread * ROUND_TIMEOUT_PER_THREAD_DEVICE_MS);
}
