import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config/config.js';
import { createLogger } from '../../src/observability/logger.js';
import { ApiClient } from '../../src/platform/api-client.js';
import { type Platform, startPlatform } from '../../src/platform/platform.js';
import { eventually, type RunningChild, runSwitchboard } from '../support/child.js';
import { logOccurrences, needlesFor, occurrences } from '../support/plaintext.js';
import { type Layout, numbersFrom, setUpThroughApi, taskStatusCounts } from '../support/platform-setup.js';
import { FAST_CARRIERS } from '../support/sim-profiles.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * R1.10 / issue 6 tests: after an end-to-end run — the real platform in-process, the simulator in
 * its own process, a few hundred tasks through the HTTP API dialed to a terminal status, an
 * export and a console login — no number used appears, in national or E.164 form, in the
 * SQLite file, its WAL, anything else in the data folder, or any log line the platform wrote
 * (captured at debug level, the most talkative one in use).
 */
const TASKS_PER_CAMPAIGN = 150;
const RETRY = { busy: 1, no_answer: 1, network_failure: 1, rejected: 1 };

/** Every file under a folder, recursively. */
function filesUnder(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('no plaintext number anywhere after an end-to-end run', () => {
  const dir = makeTempDir();
  const dataDir = join(dir.path, 'data');
  const logLines: string[] = [];
  let sim: RunningChild;
  let platform: Platform | undefined;
  let api: ApiClient;
  let layout: Layout;
  const numbers = [...numbersFrom(0, TASKS_PER_CAMPAIGN), ...numbersFrom(3_000, TASKS_PER_CAMPAIGN)];
  const needles = needlesFor(numbers);

  beforeAll(async () => {
    const profilePath = join(dir.path, 'profile.json');
    writeFileSync(profilePath, JSON.stringify(FAST_CARRIERS));
    // No --record: the simulator is the callee side and may know the numbers; it is not us.
    sim = runSwitchboard([
      'sim',
      '--nodes',
      '1',
      '--port',
      '0',
      '--seed',
      '11',
      '--time-scale',
      '0.3',
      '--profile',
      profilePath,
    ]);
    const match = await sim.waitFor(/sim node sim-1 listening on ([\d.]+):(\d+)/);
    const capture = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    platform = await startPlatform({
      config: {
        ...DEFAULT_CONFIG,
        dataDir,
        httpPort: 0,
        apiKey: 'e2e-plaintext-key-0123456789abcdef',
        logLevel: 'debug',
      },
      logger: createLogger('debug', capture),
    });
    api = new ApiClient(platform.url, platform.apiKey);
    layout = await setUpThroughApi(
      api,
      [{ name: 'sim-1', host: match[1]!, port: Number(match[2]) }],
      ['carrier1', 'carrier2'],
      [
        { name: 'l1', gateway: 'carrier1', caps: 80, maxConcurrent: 40 },
        { name: 'l2', gateway: 'carrier2', caps: 80, maxConcurrent: 40 },
      ],
      [
        {
          name: 'A',
          lines: ['l1'],
          tasks: TASKS_PER_CAMPAIGN,
          numberOffset: 0,
          maxAttempts: 2,
          ringTimeoutSec: 5,
          retryDelaySec: RETRY,
        },
        {
          name: 'B',
          lines: ['l2'],
          tasks: TASKS_PER_CAMPAIGN,
          numberOffset: 3_000,
          maxAttempts: 2,
          ringTimeoutSec: 5,
          retryDelaySec: RETRY,
        },
      ],
    );
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
    await sim?.kill('SIGTERM');
    dir.remove();
  });

  it('leaves none in the database file, its WAL, the data folder or the logs', async () => {
    expect(layout.taskIds).toHaveLength(2 * TASKS_PER_CAMPAIGN);
    await eventually(
      async () => {
        const counts = await taskStatusCounts(api, layout.campaignIds);
        return (counts.queued ?? 0) + (counts.dialing ?? 0) === 0 ? counts : undefined;
      },
      90_000,
      'every task to reach a terminal status',
    );
    await platform!.worker.flush();
    const counts = await taskStatusCounts(api, layout.campaignIds);
    expect(counts.completed ?? 0).toBeGreaterThan(TASKS_PER_CAMPAIGN);

    // The paths where numbers are legitimately opened run too: an export, and a console login.
    const exported = await fetch(`${platform!.url}/v1/campaigns/${layout.campaignIds[0]}/tasks/export`, {
      headers: { authorization: `Bearer ${platform!.apiKey}` },
    });
    const csv = await exported.text();
    expect(csv).toContain(numbers[0]);
    await api.post('/v1/users', {
      email: 'ops@example.test',
      password: 'a long enough password',
      role: 'operator',
    });
    const login = await fetch(`${platform!.url}/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'ops@example.test', password: 'a long enough password' }),
    });
    expect(login.status).toBe(200);

    // The searches fail on a leak and prove they can find one: a number planted in a copy is found.
    const scan = () =>
      new Map(filesUnder(dataDir).map((path) => [relative(dataDir, path), readFileSync(path, 'latin1')]));
    const live = scan();
    expect([...live.keys()]).toEqual(
      expect.arrayContaining(['switchboard.db', 'switchboard.db-wal', 'keys.json']),
    );
    expect(
      occurrences(new Map([['planted', `x${live.get('switchboard.db')}${numbers[7]}`]]), needles),
    ).toEqual([`${numbers[7]!.slice(3)} in planted`, `${numbers[7]!.slice(1)} in planted`]);
    expect(occurrences(live, needles)).toEqual([]);

    expect(logLines.length).toBeGreaterThan(10);
    expect(logLines.some((line) => line.includes('"level":20'))).toBe(true); // debug lines were written
    // The ESL client's debug trace of each command sent (`esl send`) is among them: it carries
    // the originate lines, with their destinations masked.
    expect(logLines.some((line) => line.includes('"msg":"esl send"') && line.includes('originate'))).toBe(
      true,
    );
    // A timing's fraction is not a number leaked; the same digits in a string are.
    const planted = numbers[7]!.slice(3);
    expect(logOccurrences([`{"responseTime":0.95${planted}12}`], needles)).toEqual([]);
    expect(logOccurrences([`{"responseTime":0.95,"to":"${planted}"}`], needles)).toHaveLength(1);
    expect(logOccurrences(logLines, needles)).toEqual([]);

    // And once the platform has stopped and checkpointed its WAL into the main file.
    await platform!.stop();
    platform = undefined;
    expect(occurrences(scan(), needles)).toEqual([]);
    expect(logOccurrences(logLines, needles)).toEqual([]);
  }, 120_000);
});
