import './style.css';
import { io, type Socket } from 'socket.io-client';
// Type imports from the files that declare them: the coordinator's index would pull express (and Node types) into the page.
import type { CoordinatorStatus } from '@fedrec/coordinator/coordinator-status.js';
import type { RoundStarted } from '@fedrec/coordinator/events.js';
import { DASHBOARD_NAMESPACE, type DashboardClient, type DashboardRound, type DashboardServerEvents } from '../types.js';
import { RoundChart } from './charts.js';
import { esc, formatBytes, formatMetric, formatTime } from './format.js';
import { phaseText, waitingText } from './status-text.js';
import { renderBufferedTiles } from './buffered-tiles.js';
import { privacyTileText } from './privacy-tile.js';

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing from the page`);
  return el as T;
};
const canvas = (id: string) => $<HTMLCanvasElement>(id);

// What the page knows: everything arrives pushed over the /dashboard namespace.
const state = {
  status: null as CoordinatorStatus | null,
  rounds: [] as DashboardRound[],
  clients: [] as DashboardClient[],
  current: null as RoundStarted | null,
};

const evalMetric = (key: string) => (r: DashboardRound) => r.evaluation?.metrics[key] ?? null;
const committed = (r: DashboardRound) => r.outcome === 'committed';

const charts = {
  quality: new RoundChart(
    canvas('c-quality'),
    [
      { label: 'HR@10', value: evalMetric('hr10') },
      { label: 'NDCG@10', value: evalMetric('ndcg10') },
    ],
    { min: 0, max: 1 },
  ),
  loss: new RoundChart(canvas('c-loss'), [
    { label: 'train loss (clients, weighted)', value: (r) => r.fitMetrics['loss'] ?? null },
    { label: 'held-out loss', value: evalMetric('loss') },
  ]),
  participation: new RoundChart(
    canvas('c-participation'),
    [
      { label: 'selected', value: (r) => r.selected.length, kind: 'bar' },
      { label: 'contributed', value: (r) => r.participants.length, kind: 'bar' },
      { label: 'examples', value: (r) => r.totalExamples, axis: 'y1' },
    ],
    { yTitle: 'clients', y1Title: 'examples' },
  ),
  failures: new RoundChart(canvas('c-failures'), [], { stacked: true, yTitle: 'clients' }),
  // Up and down differ by orders of magnitude (a sealed delta vs the whole model to every client): one chart each, each on its own scale.
  bytesUp: new RoundChart(
    canvas('c-bytes-up'),
    [{ label: 'up: sealed updates (KB)', value: (r) => (r.traffic ? r.traffic.bytesUp / 1024 : null), kind: 'bar' }],
    {
      yTitle: 'KB',
    },
  ),
  bytesDown: new RoundChart(
    canvas('c-bytes-down'),
    [{ label: 'down: tasks with the global weights (KB)', value: (r) => (r.traffic ? r.traffic.bytesDown / 1024 : null), kind: 'bar' }],
    { yTitle: 'KB' },
  ),
  duration: new RoundChart(canvas('c-duration'), [{ label: 'duration (s)', value: (r) => r.durationMs / 1000, kind: 'bar' }], { yTitle: 'seconds' }),
};

function failureSeries(rounds: readonly DashboardRound[]) {
  const codes = [...new Set(rounds.flatMap((r) => r.failures.map((f) => f.code)))].sort();
  return codes.map((code) => ({
    label: code,
    value: (r: DashboardRound) => r.failures.filter((f) => f.code === code).length,
    kind: 'bar' as const,
    stack: 'f',
  }));
}

function renderTiles(): void {
  const s = state.status;
  if (!s) return;
  $('t-version').textContent = String(s.modelVersion);
  $('t-phase').textContent = phaseText(s);
  $('t-waiting').textContent = waitingText(s, state.current);
  $('t-clients').textContent = String(state.clients.length);
  renderRuntimes();
  $('t-rounds').textContent = `${s.roundsCommitted} / ${s.roundsAbandoned}`;
  $('t-privacy').textContent = privacyTileText(s);
  $('t-model').textContent = `${s.modelSpec.name} · ${s.strategy} · ${s.mode === 'fixed' ? `${s.roundsTarget} rounds` : 'continuous'}`;
  renderBufferedTiles(s, $);
  const lastEval = [...state.rounds].reverse().find((r) => r.evaluation);
  $('t-quality').textContent = lastEval?.evaluation
    ? `${formatMetric(lastEval.evaluation.metrics['hr10'])} / ${formatMetric(lastEval.evaluation.metrics['ndcg10'])}`
    : '–';
}

function renderCurrent(): void {
  const c = state.current;
  $('current').innerHTML = c
    ? `<div class="big">round ${c.roundId}</div><div>training on model v${c.modelVersion}</div><div>${c.selected.length} clients selected</div><div>deadline ${formatTime(c.deadline)}</div>`
    : `<div class="big">${state.status ? esc(phaseText(state.status)) : 'idle'}</div><div>${state.rounds.length ? `last round ${state.rounds.at(-1)!.roundId} ${state.rounds.at(-1)!.outcome}` : 'waiting for clients'}</div>`;
}

/** Connected clients counted by the engine/backend they announced: which engines the fleet really runs. */
function renderRuntimes(): void {
  const counts = new Map<string, number>();
  for (const c of state.clients) counts.set(c.runtime ?? 'unreported', (counts.get(c.runtime ?? 'unreported') ?? 0) + 1);
  const text = [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([runtime, n]) => `${n} ${runtime}`)
    .join(' · ');
  $('t-runtimes').textContent = text || '–';
}

function renderClients(): void {
  const rows = [...state.clients]
    .sort((a, b) => a.clientId.localeCompare(b.clientId))
    .map(
      (c) =>
        `<tr><td class="dot ${c.selected ? 'sel' : ''}">●</td><td>${esc(c.clientId)}</td><td>${formatTime(c.connectedAt)}</td><td class="num">${c.roundsContributed}</td></tr>`,
    );
  $('clients').querySelector('tbody')!.innerHTML = rows.join('') || '<tr><td></td><td colspan="3">no clients connected</td></tr>';
}

function renderVersions(): void {
  const rows = state.rounds
    .filter(committed)
    .slice(-30)
    .reverse()
    .map((r) => {
      const ev = r.evaluation?.metrics;
      const failures = r.failures.length ? `<span class="bad">${r.failures.length} (${[...new Set(r.failures.map((f) => f.code))].join(', ')})</span>` : '0';
      return `<tr><td>v${r.modelVersion}</td><td>${r.roundId}</td><td>${formatTime(r.endedAt)}</td><td class="num">${r.participants.length}/${r.selected.length}</td><td class="num">${r.totalExamples}</td><td class="num">${formatMetric(r.fitMetrics['loss'])}</td><td class="num">${formatMetric(ev?.['hr10'])}</td><td class="num">${formatMetric(ev?.['ndcg10'])}</td><td class="num">${r.traffic ? `${formatBytes(r.traffic.bytesUp)} / ${formatBytes(r.traffic.bytesDown)}` : '–'}</td><td>${failures}</td></tr>`;
    });
  $('versions').querySelector('tbody')!.innerHTML = rows.join('') || '<tr><td colspan="10">no committed rounds yet</td></tr>';
}

function renderCharts(): void {
  const rounds = state.rounds.slice(-200);
  charts.failures.setSeries(failureSeries(rounds));
  for (const chart of Object.values(charts)) chart.update(rounds);
}

function renderAll(): void {
  renderTiles();
  renderCurrent();
  renderClients();
  renderVersions();
  renderCharts();
}

const socket: Socket<DashboardServerEvents> = io(DASHBOARD_NAMESPACE, { transports: ['websocket'] });
const live = $('live');
socket.on('connect', () => {
  live.textContent = 'live';
  live.className = 'pill on';
});
socket.on('disconnect', () => {
  live.textContent = 'disconnected';
  live.className = 'pill off';
});
socket.on('dashboard:snapshot', (snap) => {
  Object.assign(state, snap);
  renderAll();
});
socket.on('dashboard:round-started', (started) => {
  state.current = started;
  renderCurrent();
  renderTiles();
});
socket.on('dashboard:round-ended', (round) => {
  state.current = null;
  state.rounds = [...state.rounds.filter((r) => r.roundId !== round.roundId), round].slice(-500);
  renderAll();
});
socket.on('dashboard:clients', (clients) => {
  state.clients = clients;
  renderClients();
  renderTiles();
});
socket.on('dashboard:status', (status) => {
  state.status = status;
  // The status is the coordinator's own word on whether a round runs; the round panel follows it.
  if (!status.currentRound) state.current = null;
  renderTiles();
  renderCurrent();
});

// For tests and the curious: what the page has received so far.
(globalThis as { fedrecDashboard?: unknown }).fedrecDashboard = { state, connected: () => socket.connected };
