import { describe, expect, it } from 'vitest';
import { parseCatalog } from '../../core/catalog';
import { ValidationError } from '../../core/errors';

const valid = {
  version: 1,
  backend: 'wasm',
  artifactPrefix: 'models/',
  models: {
    tinychain: {
      manifestKey: 'models/tinychain/manifest.json',
      tails: [
        { cut: 0, function: 'offload-tinychain-0', route: '/infer/tinychain/0', memoryMB: 3008, timeoutSeconds: 30, reservedConcurrency: 10, provisionedConcurrency: 0 },
      ],
    },
  },
};

describe('parseCatalog', () => {
  it('returns the typed catalog of a valid file', () => {
    const catalog = parseCatalog(JSON.stringify(valid));
    expect(catalog.models['tinychain']?.tails[0]?.function).toBe('offload-tinychain-0');
  });

  it('names the offending field of a bad file', () => {
    const bad = structuredClone(valid);
    bad.models.tinychain.tails[0]!.reservedConcurrency = 0;
    expect(() => parseCatalog(JSON.stringify(bad))).toThrow(/^catalog\.models\.tinychain\.tails\[0\]\.reservedConcurrency: /);
  });

  it('rejects text that is not JSON with a ValidationError', () => {
    expect(() => parseCatalog('{nope')).toThrow(ValidationError);
  });
});
