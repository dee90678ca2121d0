/**
 * The demo page: connect to an API, pick a model, device class and network
 * (or measure it), see the plan's every candidate and the predicted latency
 * by cut, run an inference (or a burst) and see where it ran, cold or warm,
 * the timing measured vs predicted, the top classes and any fallback.
 * Every failure is one visible line in #message. Test hooks: `window.offloadDemo`.
 */
import {
  ApiError,
  DEVICE_CLASSES,
  NETWORK_PRESET_NAMES,
  OffloadApi,
  catalogEntry,
  cognitoCredentials,
  collaborativeInfer,
  initBrowserBackend,
  loadDeviceModel,
  measureNetwork,
  webCryptoSigner,
  type BackendChoice,
  type BrowserBackend,
  type CollaborativeResult,
  type DeviceModel,
  type MeasuredNetwork,
  type ModelsResponse,
  type PlanRequestBody,
  type PlanResponse,
} from '../index';

interface RunSummary {
  cut: number;
  target: 'device' | 'cloud';
  cold: boolean | null;
  fallback: { reason: string; message: string } | null;
  maxAbsDiff: number;
  top: { index: number; value: number }[];
  totalMs: number;
  output: number[];
}

interface DemoState {
  backend: BrowserBackend | null;
  backendChoice: BackendChoice | null;
  /** How long choosing (and starting) the backend took. */
  backendMs: number | null;
  api: OffloadApi | null;
  catalog: ModelsResponse | null;
  model: string | null;
  device: DeviceModel | null;
  measured: MeasuredNetwork | null;
  plan: PlanResponse | null;
  last: RunSummary | null;
  lastBurst: RunSummary[] | null;
  busy: boolean;
  message: { kind: 'info' | 'error'; text: string };
}

const state: DemoState = {
  backend: null,
  backendChoice: null,
  backendMs: null,
  api: null,
  catalog: null,
  model: null,
  device: null,
  measured: null,
  plan: null,
  last: null,
  lastBurst: null,
  busy: false,
  message: { kind: 'info', text: '' },
};
(window as unknown as { offloadDemo: DemoState }).offloadDemo = state;

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);

function say(kind: 'info' | 'error', text: string): void {
  const line = text.split('\n')[0] ?? '';
  state.message = { kind, text: line };
  const el = $('message');
  el.className = kind;
  el.textContent = line;
  el.title = line;
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Runs an action with the buttons disabled; any failure becomes the one-line message. */
async function guarded(what: string, action: () => Promise<void>): Promise<void> {
  if (state.busy) return;
  state.busy = true;
  setButtons();
  try {
    await action();
  } catch (e) {
    say('error', `${what}: ${describe(e)}`);
  } finally {
    state.busy = false;
    setButtons();
  }
}

function setButtons(): void {
  const ready = !state.busy && state.device !== null;
  for (const id of ['plan', 'run', 'run-burst', 'measure']) $<HTMLButtonElement>(id).disabled = !ready;
  $<HTMLButtonElement>('connect').disabled = state.busy;
}

function fill(select: HTMLSelectElement, values: readonly string[], chosen?: string): void {
  select.replaceChildren(...values.map((v) => new Option(v, v, false, v === chosen)));
}

// ---------------------------------------------------------------------------
// Connecting and loading the model

function apiFromInput(): OffloadApi {
  const raw = $<HTMLInputElement>('api').value.trim();
  if (!raw) throw new Error('give the API URL (the stack output Url, or http://127.0.0.1:3000 for npm start)');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`"${raw}" is not a URL (e.g. https://abc123.execute-api.eu-west-1.amazonaws.com)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`"${raw}" is not an http(s) URL`);
  const pool = params.get('identityPool');
  // `&roleArn=` (an identity pool role) switches to the basic flow (docs/browser.md, "Auth in AWS").
  const roleArn = params.get('roleArn');
  const credentials = pool ? cognitoCredentials({ identityPoolId: pool, ...(roleArn ? { flow: 'basic' as const, roleArn } : {}) }) : undefined;
  const signer = pool && credentials ? webCryptoSigner({ region: params.get('region') ?? pool.split(':')[0] ?? '', credentials }) : undefined;
  return new OffloadApi({ baseUrl: url.origin + url.pathname.replace(/\/+$/, ''), timeoutMs: Number(params.get('timeoutMs') ?? 15_000), ...(signer ? { signer } : {}) });
}

async function connect(): Promise<void> {
  state.device?.dispose();
  Object.assign(state, { api: null, catalog: null, device: null, model: null, plan: null });
  const api = apiFromInput();
  say('info', `connecting to ${api['baseUrl' as keyof OffloadApi] as unknown as string}…`);
  let catalog: ModelsResponse;
  try {
    catalog = await api.models();
  } catch (e) {
    throw new Error(e instanceof ApiError && e.failure === 'network' ? `cannot reach the API (${describe(e)})` : describe(e));
  }
  if (catalog.models.length === 0) throw new Error('the API lists no models');
  state.api = api;
  state.catalog = catalog;
  const wanted = params.get('model') ?? catalog.models[0]!.name;
  fill($('model'), catalog.models.map((m) => m.name), wanted);
  await selectModel(wanted);
}

async function selectModel(name: string): Promise<void> {
  if (!state.catalog) return;
  const entry = catalogEntry(state.catalog, name);
  state.device?.dispose();
  state.device = null;
  state.plan = null;
  say('info', `loading ${name}…`);
  const device = await loadDeviceModel(entry, {
    onProgress: (p) => say('info', `loading ${name}: ${p.files}/${p.total} files, ${(p.bytes / 2 ** 20).toFixed(1)} of ${(p.totalBytes / 2 ** 20).toFixed(1)} MiB`),
  });
  state.device = device;
  state.model = name;
  const deployed = new Set(entry.candidates.filter((c) => c.deployed).map((c) => c.cut));
  const cuts = $<HTMLSelectElement>('cut');
  cuts.replaceChildren(
    new Option("planner's choice", ''),
    ...device.analysis.candidates.map((c) => new Option(`${c.cut} (${c.layer})${deployed.has(c.cut) ? '' : ' – no function'}`, String(c.cut))),
    new Option(`${device.layerCount} (device only)`, String(device.layerCount)),
  );
  const wantedCut = params.get('cut');
  if (wantedCut !== null) cuts.value = wantedCut;
  say('info', `${name}: ${device.layerCount} layers, ${device.analysis.candidates.length} candidate cuts, ${deployed.size} deployed; backend ${state.backend}`);
}

// ---------------------------------------------------------------------------
// Planning

function planRequest(): Omit<PlanRequestBody, 'model'> {
  const network = $<HTMLSelectElement>('network').value;
  if (network === 'measured') {
    if (!state.measured) throw new Error('measure the network first (or pick a preset)');
    return { device: $<HTMLSelectElement>('device').value, network: state.measured };
  }
  return { device: $<HTMLSelectElement>('device').value, network: network as PlanRequestBody['network'] };
}

const fmt = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : '–');

function renderPlan(plan: PlanResponse): void {
  const head = '<tr><th>cut</th><th class="l">layer</th><th>sent KiB</th><th>latency ms</th><th>cold ms</th><th>energy J</th><th>cost µ$</th><th class="l">feasible / why not</th></tr>';
  const rows = plan.candidates
    .map((r) => {
      const cls = r.cut === plan.cut ? 'chosen' : r.feasible ? '' : 'infeasible';
      const why = r.feasible ? (r.cut === plan.cut ? 'chosen' : 'yes') : r.reasons.join(', ');
      return `<tr class="${cls}" data-cut="${r.cut}"><td>${r.cut}</td><td class="l">${escapeHtml(r.layer)}</td><td>${fmt(r.sentBytes / 1024)}</td><td>${fmt(r.latencyMs)}</td><td>${fmt(r.coldMs)}</td><td>${fmt(r.energyJ, 3)}</td><td>${fmt(r.costUSD * 1e6, 3)}</td><td class="l">${why}</td></tr>`;
    })
    .join('');
  $('plan-table').innerHTML = `<table>${head}${rows}</table><p>chosen: cut ${plan.cut} (${plan.target}${plan.function ? `, ${escapeHtml(plan.function)}` : ''}), objective ${plan.objective}, fleet ${plan.fleetSource}</p>`;
  renderChart(plan);
}

function renderChart(plan: PlanResponse): void {
  const rows = plan.candidates;
  const W = 520;
  const H = 190;
  const pad = { l: 48, b: 24, t: 10 };
  const max = Math.max(...rows.map((r) => r.latencyMs), 1);
  const bw = (W - pad.l) / rows.length;
  const y = (v: number) => pad.t + (H - pad.t - pad.b) * (1 - v / max);
  const bars = rows
    .map((r, i) => {
      const fill = r.cut === plan.cut ? '#1f9d55' : r.feasible ? '#2456c7' : '#c5cad3';
      const x = pad.l + i * bw;
      const label = rows.length <= 24 || i % Math.ceil(rows.length / 24) === 0 ? `<text x="${x + bw / 2}" y="${H - 8}" font-size="9" text-anchor="middle">${r.cut}</text>` : '';
      return `<rect x="${x + 1}" y="${y(r.latencyMs)}" width="${Math.max(bw - 2, 1)}" height="${H - pad.b - y(r.latencyMs)}" fill="${fill}"><title>cut ${r.cut}: ${fmt(r.latencyMs)} ms</title></rect>${label}`;
    })
    .join('');
  const axis = [0, 0.5, 1]
    .map((f) => `<text x="${pad.l - 6}" y="${y(max * f) + 3}" font-size="10" text-anchor="end">${fmt(max * f, 0)}</text><line x1="${pad.l}" x2="${W}" y1="${y(max * f)}" y2="${y(max * f)}" stroke="#eef0f3"/>`)
    .join('');
  $('chart').innerHTML = `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="predicted latency by cut">${axis}${bars}</svg>`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

// ---------------------------------------------------------------------------
// Running

function topClasses(data: ArrayLike<number>, k = 5): { index: number; value: number }[] {
  return Array.from(data, (value, index) => ({ index, value }))
    .sort((a, b) => b.value - a.value)
    .slice(0, k);
}

async function runOnce(device: DeviceModel, api: OffloadApi, request: Omit<PlanRequestBody, 'model'>, seed: number, cut: number | undefined): Promise<{ result: CollaborativeResult; summary: RunSummary }> {
  const input = device.randomInput(seed);
  try {
    const result = await collaborativeInfer({ api, device, request, input, ...(cut === undefined ? {} : { cut }) });
    const whole = await device.runAll(input);
    let maxAbsDiff = 0;
    for (let i = 0; i < whole.data.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(whole.data[i]! - result.output.data[i]!));
    if (whole.data.length !== result.output.data.length) maxAbsDiff = Infinity;
    return {
      result,
      summary: {
        cut: result.cut,
        target: result.target,
        cold: result.cold,
        fallback: result.fallback,
        maxAbsDiff,
        top: topClasses(result.output.data),
        totalMs: result.measured.totalMs,
        output: Array.from(result.output.data),
      },
    };
  } finally {
    input.dispose();
  }
}

function chosenCut(): number | undefined {
  const v = $<HTMLSelectElement>('cut').value;
  return v === '' ? undefined : Number(v);
}

function renderResult(result: CollaborativeResult, summary: RunSummary): void {
  const where =
    result.target === 'cloud'
      ? `<span class="tag ${result.cold ? 'cold' : 'warm'}">${result.cold ? 'cold' : 'warm'}</span>tail ran in the cloud (${escapeHtml(result.function ?? 'function')}, instance ${escapeHtml(result.instance ?? '?')})`
      : result.fallback
        ? `<span class="tag fallback">fallback: ${result.fallback.reason}</span>finished on the device — ${escapeHtml(result.fallback.message)}`
        : 'ran entirely on the device';
  const top = summary.top.map((t) => `<tr><td>#${t.index}</td><td>${t.value.toFixed(4)}</td></tr>`).join('');
  $('result').innerHTML = `<p>cut ${result.cut} of ${state.device?.layerCount}: ${where}</p>
    <p>backend <b>${state.backend}</b>; output matches the whole model on this device: max |Δ| = ${summary.maxAbsDiff.toExponential(2)}</p>
    <table><tr><th>top class</th><th>score</th></tr>${top}</table>`;
  const m = result.measured;
  const p = result.predicted;
  const rows: [string, number | null, number | null][] = [
    ['device head', m.deviceHeadMs, p?.headMs ?? null],
    ['upload + RTT + download', m.networkMs, p ? p.upMs + p.downMs : null],
    ['cloud init (cold start)', m.cloudInitMs, p?.coldMs ?? null],
    ['cloud compute', m.cloudComputeMs, p?.tailMs ?? null],
    ['device tail / whole model', m.deviceTailMs, null],
    ['total', m.totalMs, p?.latencyMs ?? null],
  ];
  $('timing').innerHTML = `<table><tr><th class="l">part</th><th>measured</th><th>predicted</th></tr>${rows
    .map(([part, a, b]) => `<tr><td class="l">${part}</td><td>${a === null ? '–' : fmt(a)}</td><td>${b === null ? '–' : fmt(b)}</td></tr>`)
    .join('')}</table>`;
}

async function run(): Promise<void> {
  const { device, api } = state;
  if (!device || !api) return;
  say('info', 'running…');
  const { result, summary } = await runOnce(device, api, planRequest(), Number($<HTMLInputElement>('seed').value), chosenCut());
  state.last = summary;
  renderResult(result, summary);
  say(result.fallback ? 'error' : 'info', result.fallback ? `fell back to the device: ${result.fallback.reason}` : `done in ${fmt(summary.totalMs)} ms (${result.target}${result.cold === null ? '' : result.cold ? ', cold' : ', warm'})`);
}

async function runBurst(): Promise<void> {
  const { device, api } = state;
  if (!device || !api) return;
  const n = Math.min(32, Math.max(2, Number($<HTMLInputElement>('burst').value) || 6));
  say('info', `running ${n} at once…`);
  const seed = Number($<HTMLInputElement>('seed').value);
  const request = planRequest();
  const runs = await Promise.all(Array.from({ length: n }, () => runOnce(device, api, request, seed, chosenCut())));
  state.lastBurst = runs.map((r) => r.summary);
  const fallbacks = runs.filter((r) => r.result.fallback);
  const reasons = [...new Set(fallbacks.map((r) => r.result.fallback!.reason))].join(', ');
  const worst = Math.max(...runs.map((r) => r.summary.maxAbsDiff));
  renderResult(runs[runs.length - 1]!.result, runs[runs.length - 1]!.summary);
  say(fallbacks.length ? 'error' : 'info', `burst of ${n}: ${n - fallbacks.length} in the cloud, ${fallbacks.length} fell back${reasons ? ` (${reasons})` : ''}; max |Δ| vs whole model ${worst.toExponential(2)}`);
}

async function measure(): Promise<void> {
  const { api, catalog, model } = state;
  if (!api || !catalog || !model) return;
  say('info', 'measuring RTT and bandwidth against the API…');
  const probe = catalogEntry(catalog, model).full.files.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  state.measured = await measureNetwork(api, probe);
  const sel = $<HTMLSelectElement>('network');
  sel.value = 'measured';
  say('info', `measured: RTT ${state.measured.rttMs} ms, up ${state.measured.uplinkMbps} Mbit/s, down ${state.measured.downlinkMbps} Mbit/s`);
}

async function plan(): Promise<void> {
  const { api, model } = state;
  if (!api || !model) return;
  state.plan = await api.plan({ model, ...planRequest() });
  renderPlan(state.plan);
  say('info', `plan: cut ${state.plan.cut} (${state.plan.target}), predicted ${fmt(state.plan.predicted.latencyMs)} ms`);
}

// ---------------------------------------------------------------------------

async function start(): Promise<void> {
  fill($('device'), Object.keys(DEVICE_CLASSES), params.get('device') ?? 'flagship-phone');
  fill($('network'), [...NETWORK_PRESET_NAMES, 'measured'], params.get('network') ?? '4g');
  const apiInput = $<HTMLInputElement>('api');
  apiInput.value = params.get('api') ?? (location.pathname.includes('/_local/demo/') ? location.origin : '');
  $('connect').addEventListener('click', () => void guarded('API', connect));
  $('model').addEventListener('change', (e) => void guarded('model', () => selectModel((e.target as HTMLSelectElement).value)));
  $('plan').addEventListener('click', () => void guarded('plan', plan));
  $('run').addEventListener('click', () => void guarded('inference', run));
  $('run-burst').addEventListener('click', () => void guarded('burst', runBurst));
  $('measure').addEventListener('click', () => void guarded('network', measure));
  // `?backend=wasm` forces one; `?backend=webgl,wasm` narrows the candidates; `&pick=first` skips the timed probe
  const candidates = params.get('backend')?.split(',').map((b) => b.trim()) as BrowserBackend[] | undefined;
  const pick = params.get('pick') === 'first' ? ('first' as const) : ('fastest' as const);
  // `&wasmKernels=0`: tfjs's own scalar kernels on wasm (to compare)
  const wasmKernels = params.get('wasmKernels') !== '0';
  // `&remember=0`: probe again now, and keep nothing for the next visit
  const remember = params.get('remember') !== '0';
  await guarded('backend', async () => {
    say('info', 'choosing a tfjs backend…');
    const t0 = performance.now();
    const choice = await initBrowserBackend(new URL('./', import.meta.url).href, { pick, wasmKernels, remember, ...(candidates ? { candidates } : {}) });
    state.backend = choice.backend;
    state.backendChoice = choice;
    state.backendMs = performance.now() - t0;
    $('backend').textContent = choice.backend;
    $('backend-why').textContent = `${choice.reason}${choice.backend === 'wasm' ? (choice.wasmKernels ? '; XNNPACK batch norm/relu' : '; tfjs scalar batch norm/relu') : ''}`;
  });
  if (state.backend === null) return; // the backend's error stays on the page: nothing runs without one
  if (apiInput.value) await guarded('API', connect);
  else say('info', 'give the API URL and connect');
}

void start();
