/**
 * The browser SDK (ESM, built by client/browser/build.ts into `offload.js`):
 * the same API as the Node client — plan, run the head with tfjs (the
 * fastest of webgl and wasm on this device, or cpu; reported with why), send the crossing tensors, finish on the device on
 * 429/5xx/timeout/network error, timing measured vs predicted — plus what a
 * page needs: the model from the artifacts `GET /models` points to, SigV4 in
 * WebCrypto, Cognito credentials, and a network probe. See docs/browser.md.
 *
 * @example
 * import { OffloadApi, catalogEntry, collaborativeInfer, initBrowserBackend, loadDeviceModel } from './offload.js';
 * await initBrowserBackend(new URL('./', import.meta.url).href);
 * const api = new OffloadApi({ baseUrl: 'https://abc.execute-api.eu-west-1.amazonaws.com' });
 * const device = await loadDeviceModel(catalogEntry(await api.models(), 'mobilenetv2'));
 * const result = await collaborativeInfer({ api, device, request: { device: 'flagship-phone', network: '4g' } });
 */
export { OffloadApi, ApiError, type ApiFailure, type ApiOptions, type PlanRequestBody, type PlanResponse, type ModelsResponse, type RequestSigner } from '../api';
export { collaborativeInfer, type CollaborativeInferOptions, type CollaborativeResult, type MeasuredTiming } from '../infer';
export { DeviceModel, type DeviceOutput } from '../device-model';
export { initBrowserBackend, BROWSER_BACKENDS, type BrowserBackend, type BackendChoice, type BrowserBackendOptions } from './backend';
export { catalogEntry, loadDeviceModel, type LoadProgress } from './artifacts';
export { measureNetwork, type MeasuredNetwork } from './network';
export { signV4, webCryptoSigner, type AwsCredentials } from './sigv4';
export { cognitoCredentials, type CognitoOptions } from './cognito';
export { DEVICE_CLASSES, NETWORK_PRESET_NAMES } from '../../core/presets';
export { isOffloadError, OffloadError } from '../../core/errors';
export * as tf from '../../models/tfjs';
