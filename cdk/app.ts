/**
 * The CDK app: `npx cdk synth` / `npx cdk deploy` (cdk.json runs this file with tsx).
 * Configuration: cdk/offload.config.json and `-c` context (see cdk/config.ts, docs/deploy.md).
 *
 * Before building the stack it makes sure every configured model is exported
 * (cdk/exports.ts): the first synth on a fresh clone exports, later ones reuse
 * what is up to date, as `NodejsFunction` bundles at synth. One progress line
 * goes to stderr.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadConfig, resolveDeployment, type Deployment } from './config';
import { ensureExports, type ArtifactProgress } from './exports';
import { OffloadStack } from './stack';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const app = new App();

/** One line, rewritten in place on a terminal; one line per model elsewhere (CI logs). */
function progressLine(): { update(p: ArtifactProgress): void; done(text: string): void } {
  const tty = process.stderr.isTTY;
  let last = '';
  return {
    update(p) {
      if (p.phase !== 'export') return;
      const line = `offload: exporting ${p.model} ${p.done + 1}/${p.total + 1} (${p.part})`;
      if (tty) process.stderr.write(`\r\x1b[K${line}`);
      else if (p.model !== last) process.stderr.write(`offload: exporting ${p.model}…\n`);
      last = p.model;
    },
    done(text) {
      process.stderr.write(`${tty ? '\r\x1b[K' : ''}${text}\n`);
    },
  };
}

let deployment: Deployment;
try {
  const config = loadConfig((key) => app.node.tryGetContext(key), projectRoot);
  const exportDir = isAbsolute(config.exportDir) ? config.exportDir : resolve(projectRoot, config.exportDir);
  const progress = progressLine();
  const started = performance.now();
  const models = await ensureExports(config, { projectRoot, exportDir, onProgress: (p) => progress.update(p) });
  const bytes = models.reduce((s, m) => s + Object.values(m.manifest.files).reduce((t, f) => t + f.bytes, 0), 0);
  progress.done(
    `offload: exports ${models.map((m) => `${m.model} (${m.export})`).join(', ')}: ${(bytes / 2 ** 20).toFixed(1)} MiB in ` +
      `${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  deployment = resolveDeployment(config, projectRoot);
} catch (e) {
  // A configuration or export problem is the user's to fix: print the message, not a stack trace.
  console.error(`offload cdk: ${(e as Error).message}`);
  process.exit(1);
}

new OffloadStack(app, deployment.config.stackName, { deployment, projectRoot });
// cdk-nag turns every unsuppressed AwsSolutions error into an error annotation, which fails `cdk synth`.
Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
app.synth();
