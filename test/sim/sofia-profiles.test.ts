/** The sofia profiles a simulated switch reports: default layout, a configured one, validation. */
import { afterEach, describe, expect, it } from 'vitest';
import {
  type CarrierModel,
  parseSimProfile,
  type SimCluster,
  SimProfileError,
  startSimCluster,
} from '../../src/sim/index.js';
import { WireClient } from './wire-client.js';

const HOLD: CarrierModel = {
  answer: 1,
  busy: 0,
  noAnswer: 0,
  invalid: 0,
  congestion: 0,
  ringMs: { minMs: 10, maxMs: 10 },
  talkMs: { minMs: 1e9, maxMs: 1e9 },
};

let cluster: SimCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

async function sofiaStatus(wire: WireClient, args = ''): Promise<string> {
  return (await wire.command(`api sofia status${args}`)).body;
}

describe('sofia status', () => {
  it("by default lists the simulator's own gateways on external, and counts the calls on it", async () => {
    cluster = await startSimCluster({
      nodes: [{ name: 'fs1', port: 0 }],
      timeScale: 0.001,
      profile: { gateways: { alpha: HOLD, beta: HOLD } },
    });
    const wire = await WireClient.authed(cluster.nodes[0]!.port);
    const rows = (await sofiaStatus(wire)).split('\n');
    expect(rows.map((row) => row.split('\t').map((cell) => cell.trim()))).toEqual([
      ['Name', 'Type', 'Data', 'State'],
      ['='.repeat(97)],
      ['127.0.0.1', 'alias', 'internal', 'ALIASED'],
      ['external', 'profile', 'sip:mod_sofia@127.0.0.1:5080', 'RUNNING (0)'],
      ['external::alpha', 'gateway', 'sip:alpha@127.0.0.1:5090', 'NOREG'],
      ['external::beta', 'gateway', 'sip:beta@127.0.0.1:5090', 'NOREG'],
      ['internal', 'profile', 'sip:mod_sofia@127.0.0.1:5060', 'RUNNING (0)'],
      ['='.repeat(97)],
      ['2 profiles 1 alias'],
      [''],
    ]);
    await wire.command(
      'api originate {origination_uuid=0b6b1c84-4bd4-4c1e-9d55-0f53d3f2a1c7}sofia/gateway/beta/13800000001 &park()',
    );
    expect(await sofiaStatus(wire)).toMatch(
      / {17}external\tprofile\t {14}sip:mod_sofia@127\.0\.0\.1:5080\tRUNNING \(1\)\n/,
    );
    wire.close();
  });

  it('reports a configured layout: profiles, aliases, gateways per profile, in that order', async () => {
    cluster = await startSimCluster({
      nodes: [{ name: 'fs1', port: 0 }],
      profile: parseSimProfile({
        gateways: { alpha: HOLD, beta: HOLD },
        sofia: [
          {
            name: 'trunks',
            url: 'sip:mod_sofia@10.0.0.5:5070',
            aliases: ['10.0.0.5', 'carriers'],
            gateways: [{ name: 'beta', registerTo: 'sip:acct42@beta.example.net' }, { name: 'alpha' }],
          },
        ],
      }),
    });
    const wire = await WireClient.authed(cluster.nodes[0]!.port);
    const cells = (await sofiaStatus(wire))
      .split('\n')
      .slice(2, -3)
      .map((row) => row.split('\t').map((cell) => cell.trim()));
    expect(cells).toEqual([
      ['10.0.0.5', 'alias', 'trunks', 'ALIASED'],
      ['carriers', 'alias', 'trunks', 'ALIASED'],
      ['trunks', 'profile', 'sip:mod_sofia@10.0.0.5:5070', 'RUNNING (0)'],
      ['trunks::beta', 'gateway', 'sip:acct42@beta.example.net', 'NOREG'],
      ['trunks::alpha', 'gateway', 'sip:alpha@127.0.0.1:5090', 'NOREG'],
    ]);
    expect(await sofiaStatus(wire)).toMatch(/\n1 profile 2 aliases\n$/);
    const gateway = await sofiaStatus(wire, ' gateway beta');
    expect(gateway).toContain('Profile \ttrunks\n');
    expect(gateway).toContain('Contact \t<sip:gw+beta@10.0.0.5:5070;transport=udp;gw=beta>\n');
    wire.close();
  });
});

describe('sofia profile validation', () => {
  const profile = (sofia: unknown) => () => parseSimProfile({ gateways: { alpha: HOLD, beta: HOLD }, sofia });
  const external = (gateways: unknown[]) => ({
    name: 'external',
    url: 'sip:mod_sofia@127.0.0.1:5080',
    gateways,
  });

  it('refuses a gateway the switch would report but could not dial, or dial but not report', () => {
    expect(profile([external([{ name: 'alpha' }, { name: 'beta' }, { name: 'gamma' }])])).toThrow(
      /gateway "gamma" has no carrier model/,
    );
    expect(profile([external([{ name: 'alpha' }])])).toThrow(/gateways beta are on no profile/);
    expect(profile([external([{ name: 'alpha' }, { name: 'beta' }, { name: 'alpha' }])])).toThrow(
      /gateway "alpha" is on two profiles/,
    );
  });

  it('refuses names used twice, bad URIs and malformed entries, naming the field', () => {
    const both = [{ name: 'alpha' }, { name: 'beta' }];
    expect(profile([external(both), { name: 'internal', url: 'sip:x@y', aliases: ['external'] }])).toThrow(
      /"external" names two profiles/,
    );
    expect(profile([{ ...external(both), url: 'http://x' }])).toThrow(/profile\.sofia\[0\]\.url/);
    expect(profile([external([{ name: 'alpha', registerTo: 'sip:a b' }, { name: 'beta' }])])).toThrow(
      /profile\.sofia\[0\]\.gateways\[0\]\.registerTo/,
    );
    expect(profile([])).toThrow(SimProfileError);
    expect(profile({ external: {} })).toThrow(/non-empty array/);
  });
});
