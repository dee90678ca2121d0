/**
 * The CDK app: `npx cdk synth` / `npx cdk deploy` (cdk.json runs this file with tsx).
 * Configuration: cdk/offload.config.json and `-c` context (see cdk/config.ts, docs/deploy.md).
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadConfig, resolveDeployment, type Deployment } from './config';
import { OffloadStack } from './stack';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const app = new App();

let deployment: Deployment;
try {
  deployment = resolveDeployment(loadConfig((key) => app.node.tryGetContext(key), projectRoot), projectRoot);
} catch (e) {
  // A configuration or export problem is the user's to fix: print the message, not a stack trace.
  console.error(`offload cdk: ${(e as Error).message}`);
  process.exit(1);
}

new OffloadStack(app, deployment.config.stackName, { deployment, projectRoot });
// cdk-nag turns every unsuppressed AwsSolutions error into an error annotation, which fails `cdk synth`.
Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
app.synth();
