import { afterAll, describe, expect, it } from 'vitest';
import { type RunningChild, runSwitchboard } from '../support/child.js';
import { makeTempDir } from '../support/temp-dir.js';

/** `npm start` (= `switchboard demo`) serves /healthz within 10 s, and calls flow. */
describe('npm start', () => {
  const dir = makeTempDir();
  let demo: RunningChild | undefined;

  afterAll(async () => {
    await demo?.kill('SIGTERM');
    dir.remove();
  });

  it('serves /healthz within 10 s and shows calls flowing', async () => {
    const started = Date.now();
    demo = runSwitchboard(['demo', '--port', '0', '--data-dir', dir.path], { SWITCHBOARD_LOG_LEVEL: 'warn' });
    const [, url] = await demo.waitFor(/health\s+(http:\/\/\S+)\/healthz/, 10_000);
    const health = await fetch(`${url}/healthz`);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(health.status).toBe(200);
    await demo.waitFor(/completed [1-9]\d* \(/, 30_000);
    expect(demo.output()).toContain('/docs');
  }, 45_000);
});
