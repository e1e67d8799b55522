import { z } from 'zod';
import { FedAdam, FEDADAM_DEFAULTS } from './fedadam.js';
import { FedAdagrad, FEDADAGRAD_DEFAULTS } from './fedadagrad.js';
import { FedYogi, FEDYOGI_DEFAULTS } from './fedyogi.js';
import { LR_SCHEDULE_HELP, lrFactorOf, lrScheduleSpec } from './lr-schedule.js';
import { FedAvg } from './fedavg.js';
import { FedAvgM } from './fedavgm.js';
import { Krum } from './krum.js';
import { CoordinateMedian } from './median.js';
import type { Strategy } from './strategy.js';
import { TrimmedMean } from './trimmed-mean.js';

/** What a strategy factory may be given besides its options: things that are not settings. */
export interface StrategyDeps {
  /** Source of randomness for client sampling (Math.random unless injected). */
  random?: () => number;
}

/** A registered strategy: its options as a zod schema (what configs and flags validate against), and how to build it. */
export interface StrategyEntry<Schema extends z.ZodObject = z.ZodObject> {
  /** One line, for --help and the README table. */
  description: string;
  options: Schema;
  create(options: z.output<Schema>, deps: StrategyDeps): Strategy;
}

const serverLearningRate = () => z.number().positive().finite().optional().describe('multiplies the averaged delta (default 1)');
const unit = z.number().min(0).lt(1);
const serverLrSchedule = () => lrScheduleSpec().optional().describe(`the server learning rate's schedule over rounds: ${LR_SCHEDULE_HELP} (default constant)`);

/** The schedule option as the multiplier function the strategies take (absent: none, so they keep their constant rate). */
function scheduleOf(spec: string | undefined): { serverLrFactor?: (roundId: number) => number } {
  return spec === undefined ? {} : { serverLrFactor: lrFactorOf(spec) };
}

/** FedAdam, FedYogi and FedAdagrad scale η by the schedule. */
function etaScheduleOf(spec: string | undefined): { etaFactor?: (roundId: number) => number } {
  return spec === undefined ? {} : { etaFactor: lrFactorOf(spec) };
}

type Defined<T> = { [K in keyof T]?: Exclude<T[K], undefined> };

/** Drops keys zod left undefined, so the options fit exactOptionalPropertyTypes constructors. */
function defined<T extends object>(o: T): Defined<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Defined<T>;
}

function entry<Schema extends z.ZodObject>(e: StrategyEntry<Schema>): StrategyEntry<Schema> {
  return e;
}

/** Every strategy by the name configs, flags and the README use. A new strategy is one file and one line here. */
export const STRATEGIES = {
  fedavg: entry({
    description: 'FedAvg (McMahan et al. 2017): example-weighted mean delta, item rows averaged by the examples that touched them',
    options: z.strictObject({ serverLearningRate: serverLearningRate() }),
    create: (o, deps) => new FedAvg({ ...defined(o), ...deps }),
  }),
  fedavgm: entry({
    description: 'FedAvg with server momentum (Hsu et al. 2019)',
    options: z.strictObject({
      serverLearningRate: serverLearningRate(),
      momentum: unit.optional().describe('server momentum β (default 0.9)'),
      serverLrSchedule: serverLrSchedule(),
    }),
    create: ({ serverLrSchedule: spec, ...o }, deps) => new FedAvgM({ ...defined(o), ...scheduleOf(spec), ...deps }),
  }),
  fedadam: entry({
    description: 'FedAdam (Reddi et al. 2021): server Adam on the averaged delta; rows nobody touched stay put',
    options: z.strictObject({
      eta: z.number().positive().finite().optional().describe(`server learning rate (default ${FEDADAM_DEFAULTS.eta})`),
      beta1: unit.optional().describe(`first-moment decay (default ${FEDADAM_DEFAULTS.beta1})`),
      beta2: unit.optional().describe(`second-moment decay (default ${FEDADAM_DEFAULTS.beta2})`),
      tau: z.number().positive().finite().optional().describe(`adaptivity floor τ (default ${FEDADAM_DEFAULTS.tau})`),
      serverLrSchedule: serverLrSchedule(),
    }),
    create: ({ serverLrSchedule: spec, ...o }, deps) => new FedAdam({ ...defined(o), ...etaScheduleOf(spec), ...deps }),
  }),
  fedyogi: entry({
    description: 'FedYogi (Reddi et al. 2021): server Yogi, v moves additively by (1-β2)Δ²·sign(v-Δ²); no bias correction',
    options: z.strictObject({
      eta: z.number().positive().finite().optional().describe(`server learning rate (default ${FEDYOGI_DEFAULTS.eta})`),
      beta1: unit.optional().describe(`first-moment decay (default ${FEDYOGI_DEFAULTS.beta1})`),
      beta2: unit.optional().describe(`second-moment rate (default ${FEDYOGI_DEFAULTS.beta2})`),
      tau: z.number().positive().finite().optional().describe(`adaptivity floor τ (default ${FEDYOGI_DEFAULTS.tau})`),
      serverLrSchedule: serverLrSchedule(),
    }),
    create: ({ serverLrSchedule: spec, ...o }, deps) => new FedYogi({ ...defined(o), ...etaScheduleOf(spec), ...deps }),
  }),
  fedadagrad: entry({
    description: 'FedAdagrad (Reddi et al. 2021): server Adagrad, v = running sum of Δ²; no bias correction',
    options: z.strictObject({
      eta: z.number().positive().finite().optional().describe(`server learning rate (default ${FEDADAGRAD_DEFAULTS.eta})`),
      beta1: unit.optional().describe(`first-moment decay, 0 = no server momentum (default ${FEDADAGRAD_DEFAULTS.beta1})`),
      tau: z.number().positive().finite().optional().describe(`adaptivity floor τ (default ${FEDADAGRAD_DEFAULTS.tau})`),
      serverLrSchedule: serverLrSchedule(),
    }),
    create: ({ serverLrSchedule: spec, ...o }, deps) => new FedAdagrad({ ...defined(o), ...etaScheduleOf(spec), ...deps }),
  }),
  median: entry({
    description: 'coordinate-wise median (Yin et al. 2018), buffers every update: memory O(clients x model); plain mode only',
    options: z.strictObject({ serverLearningRate: serverLearningRate() }),
    create: (o, deps) => new CoordinateMedian({ ...defined(o), ...deps }),
  }),
  'trimmed-mean': entry({
    description: 'coordinate-wise trimmed mean (Yin et al. 2018), buffers every update: memory O(clients x model); plain mode only',
    options: z.strictObject({
      serverLearningRate: serverLearningRate(),
      trim: z.number().min(0).lt(0.5).optional().describe('fraction dropped at each end per element (default 0.2)'),
    }),
    create: (o, deps) => new TrimmedMean({ ...defined(o), ...deps }),
  }),
  krum: entry({
    description: 'Multi-Krum (Blanchard et al. 2017), buffers every update: memory O(clients x model), time O(clients^2 x model); plain mode only',
    options: z.strictObject({
      serverLearningRate: serverLearningRate(),
      byzantineFraction: z.number().min(0).lt(0.5).optional().describe('share of updates assumed hostile (default 0.2)'),
      select: z
        .union([z.number().int().min(1), z.literal('auto')])
        .optional()
        .describe("updates kept and averaged (default 'auto' = n - f; 1 = Krum)"),
    }),
    create: (o, deps) => new Krum({ ...defined(o), ...deps }),
  }),
} satisfies Record<string, StrategyEntry<z.ZodObject>>;

export type StrategyName = keyof typeof STRATEGIES;
export const STRATEGY_NAMES = Object.keys(STRATEGIES) as [StrategyName, ...StrategyName[]];

export function isStrategyName(name: string): name is StrategyName {
  return Object.hasOwn(STRATEGIES, name);
}

export function strategyEntry(name: string): StrategyEntry {
  if (!isStrategyName(name)) throw new RangeError(`unknown strategy "${name}"; registered: ${STRATEGY_NAMES.join(', ')}`);
  return STRATEGIES[name] as unknown as StrategyEntry;
}

/** The option names a strategy takes. */
export function strategyOptionKeys(name: string): string[] {
  return Object.keys(strategyEntry(name).options.shape);
}

/**
 * Shorthand settings (a --server-lr or --momentum flag) kept only where the strategy has that option,
 * so one flag serves every strategy that understands it; explicit options win over them.
 */
export function withShorthands(name: string, shorthands: Record<string, unknown>, options: Record<string, unknown> = {}): Record<string, unknown> {
  const keys = strategyOptionKeys(name);
  const kept = Object.entries(shorthands).filter(([k, v]) => v !== undefined && keys.includes(k));
  return { ...Object.fromEntries(kept), ...options };
}

/** Validates `options` against the strategy's schema; throws one readable error naming the strategy. */
export function parseStrategyOptions(name: string, options: unknown = {}): Record<string, unknown> {
  const parsed = strategyEntry(name).options.safeParse(options);
  if (!parsed.success) throw new RangeError(`invalid options for strategy ${name}:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** Builds a registered strategy from plain (JSON-able) options. */
export function createStrategy(name: string, options: unknown = {}, deps: StrategyDeps = {}): Strategy {
  return strategyEntry(name).create(parseStrategyOptions(name, options), deps);
}

/** One line per strategy with its options, for --help texts. */
export function strategyHelp(): string {
  return STRATEGY_NAMES.map((name) => {
    const e = strategyEntry(name);
    const opts = Object.entries(e.options.shape)
      .map(([k, s]) => `${k}: ${(s as z.ZodType).description ?? ''}`)
      .join('; ');
    return `  ${name.padEnd(12)} ${e.description}${opts ? `\n               options: ${opts}` : ''}`;
  }).join('\n');
}
