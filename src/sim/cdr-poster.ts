/**
 * The simulator's mod_json_cdr: when a simulated channel reaches its reporting state (the moment
 * CHANNEL_HANGUP_COMPLETE fires), a JSON call record shaped as switch_ivr_generate_json_cdr
 * writes it is POSTed to a URL, as mod_json_cdr.c does:
 * - to `<url>?uuid=<channel uuid>` (`&uuid=` when the URL already has a query — FreeSWITCH would
 *   append a second `?`), User-Agent `freeswitch-json/1.0`, `cred` as HTTP Basic;
 * - `encode`: `json` (FreeSWITCH's default, `application/json`), `form`
 *   (`application/x-www-form-urlencoded`, `cdr=<%XX-encoded>`), `base64`
 *   (`application/x-www-form-base64-encoded`, `cdr=<base64>`);
 * - `encodeValues` (FreeSWITCH's `encode-values`, default on): every variable value %XX-encoded;
 * - a 2xx is success; anything else, or no answer, is retried. FreeSWITCH waits `delay` seconds
 *   between `retries`; here the wait doubles from `retryDelayMs` up to `maxRetryDelayMs`.
 *   FreeSWITCH then writes the record to `err-log-dir`; the simulator counts it as failed.
 *
 * Posting never holds the event loop: documents queue (bounded — past `maxQueue` a record is
 * dropped and counted, as FreeSWITCH's full `queue-capacity` does), a few requests run at once, and
 * retries wait on unref'd timers. Written from the module's source, independently of the
 * platform's parser (src/domain/call-record.ts), so a shared misreading cannot hide.
 */
import { urlEncode } from './encoder.js';

export type CdrEncode = 'json' | 'form' | 'base64';

export interface CdrPosterOptions {
  url: string;
  /** mod_json_cdr `cred`: "user:password", sent as HTTP Basic. */
  credentials?: string;
  /** mod_json_cdr `encode` (false → json, true → form, base64). Default json. */
  encode?: CdrEncode;
  /** mod_json_cdr `encode-values`. Default true, as FreeSWITCH's. */
  encodeValues?: boolean;
  /** Tries after the first. Default 5. */
  retries?: number;
  /** Wait before the first retry; doubles per retry. Default 1000 ms. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** Records waiting or in flight at most; more are dropped. Default 10,000. */
  maxQueue?: number;
  /** Requests at once. Default 4. */
  concurrency?: number;
  /** One request's limit. Default 10 s. */
  requestTimeoutMs?: number;
}

export interface CdrPosterStats {
  /** Accepted with a 2xx. */
  posted: number;
  /** Given up after every retry. */
  failed: number;
  /** Refused because the queue was full. */
  dropped: number;
  /** Queued, waiting for a retry, or in flight. */
  pending: number;
}

/** What a reported channel offers: its CHANNEL_HANGUP_COMPLETE as a text/event-json body. */
export interface ReportedChannel {
  readonly uniqueId: string | undefined;
  json(): string;
}

/** Where the node reports channels that reached their reporting state. */
export interface ChannelReportSink {
  channelReported(channel: ReportedChannel): void;
}

interface Pending {
  uuid: string;
  /** The CHANNEL_HANGUP_COMPLETE as event-json; the document is built when first sent. */
  event: string;
  body: string | null;
  tries: number;
}

type Headers = Record<string, string>;

const CONTENT_TYPES: Record<CdrEncode, string> = {
  json: 'application/json',
  form: 'application/x-www-form-urlencoded',
  base64: 'application/x-www-form-base64-encoded',
};

export class CdrPoster implements ChannelReportSink {
  private readonly queue: Pending[] = [];
  private inFlight = 0;
  private waitingRetry = 0;
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private readonly aborts = new Set<AbortController>();
  private readonly idleWaiters: Array<() => void> = [];
  private closed = false;
  private posted = 0;
  private failed = 0;
  private dropped = 0;
  private readonly headers: Headers;
  private readonly encode: CdrEncode;

  constructor(private readonly options: CdrPosterOptions) {
    const url = new URL(options.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError(`the CDR url must be http(s), got ${url.protocol}`);
    }
    if (url.username || url.password) {
      throw new TypeError('the CDR url may not carry credentials: give them as `credentials` (cred)');
    }
    this.encode = options.encode ?? 'json';
    this.headers = {
      'content-type': CONTENT_TYPES[this.encode],
      'user-agent': 'freeswitch-json/1.0',
      ...(options.credentials
        ? { authorization: `Basic ${Buffer.from(options.credentials, 'utf8').toString('base64')}` }
        : {}),
    };
  }

  channelReported(channel: ReportedChannel): void {
    const uuid = channel.uniqueId;
    if (uuid === undefined || this.closed) return;
    if (this.pendingCount() >= (this.options.maxQueue ?? 10_000)) {
      this.dropped++;
      return;
    }
    // Only the event text is taken now; building and sending wait for the next turn, off the
    // hang-up's own path.
    this.queue.push({ uuid, event: channel.json(), body: null, tries: 0 });
    this.schedulePump();
  }

  stats(): CdrPosterStats {
    return { posted: this.posted, failed: this.failed, dropped: this.dropped, pending: this.pendingCount() };
  }

  /** Resolves once nothing is queued, waiting for a retry or in flight. */
  idle(): Promise<void> {
    if (this.pendingCount() === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops taking records; waits up to `graceMs` for pending ones, then abandons the rest. */
  async close(graceMs = 2_000): Promise<void> {
    this.closed = true;
    if (this.pendingCount() > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.idle(),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, graceMs);
        }),
      ]);
      clearTimeout(timer);
    }
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    this.waitingRetry = 0;
    this.queue.length = 0;
    for (const abort of this.aborts) abort.abort();
    this.notifyIdle();
  }

  private pendingCount(): number {
    return this.queue.length + this.inFlight + this.waitingRetry;
  }

  private encodeBody(document: string): string {
    if (this.encode === 'json') return document;
    if (this.encode === 'form') return `cdr=${urlEncode(document)}`;
    return `cdr=${Buffer.from(document, 'utf8').toString('base64')}`;
  }

  private pumpScheduled = false;

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    const concurrency = this.options.concurrency ?? 4;
    while (this.inFlight < concurrency && this.queue.length > 0) {
      const item = this.queue.shift()!;
      this.inFlight++;
      void this.send(item).finally(() => {
        this.inFlight--;
        this.pump();
        this.notifyIdle();
      });
    }
  }

  private async send(item: Pending): Promise<void> {
    item.tries++;
    item.body ??= this.encodeBody(
      buildJsonCdr(JSON.parse(item.event) as Headers, this.options.encodeValues ?? true),
    );
    const abort = new AbortController();
    this.aborts.add(abort);
    const timeout = setTimeout(() => abort.abort(), this.options.requestTimeoutMs ?? 10_000);
    let ok = false;
    try {
      const base = this.options.url;
      const target = `${base}${base.includes('?') ? '&' : '?'}uuid=${encodeURIComponent(item.uuid)}`;
      const response = await fetch(target, {
        method: 'POST',
        headers: this.headers,
        body: item.body,
        signal: abort.signal,
      });
      await response.arrayBuffer();
      ok = response.status >= 200 && response.status < 300;
    } catch {
      // Refused, reset, timed out: like a non-2xx, retried below.
    } finally {
      clearTimeout(timeout);
      this.aborts.delete(abort);
    }
    if (ok) {
      this.posted++;
    } else if (this.closed || item.tries > (this.options.retries ?? 5)) {
      this.failed++;
    } else {
      this.retryLater(item);
    }
  }

  private retryLater(item: Pending): void {
    const first = this.options.retryDelayMs ?? 1_000;
    const delay = Math.min(first * 2 ** (item.tries - 1), this.options.maxRetryDelayMs ?? 30_000);
    this.waitingRetry++;
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      this.waitingRetry--;
      this.queue.push(item);
      this.pump();
    }, delay);
    timer.unref();
    this.retryTimers.add(timer);
  }

  private notifyIdle(): void {
    if (this.pendingCount() > 0) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}

/** The caller profile fields of switch_ivr_set_json_profile_data, from the event's Caller-* headers. */
const PROFILE_FIELDS: ReadonlyArray<readonly [string, string | null]> = [
  ['username', null],
  ['dialplan', null],
  ['caller_id_name', 'Caller-Caller-ID-Name'],
  ['ani', 'Caller-ANI'],
  ['aniii', null],
  ['caller_id_number', 'Caller-Caller-ID-Number'],
  ['network_addr', 'Caller-Network-Addr'],
  ['rdnis', null],
  ['destination_number', 'Caller-Destination-Number'],
  ['uuid', 'Caller-Unique-ID'],
  ['source', 'Caller-Source'],
  ['context', 'Caller-Context'],
  ['chan_name', 'Caller-Channel-Name'],
];

const TIME_FIELDS: ReadonlyArray<readonly [string, string]> = [
  ['created_time', 'Caller-Channel-Created-Time'],
  ['profile_created_time', 'Caller-Profile-Created-Time'],
  ['progress_time', 'Caller-Channel-Progress-Time'],
  ['progress_media_time', 'Caller-Channel-Progress-Media-Time'],
  ['answered_time', 'Caller-Channel-Answered-Time'],
  ['bridged_time', 'Caller-Channel-Bridged-Time'],
  ['last_hold_time', 'Caller-Channel-Last-Hold'],
  ['hold_accum_time', 'Caller-Channel-Hold-Accum'],
  ['hangup_time', 'Caller-Channel-Hangup-Time'],
  ['resurrect_time', 'Caller-Channel-Resurrect-Time'],
  ['transfer_time', 'Caller-Channel-Transfer-Time'],
];

/**
 * The JSON document switch_ivr_generate_json_cdr builds for a channel, from that channel's
 * CHANNEL_HANGUP_COMPLETE (fired in the same reporting state, so it carries the same variables):
 * `core-uuid`, `switchname`, `channel_data`, `variables` (values %XX-encoded when
 * `encodeValues`), `app_log` and `callflow` (caller profile and times; an array, as 1.10 writes
 * it). It holds the dialed number in several places, as the real one does.
 */
export function buildJsonCdr(event: Headers, encodeValues: boolean): string {
  const variables: Headers = {};
  for (const [name, value] of Object.entries(event)) {
    if (!name.startsWith('variable_') || value === '') continue;
    variables[name.slice('variable_'.length)] = encodeValues ? urlEncode(value) : value;
  }
  const profile: Headers = {};
  for (const [field, header] of PROFILE_FIELDS) profile[field] = header === null ? '' : (event[header] ?? '');
  profile.dialplan = 'XML';
  const times: Headers = {};
  for (const [field, header] of TIME_FIELDS) times[field] = event[header] ?? '0';
  const lastApp = event.variable_last_app;
  return JSON.stringify({
    'core-uuid': event['Core-UUID'] ?? '',
    switchname: event['FreeSWITCH-Switchname'] ?? '',
    channel_data: {
      state: event['Channel-State'] ?? 'CS_REPORTING',
      direction: event['Call-Direction'] ?? 'outbound',
      state_number: event['Channel-State-Number'] ?? '11',
    },
    variables,
    ...(lastApp ? { app_log: { applications: [{ app_name: lastApp, app_data: '' }] } } : {}),
    callflow: [
      {
        dialplan: 'XML',
        profile_index: event['Caller-Profile-Index'] ?? '1',
        caller_profile: profile,
        times,
      },
    ],
  });
}
