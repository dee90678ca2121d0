import { afterEach, describe, expect, it, vi } from 'vitest';
import { sigV4Signer } from '../../client/sigv4';

describe('sigV4Signer', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('signs for execute-api with credentials from the default chain', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY');
    vi.stubEnv('AWS_SESSION_TOKEN', '');
    const sign = sigV4Signer('eu-west-1');
    const headers = await sign({
      method: 'POST',
      url: 'https://abc123.execute-api.eu-west-1.amazonaws.com/plan',
      headers: { 'content-type': 'application/json' },
      body: '{"model":"resnet50"}',
    });
    expect(headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[^,]*content-type[^,]*host[^,]*, Signature=[0-9a-f]{64}$/);
    expect(headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    expect(headers['content-type']).toBe('application/json');
    expect(headers.host).toBeUndefined();
  });
});
