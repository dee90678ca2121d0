/**
 * Faster tails (issue 11): the weight of the Lambda bundles and the time to
 * load them, the speed at which a tail's weights arrive from the S3 stand-in,
 * and the speed-up of the multi-threaded wasm engine.
 *
 * - bundles: the tail and planner handlers bundled as cdk/bundling.ts bundles
 *   them (local esbuild, same options); module-load time = `import()` of the
 *   bundle in a fresh Node process (median of 5).
 * - weights: 64 MiB in sixteen 4 MiB shards (the export's shard size) from
 *   s3rver, fetched as before (one GET per shard, whole body collected and
 *   concatenated) and with `getObjectsBytes` (parallel ranged GETs streamed into
 *   exact-size buffers), alternated, median of 5 each.
 * - threads: ResNet-50 and MobileNetV2, whole model at 224, on the wasm
 *   engine with 1 and 2 threads, each in its own process (the engine is
 *   process-wide), with batch norm and relu folded into the convolutions as
 *   tails run them (models/fuse.ts) and unfused (OFFLOAD_FUSE=off), the four
 *   alternated in each of 3 rounds; median inference time of each after 50
 *   inferences (a warm tail's speed), ratios. The fused ratio carries the
 *   target; the first inferences of a fresh tail are reported beside it.
 *   The machine's 2 cores are shared: the load average is printed, and a
 *   loaded machine depresses the thread ratio.
 *
 *   npx tsx bench/tails.ts [bundles] [weights] [threads]   (default: all)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { formatResults, isMain, median, type BenchResult } from './report';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const MIB = 1024 * 1024;

/** Issue 11's targets. */
export const TAIL_TARGETS = {
  tailBundleMiB: 1.5,
  plannerBundleMiB: 0.4,
  resnet50ThreadRatio: 1.6,
  mobilenetv2ThreadRatio: 1.4,
} as const;

function within(name: string, value: number, unit: string, target: number, detail: string): BenchResult {
  return { name, value, unit, target, ratio: target / value, met: value <= target, detail };
}

function atLeast(name: string, value: number, unit: string, target: number, detail: string): BenchResult {
  return { name, value, unit, target, ratio: value / target, met: value >= target, detail };
}

/** Bytes of an output and of every output it imports statically, transitively (what loading it parses). */
function staticClosure(outputs: Metafile['outputs'], from: string): number {
  const seen = new Set<string>();
  const visit = (o: string): void => {
    if (seen.has(o) || !outputs[o]) return;
    seen.add(o);
    for (const i of outputs[o].imports) if (i.kind === 'import-statement' && !i.external) visit(i.path);
  };
  visit(from);
  return [...seen].reduce((n, o) => n + outputs[o]!.bytes, 0);
}

/** Bundles both handlers as cdk/bundling.ts does; sizes and module-load times. */
export async function runBundleBench(): Promise<BenchResult[]> {
  const { BUNDLE_ALIASES, BUNDLE_EXTERNALS, BUNDLE_KEEP_NAMES, BUNDLE_MAIN_FIELDS, ESM_CJS_BANNER, TAIL_CHUNK_NAMES, tailCompanionSources } = await import('../cdk/bundling');
  const dir = mkdtempSync(join(tmpdir(), 'offload-bench-bundles-'));
  try {
    const results: BenchResult[] = [];
    for (const [name, entry, target, keepNames] of [
      ['tail', 'functions/tail/index.ts', TAIL_TARGETS.tailBundleMiB, BUNDLE_KEEP_NAMES.tail],
      ['planner', 'functions/planner/index.ts', TAIL_TARGETS.plannerBundleMiB, BUNDLE_KEEP_NAMES.planner],
    ] as const) {
      const outdir = join(dir, name);
      const outfile = join(outdir, 'index.mjs');
      const options: BuildOptions & { metafile: true } = {
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        minify: true,
        keepNames,
        banner: { js: ESM_CJS_BANNER },
        external: [...BUNDLE_EXTERNALS],
        mainFields: [...BUNDLE_MAIN_FIELDS],
        alias: { ...BUNDLE_ALIASES },
        outdir,
        outExtension: { '.js': '.mjs' },
        logLevel: 'silent',
        metafile: true,
      };
      // as cdk/bundling.ts: the entry on its own; the modules it loads at run time (the handler bundle, the
      // early download's worker) built together, split into chunks
      const built = [await build({ ...options, entryPoints: [join(ROOT, entry)] })];
      const companions = name === 'tail' ? tailCompanionSources(join(ROOT, entry)) : [];
      if (companions.length) built.push(await build({ ...options, entryPoints: companions, splitting: true, chunkNames: TAIL_CHUNK_NAMES }));
      const outputs = Object.assign({}, ...built.map((b) => b.metafile.outputs)) as Metafile['outputs'];
      const bytes = Object.values(outputs).reduce((sum, o) => sum + o.bytes, 0);
      const mib = bytes / MIB;
      const main = Object.keys(outputs).find((o) => o.endsWith('/main.mjs'));
      const atLoad = main ? staticClosure(outputs, main) : undefined;
      const loads: number[] = [];
      for (let i = 0; i < 5; i++) {
        const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(outfile).href)}); process.stdout.write(String(performance.now() - t)); process.exit(0);`;
        // the tail starts its init at load and logs why it cannot (no MODEL_NAME here): only the load is timed
        const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' }, timeout: 60_000 });
        const ms = Number(r.stdout);
        if (!Number.isFinite(ms)) throw new Error(`loading the ${name} bundle failed: ${r.stderr.slice(0, 500)}`);
        loads.push(ms);
      }
      const top = Object.keys(outputs).filter((o) => !o.includes('/chunks/'));
      const chunks = Object.keys(outputs).length - top.length;
      const parts = Object.keys(outputs).length > 1 ? ` (${top.map((o) => `${basename(o)} ${outputs[o]!.bytes}`).join(', ')}${chunks ? `, ${chunks} chunks ${bytes - top.reduce((n, o) => n + outputs[o]!.bytes, 0)}` : ''})` : '';
      results.push(within(`${name} bundle`, mib, 'MiB', target, `${bytes} bytes${parts}, esbuild as cdk/bundling.ts`));
      if (atLoad) {
        results.push({
          name: `${name} handler bundle parsed at load`,
          value: atLoad / MIB,
          unit: 'MiB',
          target: Number.NaN,
          ratio: Number.NaN,
          met: true,
          detail: `${atLoad} bytes: main.mjs and the chunks it imports statically (the rest loads with import() when used); reported, no target`,
        });
      }
      results.push({
        name: `${name} bundle module load`,
        value: median(loads),
        unit: 'ms',
        target: Number.NaN,
        ratio: Number.NaN,
        met: true,
        detail: `import() in a fresh node, median of 5 (${loads.map((l) => l.toFixed(0)).join(', ')}); reported, no target`,
      });
    }
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Tail weights from the S3 stand-in: one GET per shard (before) vs parallel ranged GETs (now). */
export async function runWeightsBench(opts: { shards?: number; shardMiB?: number; repeats?: number } = {}): Promise<BenchResult[]> {
  const shards = opts.shards ?? 16;
  const shardMiB = opts.shardMiB ?? 4;
  const repeats = opts.repeats ?? 5;
  const { startS3, useStandInEnv } = await import('../local/stand-ins');
  const { createS3Client } = await import('../functions/commons/aws');
  const { getObjectBytes, getObjectsBytes } = await import('../functions/commons/artifacts');
  const stand = await startS3({ buckets: ['bench'] });
  const restore = useStandInEnv({ s3: stand.endpoint });
  const s3 = createS3Client();
  try {
    const keys = Array.from({ length: shards }, (_, i) => `w/group1-shard${i + 1}of${shards}.bin`);
    const body = new Uint8Array(shardMiB * MIB).map((_, i) => (i * 2654435761) >>> 24);
    for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: 'bench', Key: key, Body: body }));
    const totalMiB = shards * shardMiB;
    const before = async () => {
      // what loadArtifactFiles did: every shard's whole body collected, then concatenated by tfjs
      const parts = await Promise.all(keys.map((k) => getObjectBytes(s3, 'bench', k)));
      return parts.reduce((n, p) => n + p.byteLength, 0);
    };
    const now = async () => (await getObjectsBytes(s3, 'bench', keys.map((key) => ({ key })))).reduce((n, p) => n + p.byteLength, 0);
    const times = { before: [] as number[], now: [] as number[] };
    await before();
    await now();
    for (let i = 0; i < repeats; i++) {
      for (const [which, fn] of [['before', before], ['now', now]] as const) {
        const t = performance.now();
        const bytes = await fn();
        times[which].push(performance.now() - t);
        if (bytes !== totalMiB * MIB) throw new Error(`${which}: got ${bytes} bytes, expected ${totalMiB * MIB}`);
      }
    }
    const mibPerS = (ms: number) => totalMiB / (ms / 1000);
    const nowRate = mibPerS(median(times.now));
    const beforeRate = mibPerS(median(times.before));
    return [
      {
        name: 'tail weights from the S3 stand-in',
        value: nowRate,
        unit: 'MiB/s',
        target: Number.NaN,
        ratio: Number.NaN,
        met: true,
        detail: `${totalMiB} MiB in ${shards} × ${shardMiB} MiB shards, getObjectsBytes (8 MiB parts, 16 in flight), median of ${repeats}; reported, no target`,
      },
      {
        name: 'weights: parallel ranged GETs vs one GET per shard',
        value: nowRate / beforeRate,
        unit: '×',
        target: Number.NaN,
        ratio: Number.NaN,
        met: true,
        detail: `before ${beforeRate.toFixed(0)} MiB/s, now ${nowRate.toFixed(0)} MiB/s, alternated in one run; reported, no target (s3rver on loopback is the bound, not the client)`,
      },
    ];
  } finally {
    s3.destroy();
    restore();
    await stand.close();
  }
}

/** Inferences a tail must have run before its speed settles (see `timeInference`). */
const STEADY_AFTER = 50;

/**
 * Median inference ms of a zoo model on the wasm engine with `threads` threads, in this process; `fuse` folds BN and
 * relu into the convolutions as the tail does. `fresh`: the `runs` inferences right after the one warm-up a tail runs
 * when it starts; `steady`: `runs` inferences after {@link STEADY_AFTER}. The engine gets faster over its first few
 * dozen inferences (on 2 threads MobileNetV2 went from ~25 to ~17 ms; not wasm tier-up, it stays with --no-liftoff;
 * not time, a pause does not do it), so the two differ, most on 2 threads.
 */
async function timeInference(model: string, threads: number, runs: number, fuse: boolean): Promise<{ fresh: number; steady: number }> {
  process.env.OFFLOAD_BACKEND = 'wasm';
  process.env.OFFLOAD_WASM_THREADS = String(threads);
  const { initBackend, wasmThreads } = await import('../models/backend');
  await initBackend();
  const running = wasmThreads()?.threads;
  if (running !== threads) throw new Error(`asked for ${threads} wasm threads, running ${running} (${wasmThreads()?.fallback ?? 'no reason given'})`);
  const tf = await import('../models/tfjs');
  const { ZOO, isZooName } = await import('../models/zoo');
  const { fuseModel } = await import('../models/fuse');
  if (!isZooName(model)) throw new Error(`unknown zoo model ${model}`);
  const built = ZOO[model].build();
  const net = fuse ? fuseModel(built).model : built;
  const x = tf.randomUniform([1, ...ZOO[model].inputShape], 0, 1, 'float32', 3);
  const once = () => {
    const t = performance.now();
    const y = net.predict(x) as import('@tensorflow/tfjs').Tensor;
    y.dataSync();
    y.dispose();
    return performance.now() - t;
  };
  once();
  const fresh = median(Array.from({ length: runs }, once));
  for (let done = 1 + runs; done < STEADY_AFTER; done++) once();
  const steady = median(Array.from({ length: runs }, once));
  return { fresh, steady };
}

/**
 * ResNet-50 and MobileNetV2 at 224: 2 threads vs 1, each in its own process,
 * with BN and relu folded into the convolutions (models/fuse.ts, what tails
 * run) and unfused (OFFLOAD_FUSE=off), all four alternated in each round.
 * The fused ratio is the figure with the target.
 */
export async function runThreadsBench(opts: { rounds?: number } = {}): Promise<BenchResult[]> {
  // about two seconds of timed inference per process: one MobileNetV2 run is too short for 5 to settle
  const RUNS = { resnet50: 5, mobilenetv2: 30 } as const;
  const rounds = opts.rounds ?? 3;
  const results: BenchResult[] = [];
  for (const [model, target] of [
    ['resnet50', TAIL_TARGETS.resnet50ThreadRatio],
    ['mobilenetv2', TAIL_TARGETS.mobilenetv2ThreadRatio],
  ] as const) {
    const runs = RUNS[model];
    const ms = { fused: { 1: [] as number[], 2: [] as number[] }, unfused: { 1: [] as number[], 2: [] as number[] } };
    const fresh = { fused: { 1: [] as number[], 2: [] as number[] }, unfused: { 1: [] as number[], 2: [] as number[] } };
    const loads: number[] = [];
    for (let round = 0; round < rounds; round++) {
      for (const variant of ['fused', 'unfused'] as const) {
        for (const threads of [1, 2] as const) {
          loads.push(loadavg()[0] ?? Number.NaN);
          const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', model, String(threads), String(runs), variant], {
            encoding: 'utf8',
            cwd: ROOT,
            timeout: 600_000,
          });
          const [f, value] = (r.stdout.trim().split('\n').pop() ?? '').split(' ').map(Number);
          if (!Number.isFinite(value) || !Number.isFinite(f)) throw new Error(`${model} (${variant}) with ${threads} thread(s) failed: ${r.stderr.slice(0, 800)}`);
          ms[variant][threads].push(value!);
          fresh[variant][threads].push(f!);
        }
      }
    }
    const m = (variant: 'fused' | 'unfused', threads: 1 | 2) => median(ms[variant][threads]);
    const mf = (variant: 'fused' | 'unfused', threads: 1 | 2) => median(fresh[variant][threads]);
    const load = `load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} on 2 cores`;
    const of = `medians of ${rounds} processes × ${runs} runs after ${STEADY_AFTER} inferences, fused/unfused × 1/2 threads alternated`;
    results.push(
      atLeast(
        `${model} at 224, 2 threads vs 1`,
        m('fused', 1) / m('fused', 2),
        '×',
        target,
        `BN/relu folded into the convs, as tails run: 1 thread ${m('fused', 1).toFixed(0)} ms, 2 threads ${m('fused', 2).toFixed(0)} ms (${of}); ${load}`,
      ),
      {
        name: `${model} at 224, 2 threads vs 1, a fresh tail's first ${runs} inferences`,
        value: mf('fused', 1) / mf('fused', 2),
        unit: '×',
        target: Number.NaN,
        ratio: Number.NaN,
        met: true,
        detail: `the ${runs} inferences after the tail's one warm-up, same processes: 1 thread ${mf('fused', 1).toFixed(0)} ms, 2 threads ${mf('fused', 2).toFixed(0)} ms; reported, no target`,
      },
      {
        name: `${model} at 224, 2 threads vs 1, unfused`,
        value: m('unfused', 1) / m('unfused', 2),
        unit: '×',
        target: Number.NaN,
        ratio: Number.NaN,
        met: true,
        detail: `OFFLOAD_FUSE=off: 1 thread ${m('unfused', 1).toFixed(0)} ms, 2 threads ${m('unfused', 2).toFixed(0)} ms (same run); reported, no target`,
      },
      {
        name: `${model} at 224, fused vs unfused, 1 thread`,
        value: m('unfused', 1) / m('fused', 1),
        unit: '×',
        target: Number.NaN,
        ratio: Number.NaN,
        met: true,
        detail: `speed-up of folding on 1 thread; on 2 threads ${(m('unfused', 2) / m('fused', 2)).toFixed(2)}× (same run); reported, no target`,
      },
    );
  }
  return results;
}

const PARTS = { bundles: runBundleBench, weights: () => runWeightsBench(), threads: () => runThreadsBench() } as const;

/** Every part, in order (`npm run bench` calls this). */
export async function runTailsBench(parts: readonly (keyof typeof PARTS)[] = ['bundles', 'weights', 'threads']): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  for (const p of parts) results.push(...(await PARTS[p]()));
  return results;
}

/** Times as `≤` figures, throughputs and ratios as `≥`: printed as two tables. */
export function formatTailsResults(results: readonly BenchResult[]): string {
  const targeted = results.filter((r) => !Number.isNaN(r.target));
  const higher = targeted.filter((r) => r.unit === '×');
  const lower = targeted.filter((r) => !higher.includes(r));
  const reported = results.filter((r) => Number.isNaN(r.target)).map((r) => `${r.name}: ${r.value.toFixed(r.unit === "×" ? 2 : 1)} ${r.unit} (reported, no target)`);
  return [formatResults(lower, { digits: 2 }), formatResults(higher, { digits: 2, better: 'higher' }), ...reported, ...results.map((r) => `  ${r.name}: ${r.detail}`)].join('\n');
}

if (isMain(import.meta.url)) {
  const args = process.argv.slice(2);
  if (args[0] === '--child') {
    const [, model, threads, runs, variant] = args;
    const { fresh, steady } = await timeInference(model!, Number(threads), Number(runs), variant !== 'unfused');
    process.stdout.write(`${fresh} ${steady}\n`);
    process.exit(0);
  }
  const unknown = args.filter((a) => !Object.hasOwn(PARTS, a));
  if (unknown.length > 0) {
    process.stderr.write(`bench/tails: unknown part ${unknown.join(', ')} (one of ${Object.keys(PARTS).join(', ')})\n`);
    process.exit(2);
  }
  process.stdout.write(`load average ${loadavg()[0]?.toFixed(2)} at start\n`);
  const results = await runTailsBench(args.length > 0 ? (args as (keyof typeof PARTS)[]) : undefined);
  process.stdout.write(`${formatTailsResults(results)}\nload average ${loadavg()[0]?.toFixed(2)} at end\n`);
}
