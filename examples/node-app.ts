// An app embedding the client SDK in Node: behaviour is recorded on the device, the device takes
// part in rounds, and recommendations are computed on the device after every model update.
//   npm start &                       # a coordinator with the default recommender
//   npm run example:node-app          # one device; run it again with another --device-dir for another user
//   npm run example:node-app -- --help
import { Command, InvalidArgumentError } from 'commander';
import { loadOrCreateClientId } from '@fedrec/client-sdk/client-id.js';
import { exitWithError, UsageError } from './exit-with-error.js';
import { readEventsFile } from './events-file.js';
import { stableHash, syntheticHistoryFor } from './synthetic-history.js';
import type { BehaviourInput, Recommendation } from '@fedrec/client-sdk';

const positive = (v: string): number => {
  if (!/^[1-9]\d*$/.test(v)) throw new InvalidArgumentError('expected a whole number >= 1.');
  return Number(v);
};
const ids = (v: string) => v.split(',').map((s) => (/^\d+$/.test(s.trim()) ? Number(s) : s.trim()));
const program = new Command('node-app')
  .description('One device running the fedrec client SDK: records behaviour, joins rounds, recommends on the device.')
  // The URL as a bare first argument still works, as earlier READMEs wrote it.
  .argument('[url]', 'same as --url')
  .option('--url <url>', 'coordinator URL', 'http://localhost:8080')
  .option('--token <token>', 'token the coordinator wants (its --auth-token)')
  .option('--allow-insecure', 'allow plain http:// to another machine (only on a network you trust; loopback is always allowed)')
  .option('--fingerprint <sha512:...>', "pin the coordinator's key fingerprint (GET /api/status shows it)")
  .option('--device-dir <dir>', 'where this device keeps its events, client id and private embedding', '.fedrec/device-1')
  .option('--events <file>', 'record these events first: CSV lines itemId,kind[,value[,timestamp]]')
  .option('--click <ids>', 'record clicks on these item ids (comma-separated)', ids)
  .option('--purchase <ids>', 'record purchases of these item ids (comma-separated)', ids)
  .option('--top <k>', 'recommendations to print', positive, 5)
  .option('--exit-after-rounds <n>', 'leave after taking part in n rounds (default: stay until Ctrl-C)', positive)
  .option('--verbose', 'print stack traces')
  .addHelpText(
    'after',
    '\nWith no --events, --click or --purchase, an empty device records a synthetic history picked by its client id,\nso each --device-dir is a different user.',
  )
  .parse();
const opts = program.opts<{
  url: string;
  token?: string;
  fingerprint?: string;
  allowInsecure?: boolean;
  deviceDir: string;
  events?: string;
  click?: Array<string | number>;
  purchase?: Array<string | number>;
  top: number;
  exitAfterRounds?: number;
  verbose?: boolean;
}>();
if (program.args[0] !== undefined) opts.url = program.args[0];

try {
  new URL(opts.url);
} catch {
  exitWithError('node-app', new UsageError(`--url ${opts.url}: not a URL (expected e.g. http://localhost:8080)`), opts.url, false);
}
// Read and check the events before anything connects: a bad file changes nothing.
const given: BehaviourInput[] = [
  ...(opts.events
    ? await readEventsFile(opts.events).catch((err: unknown) =>
        exitWithError('node-app', new UsageError(`--events ${opts.events}: ${err instanceof Error ? err.message : String(err)}`), opts.url, false),
      )
    : []),
  ...(opts.click ?? []).map((itemId): BehaviourInput => ({ itemId, kind: 'click' })),
  ...(opts.purchase ?? []).map((itemId): BehaviourInput => ({ itemId, kind: 'purchase' })),
];

// #region readme (README.md quotes this region; test/docs/readme.test.ts keeps the two identical)
import { createNodeClient, LiveRecsysTrainer, openFileStore } from '@fedrec/client-sdk/node/index.js';

// Events, the client id and the private embedding all live in this directory, on the device.
const store = await openFileStore(opts.deviceDir);
const deviceId = await loadOrCreateClientId(store);
// The engine follows the SDK's rule ('auto': the plain-JS engine here, without a GPU backend).
const trainer = new LiveRecsysTrainer({ store, user: stableHash(deviceId) });
const client = await createNodeClient({
  url: opts.url,
  store,
  trainer,
  backend: false,
  ...(opts.token ? { token: opts.token } : {}),
  ...(opts.fingerprint ? { pinnedFingerprint: opts.fingerprint } : {}),
  ...(opts.allowInsecure ? { allowInsecure: true } : {}),
});

// What the app sees the user do, by the app's item ids (the coordinator's default catalogue names rows "0".."numItems-1").
if ((await store.count()) === 0) {
  const events = given.length ? given : syntheticHistoryFor(deviceId).events.map((e): BehaviourInput => ({ ...e, kind: 'click' }));
  for (const event of events) await client.record(event);
}

// Each recommendation carries its reason, computed on the device.
const because = (r: Recommendation): string => (r.reason?.kind === 'similar-to-liked' ? `, because you liked ${r.reason.itemId ?? r.reason.item}` : '');
client.on('fit:done', (e) => console.log(`round ${e.roundId}: sent a sealed delta of ${e.bytesSent} bytes (${e.numExamples} examples)`));
client.on('model:updated', ({ modelVersion }) => {
  client.recommend(opts.top).then(
    (top) => console.log(`model v${modelVersion}: recommended ${top.map((r) => `${r.itemId} (${r.score.toFixed(3)}${because(r)})`).join(', ')}`),
    (err: unknown) => console.error(`model v${modelVersion}: recommend failed: ${err instanceof Error ? err.message : String(err)}`),
  );
});

// --exit-after-rounds: count the rounds that accepted our update (registered before connecting: a
// round can start at once), and leave once the model that includes the n-th is out.
let accepted = 0;
client.on('round:result', (r) => void (r.accepted && accepted++));
client.on('model:updated', () => {
  if (opts.exitAfterRounds !== undefined && accepted >= opts.exitAfterRounds) void client.close().then(() => process.exit(0));
});

const welcome = await client.connect().catch((err: unknown) => exitWithError('node-app', err, opts.url, opts.verbose === true));
// #endregion
console.log(
  `connected as ${client.clientId} to coordinator ${welcome.fingerprint} (model v${welcome.modelVersion}); ${await store.count()} events on this device; Ctrl-C to stop`,
);
console.log(`recommended now: ${(await client.recommend(opts.top)).map((r) => r.item).join(', ')}`);
client.on('error', (err) => exitWithError('node-app', err, opts.url, opts.verbose === true));

process.on('SIGINT', () => void client.close().then(() => process.exit(0)));
