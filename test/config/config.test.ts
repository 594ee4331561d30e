import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_CONFIG, loadConfig } from '../../src/config/config.js';
import { makeTempDir } from '../support/temp-dir.js';

const dir = makeTempDir();
afterAll(() => dir.remove());

describe('configuration', () => {
  it('has working defaults', () => {
    expect(loadConfig({})).toEqual(DEFAULT_CONFIG);
  });

  it('layers file < environment < flags', () => {
    const file = join(dir.path, 'config.json');
    writeFileSync(file, JSON.stringify({ httpPort: 9000, workerId: 'fromfile', tenantId: 'acme' }));
    const config = loadConfig(
      { SWITCHBOARD_CONFIG: file, SWITCHBOARD_HTTP_PORT: '9100', SWITCHBOARD_WORKER_ID: 'w2' },
      { httpPort: 9200 },
    );
    expect(config).toMatchObject({ httpPort: 9200, workerId: 'w2', tenantId: 'acme' });
  });

  it('names every bad setting and what it expects', () => {
    let error: unknown;
    try {
      loadConfig({
        SWITCHBOARD_HTTP_PORT: '70000',
        SWITCHBOARD_WORKER_ID: 'no spaces',
        SWITCHBOARD_API_KEY: 'short',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('httpPort (SWITCHBOARD_HTTP_PORT)');
    expect(message).toContain('workerId (SWITCHBOARD_WORKER_ID)');
    expect(message).toContain('apiKey (SWITCHBOARD_API_KEY)');
  });

  it('refuses unknown settings in the file and unreadable files', () => {
    const file = join(dir.path, 'bad.json');
    writeFileSync(file, JSON.stringify({ httpPrt: 1 }));
    expect(() => loadConfig({ SWITCHBOARD_CONFIG: file })).toThrow(ConfigError);
    writeFileSync(file, '{not json');
    expect(() => loadConfig({ SWITCHBOARD_CONFIG: file })).toThrow(/cannot read/);
  });
});

describe('API limits', () => {
  it('sets the rate limit per key and the login thresholds from the environment, within bounds', () => {
    expect(
      loadConfig({
        SWITCHBOARD_API_RATE_PER_SECOND: '20',
        SWITCHBOARD_API_RATE_BURST: '40',
        SWITCHBOARD_LOGIN_ACCOUNT_THRESHOLD: '3',
        SWITCHBOARD_LOGIN_ADDRESS_THRESHOLD: '50',
      }),
    ).toMatchObject({
      apiRatePerSecond: 20,
      apiRateBurst: 40,
      loginAccountThreshold: 3,
      loginAddressThreshold: 50,
    });
    expect(() => loadConfig({ SWITCHBOARD_API_RATE_PER_SECOND: '0' })).toThrow(
      /apiRatePerSecond \(SWITCHBOARD_API_RATE_PER_SECOND\)/,
    );
    expect(() => loadConfig({ SWITCHBOARD_LOGIN_ACCOUNT_THRESHOLD: '1001' })).toThrow(
      /loginAccountThreshold/,
    );
    expect(() => loadConfig({ SWITCHBOARD_API_RATE_BURST: 'lots' })).toThrow(/apiRateBurst/);
  });
});

describe('proxies', () => {
  it('reads the trusted proxies from the environment', () => {
    expect(loadConfig({ SWITCHBOARD_TRUST_PROXY: '10.0.0.2,10.0.1.0/24' }).trustProxy).toBe(
      '10.0.0.2,10.0.1.0/24',
    );
    expect(loadConfig({}).trustProxy).toBeUndefined();
  });
});
