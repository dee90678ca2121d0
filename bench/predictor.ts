/**
 * Prints the predictor's figures for docs/profiles.md from the committed
 * profiles: held-out error per layer (leave one model out), the error of the
 * held-out model's total, the fitted coefficients, the cross-device check
 * against published MobileNetV2 latencies, and each profile's isolated/whole
 * ratio. Run with `npx tsx bench/predictor.ts`. Pure computation, no timing.
 */
import { loadProfiles } from '../models/profile-files';
import { predictorFromProfiles } from '../core/profile-scenario';
import { LAYER_GROUPS, leaveOneModelOut, predictLayerMs } from '../core/predictor';
import { DEVICE_PROFILES } from '../core/profiles';

const pct = (x: number): string => `${(x * 100).toFixed(0)} %`;
const profiles = loadProfiles('wasm').filter((p) => ['alexnet', 'vgg16', 'resnet50', 'googlenet', 'mobilenetv2'].includes(p.model));
const predictor = predictorFromProfiles(profiles);

console.log('## isolated vs whole model (clock: %s)', profiles[0]?.clock);
console.log('| model | layers | Σ isolated, ms | whole, ms | ratio | whole (wall clock), ms | load avg |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const p of profiles) {
  console.log(`| ${p.model} | ${p.layers.length} | ${p.sumOfLayersMs.toFixed(1)} | ${p.wholeModelMs.toFixed(1)} | ${p.isolationRatio.toFixed(3)} | ${p.wholeModelWallMs.toFixed(1)} | ${p.machine.loadAverage} |`);
}

const loo = leaveOneModelOut(profiles.map((p) => ({ name: p.model, layers: p.layers })), predictor.host.memGBps);
console.log('\n## held out (fit on the other four)');
console.log('| held-out model | layers | median rel. error | p90 rel. error | error of the model total |');
console.log('|---|---:|---:|---:|---:|');
for (const m of loo.perModel) console.log(`| ${m.heldOut} | ${m.layers} | ${pct(m.medianRelError)} | ${pct(m.p90RelError)} | ${m.totalRelError >= 0 ? '+' : ''}${pct(m.totalRelError)} |`);
console.log(`| all | ${loo.all.layers} | ${pct(loo.all.medianRelError)} | ${pct(loo.all.p90RelError)} | |`);

console.log('\n## fitted on all five: host %s GMAC/s (dense conv), %s GB/s', predictor.host.gmacPerSecond.toFixed(2), predictor.host.memGBps);
console.log('| group | layers | ms/GMAC | ms/activation MB | ms/weight MB | overhead ms |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const g of LAYER_GROUPS) {
  const f = predictor.groups[g];
  console.log(`| ${g} | ${f.samples || 'pooled'} | ${f.msPerGmac.toFixed(2)} | ${f.msPerActivationMB.toFixed(4)} | ${f.msPerWeightMB.toFixed(4)} | ${f.overheadMs.toFixed(4)} |`);
}

console.log('\n## cross-device check (MobileNetV2, published latency not used for calibration)');
console.log('| device | predicted, ms | published, ms | ratio |');
console.log('|---|---:|---:|---:|');
for (const d of Object.values(DEVICE_PROFILES)) {
  if (!d.validation) continue;
  const p = profiles.find((x) => x.model === d.validation!.model);
  if (!p) continue;
  const t = p.layers.reduce((s, l) => s + predictLayerMs(predictor, l, d), 0);
  console.log(`| ${d.name} | ${t.toFixed(1)} | ${d.validation.ms.toFixed(1)} | ${(t / d.validation.ms).toFixed(2)} |`);
}
