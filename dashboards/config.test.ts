import { kibanaConfigSchema } from './config';

describe('the kibana: config section', () => {
  it('defaults to the default space with TLS verification on', () => {
    expect(kibanaConfigSchema.parse({})).toEqual({ space: 'default', tls_verify: true, request_timeout_ms: 30000 });
  });

  it('rejects unknown keys, bad URLs, bad space ids and mixed credentials, all at once', () => {
    const r = kibanaConfigSchema.safeParse({ url: 'not a url', space: 'Sec Ops', apikey: 'x' });
    expect(r.success).toBe(false);
    const paths = r.error?.issues.map((i) => `${i.path.join('.')}:${i.code}`).sort();
    expect(paths).toEqual([':unrecognized_keys', 'space:invalid_format', 'url:invalid_format']);
    const mixed = kibanaConfigSchema.safeParse({ url: 'http://k:5601', api_key: 'k', username: 'u', password: 'p' });
    expect(mixed.error?.issues.map((i) => i.message)).toEqual(['set either api_key or username/password, not both']);
    const half = kibanaConfigSchema.safeParse({ url: 'http://k:5601', username: 'u' });
    expect(half.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual(['password: username and password go together']);
  });
});
