/**
 * The local Lambda emulator's public API: discovery from a cloud assembly,
 * the emulator, its HTTP server, and a one-call start for the local stack.
 */
import { discoverApp, type DiscoverOptions, type DiscoveredApp } from './template';
import { LambdaEmulator, type EmulatorOptions } from './emulator';
import { startLocalServer, type LocalServer, type LocalServerOptions } from './server';

export * from './template';
export * from './emulator';
export * from './server';
export * from './shutdown';
export { RouteTable, toEventV2, fromResultV2, isTextContentType, eventJsonBytes } from './apigw';

export interface StartLocalEmulatorOptions extends DiscoverOptions, Omit<EmulatorOptions, 'functions'> {
  /** The cloud assembly directory (`cdk.out`). */
  cdkOut: string;
  port?: number;
  host?: string;
  /** Files of the demo page (see LocalServerOptions.pages). */
  pages?: LocalServerOptions['pages'];
}

export interface LocalEmulator {
  app: DiscoveredApp;
  emulator: LambdaEmulator;
  server: LocalServer;
  /** Base URL of both the HTTP API routes and the Invoke API. */
  url: string;
  /** Stops the server and kills every environment process. */
  close(): Promise<void>;
}

/**
 * Discovers the app in `cdkOut`, starts the emulator and its server.
 *
 * @example
 * const local = await startLocalEmulator({ cdkOut: 'cdk.out', resolveResource: localResourceNames(), env: endpoints });
 * console.log(`API at ${local.url}`);
 */
export async function startLocalEmulator(options: StartLocalEmulatorOptions): Promise<LocalEmulator> {
  const { cdkOut, port, host, resolveResource, parameters, region, accountId, stacks, pages, ...emulatorOptions } = options;
  const app = discoverApp(cdkOut, {
    ...(resolveResource ? { resolveResource } : {}),
    ...(parameters ? { parameters } : {}),
    ...(region ? { region } : {}),
    ...(accountId ? { accountId } : {}),
    ...(stacks ? { stacks } : {}),
  });
  const emulator = new LambdaEmulator({ ...emulatorOptions, ...(region ? { region } : {}), ...(accountId ? { accountId } : {}), functions: app.functions });
  let server: LocalServer;
  try {
    server = await startLocalServer({
      emulator,
      routes: app.routes,
      cors: app.cors,
      ...(pages ? { pages } : {}),
      ...(port !== undefined ? { port } : {}),
      ...(host ? { host } : {}),
    });
  } catch (e) {
    await emulator.close();
    throw e;
  }
  // A function that calls Lambda (the planner's prewarm) reaches this emulator's Invoke API, as S3 and DynamoDB reach their stand-ins.
  emulator.addEnvironment({ AWS_ENDPOINT_URL_LAMBDA: server.url });
  return {
    app,
    emulator,
    server,
    url: server.url,
    close: async () => {
      await server.close();
      await emulator.close();
    },
  };
}
