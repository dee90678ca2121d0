/**
 * Discovery of Lambda functions and HTTP API routes from a synthesized CDK
 * cloud assembly (`cdk.out`), so the local stack runs exactly what
 * `cdk deploy` would deploy: the bundled asset, its handler, its environment,
 * memory, timeout and reserved concurrency, and the API's route table.
 *
 * CloudFormation intrinsics (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select,
 * Fn::Split, Fn::If, Fn::ImportValue, Fn::FindInMap, pseudo parameters) are
 * evaluated here. Resources the emulator does not own (buckets, tables, …)
 * get their local names from a {@link ResourceResolver} the caller supplies;
 * {@link localResourceNames} is a ready one.
 */
import { CorsConfigurationSchema, type CorsConfiguration } from './cors';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { OffloadError } from '../core/errors';
import { parseWith } from '../core/validation';

/** A template or cloud assembly the emulator cannot run, with what and where. */
export class TemplateError extends OffloadError {
  constructor(message: string, cause?: unknown) {
    super('invalid-input', message, cause === undefined ? {} : { cause });
    this.name = 'TemplateError';
  }
}

/** What a `Ref` or `Fn::GetAtt` points at, handed to a {@link ResourceResolver}. */
export interface ResourceRef {
  /** Stack names from the top-level stack down to the stack holding the resource. */
  stackPath: readonly string[];
  /** Name of the stack holding the resource (nested: `<parent>-<nested logical id>`). */
  stackName: string;
  logicalId: string;
  /** CloudFormation type, e.g. `AWS::S3::Bucket`. */
  type: string;
  /** Raw (unevaluated) properties of the resource. */
  properties: Readonly<Record<string, unknown>>;
  /** `null` for `Ref`, else the `Fn::GetAtt` attribute (`Arn`, …). */
  attribute: string | null;
  region: string;
  accountId: string;
  partition: string;
}

/**
 * Gives a local value for a resource reference, or `undefined` to fall back to
 * the built-in rules (functions, nested-stack outputs, explicit BucketName /
 * TableName, API and integration ids). A reference nothing resolves is an error
 * naming the function and variable that needed it.
 */
export type ResourceResolver = (ref: ResourceRef) => string | undefined;

export interface DiscoverOptions {
  /** Local values for resources the emulator does not own; consulted first. */
  resolveResource?: ResourceResolver;
  /** Values for top-level stack parameters (else their `Default`). */
  parameters?: Readonly<Record<string, string>>;
  /** `AWS::Region` (default `us-east-1`). */
  region?: string;
  /** `AWS::AccountId` (default `000000000000`). */
  accountId?: string;
  /** Only these top-level stacks (artifact ids); default all. */
  stacks?: readonly string[];
}

/** One Lambda function the emulator can run. */
export interface FunctionSpec {
  /** Physical name: `FunctionName` when set, else `<top stack>-<logical id>` (≤ 64 chars). */
  name: string;
  arn: string;
  logicalId: string;
  stackPath: string[];
  runtime: string;
  /** As in the template: `path/file.export` (e.g. `index.handler`). */
  handler: string;
  /** Absolute path of the asset directory (what Lambda puts at /var/task). */
  codeDir: string;
  /** Absolute paths of the layer asset directories, in order (what Lambda merges into /opt). */
  layerDirs: string[];
  memoryMB: number;
  timeoutS: number;
  /** `null` when the function has no reserved concurrency. */
  reservedConcurrency: number | null;
  environment: Record<string, string>;
}

/** One HTTP API route and the function its Lambda proxy integration invokes. */
export interface RouteSpec {
  apiId: string;
  /** As in the template: `POST /infer/{model}/{cut}`, `ANY /{proxy+}` or `$default`. */
  routeKey: string;
  /** Upper-case method or `ANY`. */
  method: string;
  /** Path pattern, `null` for `$default`. */
  path: string | null;
  functionName: string;
  payloadFormatVersion: '1.0' | '2.0';
  /** Integration timeout (HTTP API maximum 30 s). */
  timeoutMs: number;
}

/** A bucket or table of the app, with the local name its references resolve to. */
export interface ResourceSpec {
  type: string;
  logicalId: string;
  stackPath: string[];
  /** `null` when neither the resolver nor an explicit name gives one. */
  name: string | null;
  properties: Record<string, unknown>;
}

export interface DiscoveredApp {
  cdkOutDir: string;
  stacks: { name: string; path: string[]; templateFile: string }[];
  functions: FunctionSpec[];
  routes: RouteSpec[];
  /** The HTTP API's CORS configuration, null when it has none. */
  cors: CorsConfiguration | null;
  /** S3 buckets and DynamoDB tables, so a local stack can create them. */
  resources: ResourceSpec[];
  /** Functions that cannot run here (non-Node runtime, inline code, …) and why. */
  skipped: { stackPath: string[]; logicalId: string; reason: string }[];
  warnings: string[];
}

// ---------------------------------------------------------------------------
// Cloud assembly and template shapes (only what discovery reads)

const ManifestSchema = z.object({
  artifacts: z
    .record(
      z.string(),
      z.object({
        type: z.string(),
        displayName: z.string().optional(),
        properties: z.record(z.string(), z.unknown()).optional(),
      }),
    )
    .default({}),
});

const ResourceSchema = z.object({
  Type: z.string(),
  Properties: z.record(z.string(), z.unknown()).optional(),
  Metadata: z.record(z.string(), z.unknown()).optional(),
  Condition: z.string().optional(),
});

const TemplateSchema = z.object({
  Resources: z.record(z.string(), ResourceSchema).default({}),
  Parameters: z
    .record(z.string(), z.object({ Type: z.string().optional(), Default: z.unknown().optional() }))
    .optional(),
  Outputs: z
    .record(z.string(), z.object({ Value: z.unknown(), Export: z.object({ Name: z.unknown() }).optional() }))
    .optional(),
  Conditions: z.record(z.string(), z.unknown()).optional(),
  Mappings: z.record(z.string(), z.record(z.string(), z.record(z.string(), z.unknown()))).optional(),
});
type Template = z.infer<typeof TemplateSchema>;
type Resource = z.infer<typeof ResourceSchema>;

const AssetManifestSchema = z.object({
  files: z.record(z.string(), z.object({ source: z.object({ path: z.string().optional() }) })).default({}),
});

interface StackNode {
  name: string;
  path: string[];
  templateFile: string;
  template: Template;
  /** For nested stacks: the parent stack and the AWS::CloudFormation::Stack resource. */
  parent: { stack: StackNode; logicalId: string } | null;
  nested: Map<string, StackNode>;
}

/** Raised inside evaluation; the caller adds which function/variable needed it. */
class Unresolved extends Error {}

const NO_VALUE = Symbol('AWS::NoValue');
const DEFAULT_MEMORY_MB = 128; // CloudFormation defaults for AWS::Lambda::Function
const DEFAULT_TIMEOUT_S = 3;
const HTTP_API_TIMEOUT_MS = 30_000;
const LAMBDA_NAME_MAX = 64;

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new TemplateError(`${what}: cannot read ${file}`, e);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new TemplateError(`${what}: ${file} is not valid JSON`, e);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

// ---------------------------------------------------------------------------

/**
 * Reads a cloud assembly and returns every runnable function, the HTTP API
 * routes, and the buckets and tables. Throws a {@link TemplateError} naming
 * each function and environment variable whose value cannot be resolved.
 *
 * @example
 * const app = discoverApp('cdk.out', { resolveResource: localResourceNames() });
 * for (const r of app.routes) console.log(r.routeKey, '→', r.functionName);
 */
export function discoverApp(cdkOutDir: string, options: DiscoverOptions = {}): DiscoveredApp {
  const dir = resolve(cdkOutDir);
  const manifestFile = join(dir, 'manifest.json');
  if (!existsSync(manifestFile)) {
    throw new TemplateError(`no cloud assembly at ${dir} (manifest.json missing); run \`cdk synth\` first`);
  }
  const manifest = parseWith(ManifestSchema, readJson(manifestFile, 'manifest'), 'manifest.json');
  return new Discovery(dir, manifest, options).run();
}

class Discovery {
  private readonly region: string;
  private readonly accountId: string;
  private readonly partition = 'aws';
  private readonly roots: StackNode[] = [];
  /** asset hash (S3 key without extension) → path relative to cdk.out */
  private readonly assetPaths = new Map<string, string>();
  private readonly memo = new Map<string, string>();
  private readonly inProgress = new Set<string>();
  private readonly integrations = new Map<string, { stack: StackNode; logicalId: string }>();
  private readonly layerDirs = new Map<string, string>();
  private readonly warnings: string[] = [];

  constructor(
    private readonly dir: string,
    private readonly manifest: z.infer<typeof ManifestSchema>,
    private readonly options: DiscoverOptions,
  ) {
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '000000000000';
  }

  run(): DiscoveredApp {
    this.loadAssetManifests();
    for (const [id, artifact] of Object.entries(this.manifest.artifacts)) {
      if (artifact.type !== 'aws:cloudformation:stack') continue;
      if (this.options.stacks && !this.options.stacks.includes(id)) continue;
      const templateFile = artifact.properties?.templateFile;
      if (typeof templateFile !== 'string') throw new TemplateError(`manifest.json: stack ${id} has no templateFile`);
      const stackName = typeof artifact.properties?.stackName === 'string' ? artifact.properties.stackName : id;
      this.roots.push(this.loadStack(stackName, [stackName], templateFile, null));
    }
    if (this.roots.length === 0) throw new TemplateError(`${this.dir}: the cloud assembly holds no CloudFormation stack`);

    const all = this.allStacks();
    const functions: FunctionSpec[] = [];
    const skipped: DiscoveredApp['skipped'] = [];
    const problems: string[] = [];
    for (const stack of all) {
      for (const [logicalId, res] of Object.entries(stack.template.Resources)) {
        if (res.Type !== 'AWS::Lambda::Function') continue;
        const fn = this.describeFunction(stack, logicalId, res, problems);
        if ('reason' in fn) skipped.push({ stackPath: stack.path, logicalId, reason: fn.reason });
        else functions.push(fn);
      }
    }
    if (problems.length > 0) {
      throw new TemplateError(`cannot resolve the environment of the functions:\n  ${problems.join('\n  ')}`);
    }
    const names = new Map<string, FunctionSpec>();
    for (const fn of functions) {
      const clash = names.get(fn.name);
      if (clash) {
        throw new TemplateError(
          `two functions share the name ${fn.name}: ${clash.stackPath.join('/')}/${clash.logicalId} and ${fn.stackPath.join('/')}/${fn.logicalId}`,
        );
      }
      names.set(fn.name, fn);
    }
    const routes = this.describeRoutes(all, functions);
    const resources = this.describeResources(all);
    const cors = this.describeCors(all);
    return {
      cors,
      cdkOutDir: this.dir,
      stacks: all.map((s) => ({ name: s.name, path: s.path, templateFile: s.templateFile })),
      functions,
      routes,
      resources,
      skipped,
      warnings: this.warnings,
    };
  }

  private loadAssetManifests(): void {
    for (const artifact of Object.values(this.manifest.artifacts)) {
      if (artifact.type !== 'cdk:asset-manifest') continue;
      const file = artifact.properties?.file;
      if (typeof file !== 'string') continue;
      const assets = parseWith(AssetManifestSchema, readJson(join(this.dir, file), 'asset manifest'), file);
      for (const [hash, entry] of Object.entries(assets.files)) {
        if (entry.source.path) this.assetPaths.set(hash, entry.source.path);
      }
    }
  }

  private loadStack(name: string, path: string[], templateFile: string, parent: StackNode['parent']): StackNode {
    const template = parseWith(TemplateSchema, readJson(join(this.dir, templateFile), 'template'), templateFile);
    const node: StackNode = { name, path, templateFile, template, parent, nested: new Map() };
    for (const [logicalId, res] of Object.entries(template.Resources)) {
      if (res.Type !== 'AWS::CloudFormation::Stack') continue;
      const nestedFile = this.nestedTemplateFile(res);
      if (!nestedFile) {
        this.warnings.push(`${path.join('/')}/${logicalId}: nested stack template not found in the assembly; skipped`);
        continue;
      }
      const nestedName = `${name}-${logicalId}`;
      node.nested.set(logicalId, this.loadStack(nestedName, [...path, logicalId], nestedFile, { stack: node, logicalId }));
    }
    return node;
  }

  /** `aws:asset:path` metadata when synthesized by the CLI, else the asset manifest entry named by TemplateURL. */
  private nestedTemplateFile(res: Resource): string | undefined {
    const meta = res.Metadata?.['aws:asset:path'];
    if (typeof meta === 'string' && existsSync(join(this.dir, meta))) return meta;
    const hash = JSON.stringify(res.Properties?.TemplateURL ?? '').match(/([0-9a-f]{64})\.json/)?.[1];
    const path = hash ? this.assetPaths.get(hash) : undefined;
    return path && existsSync(join(this.dir, path)) ? path : undefined;
  }

  private allStacks(): StackNode[] {
    const out: StackNode[] = [];
    const walk = (s: StackNode): void => {
      out.push(s);
      for (const n of s.nested.values()) walk(n);
    };
    this.roots.forEach(walk);
    return out;
  }

  // -------------------------------------------------------------------------
  // Functions

  private describeFunction(
    stack: StackNode,
    logicalId: string,
    res: Resource,
    problems: string[],
  ): FunctionSpec | { reason: string } {
    const props = res.Properties ?? {};
    const where = `${stack.path.join('/')}/${logicalId}`;
    const runtime = typeof props.Runtime === 'string' ? props.Runtime : '';
    if (props.PackageType === 'Image') return { reason: 'container image function: needs Docker, which the emulator does not use' };
    if (!runtime.startsWith('nodejs')) return { reason: `runtime ${runtime || '(none)'} is not Node.js` };
    if (typeof props.Handler !== 'string') return { reason: 'no Handler' };
    const codeDir = this.codeDir(res);
    if (!codeDir) return { reason: 'code is not a directory asset of the assembly (inline or external code)' };

    const name = this.functionName(stack, logicalId);
    const environment: Record<string, string> = {};
    const vars = isRecord(props.Environment) ? props.Environment.Variables : undefined;
    if (vars !== undefined) {
      let evaluated: unknown;
      try {
        evaluated = this.evaluate(stack, vars);
      } catch (e) {
        if (!(e instanceof Unresolved)) throw e;
        evaluated = undefined;
      }
      if (isRecord(evaluated)) {
        for (const [k, v] of Object.entries(evaluated)) environment[k] = String(v);
      } else if (isRecord(vars)) {
        // find each offending variable, so the message names them all
        for (const [k, v] of Object.entries(vars)) {
          try {
            const value = this.evaluate(stack, v);
            if (value !== NO_VALUE) environment[k] = String(value);
          } catch (e) {
            if (!(e instanceof Unresolved)) throw e;
            problems.push(`function ${name} (${where}): environment variable ${k}: ${e.message}`);
          }
        }
      }
    }
    const num = (key: string, fallback: number | null): number | null => {
      if (props[key] === undefined) return fallback;
      try {
        const v = Number(this.evaluate(stack, props[key]));
        if (!Number.isFinite(v)) throw new Unresolved(`${key} is not a number`);
        return v;
      } catch (e) {
        if (!(e instanceof Unresolved)) throw e;
        problems.push(`function ${name} (${where}): ${key}: ${e.message}`);
        return fallback;
      }
    };
    const layerDirs: string[] = [];
    if (Array.isArray(props.Layers)) {
      for (const layer of props.Layers) {
        try {
          const arn = String(this.evaluate(stack, layer));
          const layerDir = this.layerDirs.get(arn);
          if (layerDir) layerDirs.push(layerDir);
          else this.warnings.push(`function ${name}: layer ${arn} has no asset in the assembly; not provided`);
        } catch (e) {
          if (!(e instanceof Unresolved)) throw e;
          this.warnings.push(`function ${name}: a layer cannot be resolved (${e.message}); not provided`);
        }
      }
    }
    return {
      name,
      arn: this.functionArn(name),
      logicalId,
      stackPath: stack.path,
      runtime,
      handler: props.Handler,
      codeDir,
      layerDirs,
      memoryMB: num('MemorySize', DEFAULT_MEMORY_MB) ?? DEFAULT_MEMORY_MB,
      timeoutS: num('Timeout', DEFAULT_TIMEOUT_S) ?? DEFAULT_TIMEOUT_S,
      reservedConcurrency: num('ReservedConcurrentExecutions', null),
      environment,
    };
  }

  /** The asset directory: `aws:asset:path` metadata (CLI synth) or the asset manifest entry of `Code.S3Key`. */
  private codeDir(res: Resource): string | undefined {
    return this.assetDir(res, 'Code', 'S3Key');
  }

  private assetDir(res: Resource, codeProp: string, keyProp: string): string | undefined {
    const candidates: string[] = [];
    const meta = res.Metadata?.['aws:asset:path'];
    if (typeof meta === 'string') candidates.push(meta);
    const code = res.Properties?.[codeProp];
    const key = isRecord(code) ? code[keyProp] : undefined;
    const hash = typeof key === 'string' ? key.match(/([0-9a-f]{64})\.zip$/)?.[1] : undefined;
    const fromManifest = hash ? this.assetPaths.get(hash) : undefined;
    if (fromManifest) candidates.push(fromManifest);
    for (const c of candidates) {
      const abs = resolve(this.dir, c);
      if (existsSync(abs) && statSync(abs).isDirectory()) return abs;
    }
    return undefined;
  }

  private functionName(stack: StackNode, logicalId: string): string {
    return this.resolveRef(stack, logicalId, null);
  }

  private functionArn(name: string): string {
    return `arn:${this.partition}:lambda:${this.region}:${this.accountId}:function:${name}`;
  }

  // -------------------------------------------------------------------------
  // Routes

  private describeRoutes(stacks: StackNode[], functions: FunctionSpec[]): RouteSpec[] {
    const byName = new Map(functions.map((f) => [f.name, f]));
    const routes: RouteSpec[] = [];
    for (const stack of stacks) {
      for (const [logicalId, res] of Object.entries(stack.template.Resources)) {
        if (res.Type !== 'AWS::ApiGatewayV2::Route') continue;
        const where = `${stack.path.join('/')}/${logicalId}`;
        const props = res.Properties ?? {};
        try {
          const routeKey = String(this.evaluate(stack, props.RouteKey));
          const apiId = String(this.evaluate(stack, props.ApiId));
          const target = String(this.evaluate(stack, props.Target ?? ''));
          const integrationToken = target.replace(/^integrations\//, '');
          const integration = this.integrations.get(integrationToken);
          if (!integration) {
            this.warnings.push(`route ${routeKey} (${where}): target ${target || '(none)'} is not an integration of the assembly; skipped`);
            continue;
          }
          const iprops = integration.stack.template.Resources[integration.logicalId]?.Properties ?? {};
          const type = String(this.evaluate(integration.stack, iprops.IntegrationType ?? ''));
          if (type !== 'AWS_PROXY') {
            this.warnings.push(`route ${routeKey} (${where}): integration type ${type} is not a Lambda proxy; skipped`);
            continue;
          }
          const uri = String(this.evaluate(integration.stack, iprops.IntegrationUri));
          const fnName = functionNameFromArn(uri);
          const fn = fnName ? byName.get(fnName) : undefined;
          if (!fn) {
            this.warnings.push(`route ${routeKey} (${where}): integration target ${uri} is not a function of the assembly; skipped`);
            continue;
          }
          const version = String(this.evaluate(integration.stack, iprops.PayloadFormatVersion ?? '1.0'));
          if (version !== '1.0' && version !== '2.0') throw new Unresolved(`unknown PayloadFormatVersion ${version}`);
          const timeout = iprops.TimeoutInMillis === undefined ? HTTP_API_TIMEOUT_MS : Number(this.evaluate(integration.stack, iprops.TimeoutInMillis));
          const { method, path } = parseRouteKey(routeKey);
          routes.push({ apiId, routeKey, method, path, functionName: fn.name, payloadFormatVersion: version, timeoutMs: timeout });
        } catch (e) {
          if (!(e instanceof Unresolved)) throw e;
          throw new TemplateError(`route ${where}: ${e.message}`);
        }
      }
    }
    return routes;
  }

  /** The HTTP API's CORS configuration (one API per app; the first with one wins, others are warned about). */
  private describeCors(stacks: StackNode[]): CorsConfiguration | null {
    let found: CorsConfiguration | null = null;
    for (const stack of stacks) {
      for (const [logicalId, res] of Object.entries(stack.template.Resources)) {
        if (res.Type !== 'AWS::ApiGatewayV2::Api' || res.Properties?.CorsConfiguration === undefined) continue;
        const parsed = CorsConfigurationSchema.safeParse(res.Properties.CorsConfiguration);
        if (!parsed.success) {
          this.warnings.push(`API ${stack.path.join('/')}/${logicalId}: CorsConfiguration is not literal; CORS is not emulated`);
        } else if (found) {
          this.warnings.push(`API ${stack.path.join('/')}/${logicalId}: a second API's CORS configuration is ignored`);
        } else {
          found = parsed.data;
        }
      }
    }
    return found;
  }

  private describeResources(stacks: StackNode[]): ResourceSpec[] {
    const out: ResourceSpec[] = [];
    for (const stack of stacks) {
      for (const [logicalId, res] of Object.entries(stack.template.Resources)) {
        if (res.Type !== 'AWS::S3::Bucket' && res.Type !== 'AWS::DynamoDB::Table' && res.Type !== 'AWS::DynamoDB::GlobalTable') continue;
        let name: string | null;
        try {
          name = this.resolveRef(stack, logicalId, null);
        } catch (e) {
          if (!(e instanceof Unresolved)) throw e;
          name = null;
        }
        out.push({ type: res.Type, logicalId, stackPath: stack.path, name, properties: res.Properties ?? {} });
      }
    }
    return out;
  }

  // -------------------------------------------------------------------------
  // Intrinsics

  /** Evaluates a template value; throws Unresolved with a description of what could not be resolved. */
  evaluate(stack: StackNode, value: unknown): unknown {
    if (Array.isArray(value)) {
      return value.map((v) => this.evaluate(stack, v)).filter((v) => v !== NO_VALUE);
    }
    if (!isRecord(value)) return value;
    const keys = Object.keys(value);
    if (keys.length === 1) {
      const key = keys[0] as string;
      const arg = value[key];
      switch (key) {
        case 'Ref':
          return this.ref(stack, String(arg));
        case 'Fn::GetAtt': {
          const [id, ...attr] = Array.isArray(arg) ? arg.map((a) => String(this.evaluate(stack, a))) : String(arg).split('.');
          return this.resolveRef(stack, String(id), attr.join('.'));
        }
        case 'Fn::Join': {
          if (!Array.isArray(arg) || arg.length !== 2) throw new Unresolved('malformed Fn::Join');
          const parts = this.evaluate(stack, arg[1]);
          if (!Array.isArray(parts)) throw new Unresolved('Fn::Join of a non-list');
          return parts.map(String).join(String(arg[0]));
        }
        case 'Fn::Sub':
          return this.sub(stack, arg);
        case 'Fn::Select': {
          if (!Array.isArray(arg) || arg.length !== 2) throw new Unresolved('malformed Fn::Select');
          const list = this.evaluate(stack, arg[1]);
          const index = Number(this.evaluate(stack, arg[0]));
          if (!Array.isArray(list) || !(index in list)) throw new Unresolved(`Fn::Select index ${index} out of range`);
          return list[index];
        }
        case 'Fn::Split': {
          if (!Array.isArray(arg) || arg.length !== 2) throw new Unresolved('malformed Fn::Split');
          return String(this.evaluate(stack, arg[1])).split(String(arg[0]));
        }
        case 'Fn::If': {
          if (!Array.isArray(arg) || arg.length !== 3) throw new Unresolved('malformed Fn::If');
          return this.evaluate(stack, this.condition(stack, String(arg[0])) ? arg[1] : arg[2]);
        }
        case 'Fn::Equals':
        case 'Fn::Not':
        case 'Fn::And':
        case 'Fn::Or':
        case 'Condition':
          return this.conditionValue(stack, value);
        case 'Fn::ImportValue':
          return this.importValue(String(this.evaluate(stack, arg)));
        case 'Fn::FindInMap': {
          if (!Array.isArray(arg) || arg.length < 3) throw new Unresolved('malformed Fn::FindInMap');
          const [m, k1, k2] = arg.slice(0, 3).map((a) => String(this.evaluate(stack, a)));
          const found = stack.template.Mappings?.[m as string]?.[k1 as string]?.[k2 as string];
          if (found === undefined) throw new Unresolved(`Fn::FindInMap ${m}.${k1}.${k2} not found`);
          return this.evaluate(stack, found);
        }
        case 'Fn::Base64':
          return Buffer.from(String(this.evaluate(stack, arg))).toString('base64');
        default:
          if (key.startsWith('Fn::')) throw new Unresolved(`${key} is not supported locally`);
      }
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const e = this.evaluate(stack, v);
      if (e !== NO_VALUE) out[k] = e;
    }
    return out;
  }

  private sub(stack: StackNode, arg: unknown): string {
    const [text, vars] = Array.isArray(arg) ? [String(arg[0]), isRecord(arg[1]) ? arg[1] : {}] : [String(arg), {}];
    return text.replace(/\$\{(!?)([^}]+)\}/g, (_all, bang: string, expr: string) => {
      if (bang) return `\${${expr}}`;
      if (expr in vars) return String(this.evaluate(stack, (vars as Record<string, unknown>)[expr]));
      const dot = expr.indexOf('.');
      if (dot > 0 && !expr.startsWith('AWS::')) return this.resolveRef(stack, expr.slice(0, dot), expr.slice(dot + 1));
      return String(this.ref(stack, expr));
    });
  }

  private condition(stack: StackNode, name: string): boolean {
    const def = stack.template.Conditions?.[name];
    if (def === undefined) throw new Unresolved(`condition ${name} not defined`);
    return this.conditionValue(stack, def);
  }

  private conditionValue(stack: StackNode, value: unknown): boolean {
    if (!isRecord(value)) throw new Unresolved('malformed condition');
    const [key] = Object.keys(value);
    const arg = value[key as string];
    const list = Array.isArray(arg) ? arg : [];
    switch (key) {
      case 'Fn::Equals':
        return JSON.stringify(this.evaluate(stack, list[0])) === JSON.stringify(this.evaluate(stack, list[1]));
      case 'Fn::Not':
        return !this.conditionValue(stack, list[0]);
      case 'Fn::And':
        return list.every((c) => this.conditionValue(stack, c));
      case 'Fn::Or':
        return list.some((c) => this.conditionValue(stack, c));
      case 'Condition':
        return this.condition(stack, String(arg));
      default:
        throw new Unresolved(`unsupported condition ${String(key)}`);
    }
  }

  private importValue(exportName: string): unknown {
    for (const root of this.allStacks()) {
      for (const out of Object.values(root.template.Outputs ?? {})) {
        if (out.Export === undefined) continue;
        if (String(this.evaluate(root, out.Export.Name)) === exportName) return this.evaluate(root, out.Value);
      }
    }
    throw new Unresolved(`Fn::ImportValue ${exportName}: no stack of the assembly exports it`);
  }

  private ref(stack: StackNode, name: string): unknown {
    switch (name) {
      case 'AWS::Region':
        return this.region;
      case 'AWS::AccountId':
        return this.accountId;
      case 'AWS::Partition':
        return this.partition;
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return stack.name;
      case 'AWS::StackId':
        return `arn:${this.partition}:cloudformation:${this.region}:${this.accountId}:stack/${stack.name}/local`;
      case 'AWS::NotificationARNs':
        return [];
      case 'AWS::NoValue':
        return NO_VALUE;
    }
    const param = stack.template.Parameters?.[name];
    if (param !== undefined) return this.parameter(stack, name, param.Default);
    if (stack.template.Resources[name]) return this.resolveRef(stack, name, null);
    throw new Unresolved(`Ref ${name}: no parameter or resource of that name in stack ${stack.name}`);
  }

  private parameter(stack: StackNode, name: string, fallback: unknown): unknown {
    if (stack.parent) {
      const holder = stack.parent.stack.template.Resources[stack.parent.logicalId];
      const params = holder?.Properties?.Parameters;
      if (isRecord(params) && name in params) return this.evaluate(stack.parent.stack, params[name]);
    } else if (this.options.parameters?.[name] !== undefined) {
      return this.options.parameters[name];
    }
    if (fallback !== undefined) return fallback;
    throw new Unresolved(`parameter ${name} of stack ${stack.name} has no value`);
  }

  /** Ref (attribute null) or GetAtt of a resource, memoized; the caller's resolver first. */
  private resolveRef(stack: StackNode, logicalId: string, attribute: string | null): string {
    const key = `${stack.path.join('/')}|${logicalId}|${attribute ?? ''}`;
    const hit = this.memo.get(key);
    if (hit !== undefined) return hit;
    if (this.inProgress.has(key)) throw new Unresolved(`circular reference through ${logicalId}`);
    this.inProgress.add(key);
    try {
      const value = this.resolveRefUncached(stack, logicalId, attribute);
      this.memo.set(key, value);
      return value;
    } finally {
      this.inProgress.delete(key);
    }
  }

  private resolveRefUncached(stack: StackNode, logicalId: string, attribute: string | null): string {
    const res = stack.template.Resources[logicalId];
    if (!res) throw new Unresolved(`no resource ${logicalId} in stack ${stack.name}`);
    const props = res.Properties ?? {};
    const fromCaller = this.options.resolveResource?.({
      stackPath: stack.path,
      stackName: stack.name,
      logicalId,
      type: res.Type,
      properties: props,
      attribute,
      region: this.region,
      accountId: this.accountId,
      partition: this.partition,
    });
    if (fromCaller !== undefined) return fromCaller;
    const what = `${attribute === null ? 'Ref' : `Fn::GetAtt ${attribute} of`} ${logicalId} (${res.Type})`;
    const explicit = (prop: string): string | undefined =>
      props[prop] === undefined ? undefined : String(this.evaluate(stack, props[prop]));

    switch (res.Type) {
      case 'AWS::Lambda::Function': {
        const name = explicit('FunctionName') ?? this.derivedFunctionName(stack, logicalId);
        if (attribute === null) return name;
        if (attribute === 'Arn') return this.functionArn(name);
        break;
      }
      case 'AWS::CloudFormation::Stack': {
        const nested = stack.nested.get(logicalId);
        const output = attribute?.startsWith('Outputs.') ? attribute.slice('Outputs.'.length) : undefined;
        if (nested && output !== undefined) {
          const def = nested.template.Outputs?.[output];
          if (!def) throw new Unresolved(`nested stack ${nested.name} has no output ${output}`);
          return String(this.evaluate(nested, def.Value));
        }
        break;
      }
      case 'AWS::S3::Bucket': {
        const name = explicit('BucketName');
        if (name === undefined) break;
        if (attribute === null) return name;
        if (attribute === 'Arn') return `arn:${this.partition}:s3:::${name}`;
        break;
      }
      case 'AWS::DynamoDB::Table':
      case 'AWS::DynamoDB::GlobalTable': {
        const name = explicit('TableName');
        if (name === undefined) break;
        if (attribute === null) return name;
        if (attribute === 'Arn') return `arn:${this.partition}:dynamodb:${this.region}:${this.accountId}:table/${name}`;
        break;
      }
      case 'AWS::ApiGatewayV2::Api':
        if (attribute === null || attribute === 'ApiId') return `local${shortHash(`${stack.path.join('/')}/${logicalId}`)}`;
        break;
      case 'AWS::ApiGatewayV2::Integration':
        if (attribute === null) {
          const token = `${stack.path.join('/')}/${logicalId}`;
          this.integrations.set(token, { stack, logicalId });
          return token;
        }
        break;
      case 'AWS::Lambda::LayerVersion':
        if (attribute === null) {
          const arn = `arn:${this.partition}:lambda:${this.region}:${this.accountId}:layer:${explicit('LayerName') ?? `${stack.name}-${logicalId}`}:1`;
          const layerDir = this.assetDir(res, 'Content', 'S3Key');
          if (layerDir) this.layerDirs.set(arn, layerDir);
          return arn;
        }
        break;
    }
    throw new Unresolved(
      `${what} has no local value; the resolver passed as resolveResource must name it (e.g. localResourceNames())`,
    );
  }

  private derivedFunctionName(stack: StackNode, logicalId: string): string {
    // CloudFormation would name it <stack>-<logical id>-<random>; locally the name must be
    // stable across runs, so the random suffix is a hash of the full path.
    const top = stack.path[0] ?? stack.name;
    const base = `${top}-${logicalId}`;
    if (base.length <= LAMBDA_NAME_MAX && stack.path.length === 1) return base;
    const suffix = shortHash(`${stack.path.join('/')}/${logicalId}`);
    return `${base.slice(0, LAMBDA_NAME_MAX - suffix.length - 1)}-${suffix}`;
  }
}

/** `POST /a/{b}` → method + path; `$default` → ANY + null. */
export function parseRouteKey(routeKey: string): { method: string; path: string | null } {
  if (routeKey === '$default') return { method: 'ANY', path: null };
  const m = routeKey.match(/^(\S+)\s+(\/\S*)$/);
  if (!m) throw new TemplateError(`route key "${routeKey}" is not "METHOD /path" or $default`);
  return { method: (m[1] as string).toUpperCase(), path: m[2] as string };
}

/**
 * The function name inside a Lambda ARN, a partial ARN, or an API Gateway
 * integration URI wrapping one (`arn:aws:apigateway:…:lambda:path/2015-03-31/functions/<arn>/invocations`).
 */
export function functionNameFromArn(arnOrUri: string): string | undefined {
  const inner = arnOrUri.match(/\/functions\/(.+)\/invocations$/)?.[1] ?? arnOrUri;
  const m = decodeURIComponent(inner).match(/(?:^|:)function:([A-Za-z0-9_-]+)(?::[^:]+)?$/);
  return m?.[1];
}

/**
 * A resolver that names every bucket and table deterministically for a local
 * stack: an explicit `BucketName`/`TableName` is kept (evaluated by the
 * built-in rules), else `<prefix><top stack>-<logical id>` (buckets
 * lower-cased and trimmed to S3's rules). Other resources fall through to the
 * built-in rules.
 *
 * @example
 * discoverApp('cdk.out', { resolveResource: localResourceNames({ prefix: 'local-' }) });
 */
export function localResourceNames(options: { prefix?: string } = {}): ResourceResolver {
  const prefix = options.prefix ?? '';
  return (ref) => {
    const top = ref.stackPath[0] ?? ref.stackName;
    if (ref.type === 'AWS::S3::Bucket') {
      // an explicit BucketName (literal or intrinsic) is evaluated by the built-in rule
      if (ref.properties.BucketName !== undefined) return undefined;
      const name = `${prefix}${top}-${ref.logicalId}`
        .toLowerCase()
        .replace(/[^a-z0-9.-]/g, '-')
        .slice(0, 63)
        .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
      if (ref.attribute === null) return name;
      if (ref.attribute === 'Arn') return `arn:${ref.partition}:s3:::${name}`;
      if (ref.attribute === 'DomainName' || ref.attribute === 'RegionalDomainName') return `${name}.s3.amazonaws.com`;
      return undefined;
    }
    if (ref.type === 'AWS::DynamoDB::Table' || ref.type === 'AWS::DynamoDB::GlobalTable') {
      if (ref.properties.TableName !== undefined) return undefined;
      const name = `${prefix}${top}-${ref.logicalId}`.slice(0, 255);
      if (ref.attribute === null) return name;
      if (ref.attribute === 'Arn') return `arn:${ref.partition}:dynamodb:${ref.region}:${ref.accountId}:table/${name}`;
      return undefined;
    }
    return undefined;
  };
}
