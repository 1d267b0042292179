import { bastionConfigSchema } from './config';
import { portalBaseUrl } from './web';

const web = (w: Record<string, unknown>): ReturnType<typeof bastionConfigSchema.parse>['web'] => bastionConfigSchema.parse({ web: w }).web;

describe('the portal base URL other tools link to (Kibana replay links)', () => {
  it('is public_url when set, else the listen address when it is a specific one, else none', () => {
    expect(portalBaseUrl(web({ listen: '0.0.0.0:8443', public_url: 'https://bastion.example.org/' }))).toBe('https://bastion.example.org');
    expect(portalBaseUrl(web({ listen: '10.0.0.5:8443' }))).toBe('https://10.0.0.5:8443');
    expect(portalBaseUrl(web({ listen: '[fd00::5]:8443', tls: false }))).toBe('http://[fd00::5]:8443');
    // A wildcard address is no name anyone else can use; no portal, no link.
    expect(portalBaseUrl(web({ listen: '0.0.0.0:8443' }))).toBeUndefined();
    expect(portalBaseUrl(web({ listen: '[::]:8443' }))).toBeUndefined();
    expect(portalBaseUrl(web({}))).toBeUndefined();
  });
});
