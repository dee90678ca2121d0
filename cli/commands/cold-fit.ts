/**
 * `offload cold-fit FILE... [--model M] [--json]`: a deployment's own
 * cold-start line from the records `offload load --out` wrote against it
 * (core/cold-fit.ts), ready for `offload simulate|recommend --cold-start
 * BASE+PERMIB` and for the planner's COLD_BASE_MS / COLD_MS_PER_MB.
 *
 * Tail MiB per cut come from the committed profiles (profiles/<model>.wasm.json
 * `candidates[].tailWeightBytes`), the figures the simulator and the planner
 * price cold starts with, so the line means the same thing where it is used.
 *
 * JSON: `{ files, model, points: ColdFitPoint[], skipped, fit: { coldBaseMs, coldMsPerMB, r2, n }, coldStart, env: { COLD_BASE_MS, COLD_MS_PER_MB } }`.
 *
 * @example
 * offload load --url $URL --model mobilenetv2 --policy cut:0,cut:125,cut:156 --out run.jsonl
 * offload cold-fit run.jsonl
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { fitColdStarts, type ColdFit } from '../../core/cold-fit';
import { BYTES_PER_MB } from '../../core/cost';
import { OffloadError } from '../../core/errors';
import type { LoadRecord } from '../../core/load-record';
import type { ModelProfile } from '../../core/profiles';
import { note, printJson, table } from '../output';
import { modelArg } from '../sim-flags';

interface ColdFitFlags {
  model?: string;
  json?: boolean;
}

/** The fit's figures as `--cold-start` takes them and a deployment's planner reads them. */
export function coldStartValues(fit: ColdFit['fit']): { coldStart: string; env: { COLD_BASE_MS: number; COLD_MS_PER_MB: number } } {
  // 0.1 ms of base and 0.01 ms/MiB are far below what a handful of cold starts can tell apart.
  const base = +fit.coldBaseMs.toFixed(1);
  const perMiB = +fit.coldMsPerMB.toFixed(2);
  return { coldStart: `${base}+${perMiB}`, env: { COLD_BASE_MS: base, COLD_MS_PER_MB: perMiB } };
}

export function register(program: Command): void {
  const cmd = program
    .command('cold-fit')
    .description(
      "Fit your tails' cold-start line (ms + ms per MiB of tail weights) from `offload load --out` records of your deployment: per cut, median cold − median warm round trip of served requests; prints the --cold-start value for simulate/recommend and the planner's COLD_BASE_MS / COLD_MS_PER_MB",
    )
    .argument('<files...>', 'JSONL record files written by offload load --out (or offload simulate --out)')
    .option('--model <model>', 'fit only the records of this model (a profiled zoo model)', modelArg)
    .option('--json', 'print the fit as JSON alone on stdout')
    .action(async (files: string[], flags: ColdFitFlags) => {
      // Everything that can go wrong here is the input's: a usage error (exit 2), one line, no stack.
      const usage = (message: string): never => cmd.error(`error: ${message}`, { exitCode: 2 });
      const { parseLoadRecords } = await import('../../core/load-record');
      const { loadProfile } = await import('../../models/profile-files');
      let records: LoadRecord[] = [];
      for (const file of files) {
        let text = '';
        try {
          text = readFileSync(file, 'utf8');
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          usage(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : String(code ?? e)}`);
        }
        let mine: LoadRecord[] = [];
        try {
          mine = parseLoadRecords(text, file);
        } catch (e) {
          usage(`${(e as Error).message} (expected the records offload load --out writes, one JSON object a line)`);
        }
        if (mine.length === 0) usage(`${file} holds no records`);
        records.push(...mine);
      }
      if (flags.model) {
        const all = records;
        records = all.filter((r) => r.model === flags.model);
        if (records.length === 0) usage(`--model: no records of ${flags.model} in ${files.join(', ')} (they hold ${[...new Set(all.map((r) => r.model))].join(', ')})`);
      }
      const profiles = new Map<string, ModelProfile>();
      const tailMiB = (model: string, cut: number): number => {
        let profile = profiles.get(model);
        if (!profile) {
          try {
            profile = loadProfile(model);
          } catch (e) {
            usage(`records of model ${model}: ${(e as Error).message}`);
          }
          profiles.set(model, profile!);
        }
        const candidate = profile!.candidates.find((c) => c.cut === cut);
        if (!candidate) usage(`records of ${model} cut ${cut}: not a candidate cut of its profile (see \`offload cuts ${model}\`)`);
        return candidate!.tailWeightBytes / BYTES_PER_MB;
      };
      let result: ColdFit | undefined;
      try {
        result = fitColdStarts(records, tailMiB);
      } catch (e) {
        // tailMiB's own usage error has been printed already: only the fit's refusal is new.
        if (e instanceof OffloadError) usage(e.message);
        throw e;
      }
      const { fit, points, skipped } = result!;
      const { coldStart, env } = coldStartValues(fit);
      const negative = fit.coldBaseMs < 0 || fit.coldMsPerMB < 0;
      if (flags.json) {
        printJson({ files, model: flags.model ?? null, points, skipped, fit, ...(negative ? {} : { coldStart, env }) });
      } else {
        console.log('cold start per cut = median cold − median warm round trip of the requests a tail served there');
        console.log(
          table(
            points.map((p) => ({
              model: p.model,
              cut: p.cut,
              'tail MiB': +p.tailMiB.toFixed(2),
              'cold n': p.cold,
              'warm n': p.warm,
              'cold RTT ms': Math.round(p.coldRoundTripMs),
              'warm RTT ms': Math.round(p.warmRoundTripMs),
              'cold start ms': Math.round(p.coldStartMs),
              'line ms': Math.round(fit.coldBaseMs + fit.coldMsPerMB * p.tailMiB),
            })),
          ),
        );
        for (const s of skipped) note(`left out: ${s.model} cut ${s.cut} (${s.cold} cold, ${s.warm} warm served; needs both)`);
        console.log(`line: cold start = ${+fit.coldBaseMs.toFixed(1)} ms + ${+fit.coldMsPerMB.toFixed(2)} ms/MiB of tail weights (least squares over ${fit.n} cuts, r² ${fit.r2.toFixed(3)})`);
        if (!negative) {
          console.log(`simulate or recommend with it: offload simulate … --cold-start ${coldStart}`);
          console.log(`a deployment's planner: COLD_BASE_MS=${env.COLD_BASE_MS} COLD_MS_PER_MB=${env.COLD_MS_PER_MB}`);
        }
      }
      if (negative) {
        // A negative part is noise, not a cold start: nothing downstream accepts it, and clamping it would hide that.
        throw new OffloadError(
          'invalid-input',
          `the fitted line has a negative ${fit.coldBaseMs < 0 ? 'base' : 'slope'}: the cuts' tail sizes are too close for the spread of their cold starts; add cuts with more different tail weights (a bigger model's cut 0) or more cold requests per cut`,
        );
      }
    });
}
