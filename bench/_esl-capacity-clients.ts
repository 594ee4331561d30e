/**
 * The calling side of the simulator capacity bench, run in its own process so it does not take
 * the simulator's core: `connections` worker-like EslClients (our client, the worker's event
 * list and its three filters), originating at `rate` per second in total for `seconds`, reading
 * every event they are sent. Prints one JSON line with what it saw, then waits for stdin to close.
 *
 * Usage: node --import tsx bench/_esl-capacity-clients.ts <port> <connections> <rate> <seconds>
 */
import { buildOriginateCommand, EslClient } from '../src/esl/index.js';
import { WORKER_EVENTS, workerFilters } from '../src/worker/switch-link.js';

const [port, connections, rate, seconds] = process.argv.slice(2).map(Number) as [
  number,
  number,
  number,
  number,
];

interface Worker {
  id: string;
  client: EslClient;
}

const workers: Worker[] = [];
for (let i = 0; i < connections; i++) {
  const id = `w${i + 1}`;
  const client = new EslClient({
    host: '127.0.0.1',
    port,
    password: 'ClueCon',
    events: WORKER_EVENTS,
    filters: workerFilters(id),
    reconnect: false,
  });
  client.start();
  workers.push({ id, client });
}
await Promise.all(workers.map((w) => w.client.ready()));

const eventsByName: Record<string, number> = {};
/** Events whose call or job belongs to another worker: the filters failed. */
let foreignEvents = 0;
for (const worker of workers) {
  worker.client.onEvent((event) => {
    eventsByName[event.name] = (eventsByName[event.name] ?? 0) + 1;
    const tag = event.variable('sb_worker');
    const job = event.jobUuid;
    if ((tag !== undefined && tag !== worker.id) || (job !== undefined && !job.startsWith(`${worker.id}-`))) {
      foreignEvents++;
    }
  });
}

let sent = 0;
let accepted = 0;
let refused = 0;
let answered = 0;
let failedJobs = 0;
const jobLagMs: number[] = [];
const cpuMicros = (usage: NodeJS.CpuUsage) => usage.user + usage.system;
const started = performance.now();
const durationMs = seconds * 1000;

function originate(n: number): void {
  const worker = workers[n % workers.length]!;
  const uuid = `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
  const command = buildOriginateCommand({
    endpoint: `sofia/gateway/carrier1/138${String(n).padStart(8, '0')}`,
    variables: {
      origination_uuid: uuid,
      originate_timeout: '60',
      origination_caller_id_number: '1001',
      sb_worker: worker.id,
      sb_attempt: uuid,
    },
    application: { name: 'park' },
  });
  const sentAt = performance.now();
  const job = worker.client.bgapi(command, { jobUuid: `${worker.id}-${uuid}` });
  job.accepted.then(
    () => accepted++,
    () => refused++,
  );
  job.result.then(
    (body) => {
      jobLagMs.push(performance.now() - sentAt);
      if (body.startsWith('+OK')) answered++;
      else failedJobs++;
    },
    () => failedJobs++,
  );
}

// Paced like a platform: every 5 ms, send what is due so far.
await new Promise<void>((resolve) => {
  const timer = setInterval(() => {
    const elapsed = performance.now() - started;
    const due = Math.floor((Math.min(elapsed, durationMs) * rate) / 1000);
    while (sent < due) originate(sent++);
    if (elapsed >= durationMs) {
      clearInterval(timer);
      resolve();
    }
  }, 5);
});
const sendSeconds = (performance.now() - started) / 1000;

// Every call is answered (the bench's carrier answers all): wait for each job's result.
await new Promise<void>((resolve) => {
  const timer = setInterval(() => {
    if (answered + failedJobs >= sent) {
      clearInterval(timer);
      resolve();
    }
  }, 20);
});
const allResultsSeconds = (performance.now() - started) / 1000;
jobLagMs.sort((a, b) => a - b);
const at = (p: number) =>
  Math.round(jobLagMs[Math.min(jobLagMs.length - 1, Math.floor(p * jobLagMs.length))] ?? 0);

process.stdout.write(
  `${JSON.stringify({
    sent,
    accepted,
    refused,
    answered,
    failedJobs,
    foreignEvents,
    eventsByName,
    sendSeconds: Number(sendSeconds.toFixed(2)),
    allResultsSeconds: Number(allResultsSeconds.toFixed(2)),
    jobLagP50Ms: at(0.5),
    jobLagP99Ms: at(0.99),
    clientCpuSeconds: Number((cpuMicros(process.cpuUsage()) / 1e6).toFixed(1)),
  })}\n`,
);
// The parent reads the switch's state while the calls are still up, then closes our stdin.
process.stdin.resume();
process.stdin.on('end', () => {
  Promise.all(workers.map((w) => w.client.close())).then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`close failed: ${String(error)}\n`);
      process.exit(1);
    },
  );
});
