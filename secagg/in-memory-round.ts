import { SecAggClient } from './client.js';
import type { SecAggConfig } from '@fedrec/protocol';
import { advertiseKeysSchema, forwardedSharesSchema, maskedInputSchema, rosterSchema, unmaskRequestSchema } from '@fedrec/protocol/secagg-messages.js';
import { checkShareKeys, checkUnmaskResponse } from '@fedrec/protocol/secagg-message-checks.js';
import { SecAggServer, type SecAggAbandoned, type SecAggOutcome } from './server.js';

export type StageName = 'advertise' | 'share-keys' | 'masked-input' | 'unmask';

/** Sees every message and every step's duration: how a benchmark measures a round without a network. */
export interface RoundObserver {
  clientStep?(clientId: string, stage: StageName, ms: number, sent: unknown, received: unknown): void;
  /** Server work: called for every accepted message and for every stage close (`close: true`). */
  serverStep?(stage: StageName | 'finish', ms: number, close: boolean): void;
}

export interface InMemoryRoundOptions {
  roundId: number;
  config: SecAggConfig;
  /** Each client's quantized vector (encodeContribution), all of one length. */
  inputs: ReadonlyMap<string, Uint32Array>;
  /** Clients that go silent just before the named stage (they answered every earlier one). */
  dropBefore?: Partial<Record<Exclude<StageName, 'advertise'>, Iterable<string>>>;
  /** Round-trip every payload through its validator (zod schema or hand check), as a coordinator would. */
  validate?: boolean;
  observer?: RoundObserver;
  randomBytes?: (n: number) => Uint8Array;
  /** Milliseconds for the observer's step durations (performance.now unless given: a benchmark may pass CPU time). */
  clock?: () => number;
}

export interface InMemoryRound {
  outcome: SecAggOutcome;
  server: SecAggServer;
  clients: Map<string, SecAggClient>;
}

/**
 * Drives one SecAgg round between in-process clients and a server, with no transport: the reference
 * for how a coordinator and a client SDK sequence the stages, and the harness for tests and benchmarks.
 */
export async function runInMemoryRound(options: InMemoryRoundOptions): Promise<InMemoryRound> {
  const { roundId, config, inputs, observer } = options;
  const vectorLength = inputs.values().next().value?.length ?? 0;
  const server = new SecAggServer({ roundId, config, vectorLength, ...(options.randomBytes ? { randomBytes: options.randomBytes } : {}) });
  const clients = new Map<string, SecAggClient>();
  const gone = (stage: Exclude<StageName, 'advertise'>) => new Set(options.dropBefore?.[stage] ?? []);
  const check = <T>(schema: { parse(v: unknown): T }, value: T): T => (options.validate ? schema.parse(value) : value);
  const now = options.clock ?? (() => performance.now());
  const timed = <T>(f: () => T): [T, number] => {
    const start = now();
    const value = f();
    return [value, now() - start];
  };
  const timedAsync = async <T>(f: () => Promise<T>): Promise<[T, number]> => {
    const start = now();
    const value = await f();
    return [value, now() - start];
  };
  const finished = (result: SecAggAbandoned): InMemoryRound => ({ outcome: result, server, clients });

  for (const [id] of inputs) {
    const client = new SecAggClient({ clientId: id, roundId, config, vectorLength });
    clients.set(id, client);
    const [msg, ms] = timed(() => client.advertiseKeys());
    observer?.clientStep?.(id, 'advertise', ms, msg, null);
    const accepted = timed(() => server.acceptAdvertisement(id, check(advertiseKeysSchema, msg)))[1]; // timed outside the optional call, which would skip it
    observer?.serverStep?.('advertise', accepted, false);
  }
  const [rosters, ms0] = timed(() => server.closeAdvertisement());
  observer?.serverStep?.('advertise', ms0, true);
  if (rosters.status === 'abandoned') return finished(rosters);

  const silent1 = gone('share-keys');
  for (const [id, roster] of rosters.messages) {
    if (silent1.has(id)) continue;
    const [msg, ms] = await timedAsync(() => clients.get(id)!.shareKeys(check(rosterSchema, roster)));
    observer?.clientStep?.(id, 'share-keys', ms, msg, roster);
    const accepted = timed(() => server.acceptShareKeys(id, check({ parse: checkShareKeys }, msg)))[1];
    observer?.serverStep?.('share-keys', accepted, false);
  }
  const [forwarded, ms1] = timed(() => server.closeShareKeys());
  observer?.serverStep?.('share-keys', ms1, true);
  if (forwarded.status === 'abandoned') return finished(forwarded);

  const silent2 = gone('masked-input');
  for (const [id, shares] of forwarded.messages) {
    if (silent1.has(id) || silent2.has(id)) continue;
    const client = clients.get(id)!;
    const [msg, ms] = timed(() => {
      client.receiveShares(check(forwardedSharesSchema, shares));
      return client.maskInput(inputs.get(id)!);
    });
    observer?.clientStep?.(id, 'masked-input', ms, msg, shares);
    const accepted = timed(() => server.acceptMaskedInput(id, check(maskedInputSchema, msg)))[1];
    observer?.serverStep?.('masked-input', accepted, false);
  }
  const [requests, ms2] = timed(() => server.closeMaskedInput());
  observer?.serverStep?.('masked-input', ms2, true);
  if (requests.status === 'abandoned') return finished(requests);

  const silent3 = gone('unmask');
  for (const [id, request] of requests.messages) {
    if (silent3.has(id)) continue;
    const [msg, ms] = timed(() => clients.get(id)!.unmask(check(unmaskRequestSchema, request)));
    observer?.clientStep?.(id, 'unmask', ms, msg, request);
    const accepted = timed(() => server.acceptUnmaskResponse(id, check({ parse: checkUnmaskResponse }, msg)))[1];
    observer?.serverStep?.('unmask', accepted, false);
  }
  const [outcome, ms3] = await timedAsync(() => server.finish());
  observer?.serverStep?.('finish', ms3, true);
  return { outcome, server, clients };
}
