/**
 * Rough capacity of the simulator in one process: originates per second and concurrent calls.
 * Run: npx tsx test/sim/tools/measure-capacity.ts [calls] [subscribe: none|all] [originates per second, 0 = flat out]
 */
import { connect } from 'node:net';
import { startSimCluster } from '../../../src/sim/index.js';
import { WireClient } from '../wire-client.js';

const calls = Number(process.argv[2] ?? 20_000);
const subscribe = process.argv[3] ?? 'all';
/** Originates per second; 0 = as fast as the socket takes them. */
const rate = Number(process.argv[4] ?? 0);
const batchSize = rate > 0 ? Math.max(1, Math.round(rate / 10)) : 500;

const cluster = await startSimCluster({
  nodes: [{ name: 'fs1', port: 0, maxSessions: 1_000_000, sessionsPerSecond: 1_000_000 }],
  profile: {
    gateways: {
      carrier1: {
        answer: 1,
        busy: 0,
        noAnswer: 0,
        invalid: 0,
        congestion: 0,
        ringMs: { minMs: 1000, maxMs: 2000 },
        talkMs: { minMs: 600_000, maxMs: 600_000 },
      },
    },
  },
});
const node = cluster.nodes[0]!;
const client = await WireClient.authed(node.port);
let eventBytes = 0;
if (subscribe === 'all') {
  // A listener that reads everything but parses nothing: the measure is the simulator's, not the client's.
  const listener = connect(node.port, node.host);
  listener.on('data', (chunk: Buffer) => {
    eventBytes += chunk.length;
  });
  listener.write('auth ClueCon\n\nevent plain ALL\n\n');
  await new Promise<void>((resolve) => {
    const check = () => (eventBytes >= 28 + 54 + 74 ? resolve() : setTimeout(check, 5));
    check();
  });
}
let originated = 0;
let answered = 0;
cluster.groundTruth.onEntry((e) => {
  if (e.type === 'originate') originated++;
  if (e.type === 'answer') answered++;
});
const started = performance.now();
const batch: string[] = [];
for (let i = 0; i < calls; i++) {
  const id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
  batch.push(
    `bgapi originate {origination_uuid=${id},origination_caller_id_number=1001,originate_timeout=60,my_worker_id=w1}sofia/gateway/carrier1/1380000${String(i).padStart(4, '0')} &park()\n\n`,
  );
  if (batch.length === batchSize) {
    client.send(batch.splice(0).join(''));
    // Paced like a platform would: `rate` originates per second, sent every 100 ms.
    if (rate > 0) await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
client.send(batch.join(''));
/** Polls: in the `none` mode nothing arrives on the socket to wake a waiter. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}
await until(() => originated === calls);
const originateSec = (performance.now() - started) / 1000;
await until(() => answered === calls);
const allSec = (performance.now() - started) / 1000;
// Let the listener drain what the switch queued for it.
for (let last = -1; last !== eventBytes; ) {
  last = eventBytes;
  await new Promise((resolve) => setTimeout(resolve, 300));
}
const drainedSec = (performance.now() - started) / 1000;
console.log(
  JSON.stringify({
    calls,
    subscribe,
    originatesPerSec: Math.round(calls / originateSec),
    secondsUntilAllAnswered: allSec.toFixed(1),
    concurrentCalls: node.activeCalls(),
    secondsUntilListenerDrained: drainedSec.toFixed(1),
    eventMBReceived: (eventBytes / 1e6).toFixed(0),
    rssMB: Math.round(process.memoryUsage().rss / 1e6),
  }),
);
client.close();
await cluster.close();
process.exit(0);
