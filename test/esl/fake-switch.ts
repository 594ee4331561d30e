/**
 * A real TCP server that answers an ESL client with bytes recorded from FreeSWITCH 1.10.
 *
 * A fixture is cut into groups: the S->C bytes FreeSWITCH sent after each C->S command, up to the
 * next command. When the client sends a command, the server replays the first unused group whose
 * recorded command is byte-identical. A bgapi that carries our own `Job-UUID:` line also matches a
 * recorded bgapi without it; the recorded job id is then replaced by ours in the replayed bytes
 * (ids of equal length only, so every Content-Length stays true). Session commands that the
 * recording does not contain (auth, event, filter, exit) get the answers FreeSWITCH gives to them
 * (fixtures 01, 02, 40–42). Anything else is answered `-ERR unscripted` (as api/response for `api`).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { readTranscript, serverStream } from '../support/esl-fixtures.js';

export interface FixtureGroup {
  readonly command: string;
  readonly replies: Buffer;
}

export interface FixtureScript {
  readonly greeting: Buffer;
  readonly groups: readonly FixtureGroup[];
}

export function fixtureScript(fixture: string, connection = 'A'): FixtureScript {
  const records = readTranscript(fixture).filter((r) => r.connection === connection);
  const greeting: Buffer[] = [];
  const groups: { command: string; replies: Buffer[] }[] = [];
  for (const record of records) {
    if (record.direction === 'C->S') groups.push({ command: record.bytes.toString('latin1'), replies: [] });
    else if (record.direction === 'S->C') (groups.at(-1)?.replies ?? greeting).push(record.bytes);
  }
  return {
    greeting: Buffer.concat(greeting),
    groups: groups.map((g) => ({ command: g.command, replies: Buffer.concat(g.replies) })),
  };
}

const AUTH_REQUEST = 'Content-Type: auth/request\n\n';
const reply = (text: string) => `Content-Type: command/reply\nReply-Text: ${text}\n\n`;
const BYE = serverStream(readTranscript('01-auth-ok.txt'), 'A').subarray(28 + 54);
const AUTH_REFUSED = serverStream(readTranscript('02-auth-wrong-password.txt'), 'A').subarray(28);

export interface Peer {
  readonly socket: Socket;
  /** Complete commands received, in order, each ending "\n\n". */
  readonly commands: string[];
  send(bytes: Buffer | string): void;
}

export interface FakeSwitchOptions {
  /** Fixture groups to replay (shared by all connections, each group used once). */
  script?: FixtureScript;
  password?: string;
  /** Overrides the answer to a command; return true when handled. */
  onCommand?: (command: string, peer: Peer) => boolean;
  /** When false the server does not send auth/request on connect. */
  greet?: boolean;
}

export class FakeSwitch {
  readonly peers: Peer[] = [];
  readonly #server: Server;
  readonly #options: FakeSwitchOptions;
  readonly #used = new Set<FixtureGroup>();
  readonly #waiters = new Set<() => void>();

  private constructor(server: Server, options: FakeSwitchOptions) {
    this.#server = server;
    this.#options = options;
  }

  static async start(options: FakeSwitchOptions = {}): Promise<FakeSwitch> {
    const server = createServer();
    const fake = new FakeSwitch(server, options);
    server.on('connection', (socket) => fake.#accept(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get port(): number {
    const address = this.#server.address();
    if (address === null || typeof address === 'string') throw new Error('not listening');
    return address.port;
  }

  /** Every command received on every connection. */
  get commands(): string[] {
    return this.peers.flatMap((p) => p.commands);
  }

  /** Resolves once `condition()` holds, re-checked after every command and connection. */
  until(condition: () => boolean): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (condition()) {
          this.#waiters.delete(check);
          resolve();
        }
      };
      this.#waiters.add(check);
    });
  }

  async close(): Promise<void> {
    for (const peer of this.peers) peer.socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #notify(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  #accept(socket: Socket): void {
    const peer: Peer = {
      socket,
      commands: [],
      send: (bytes) => {
        if (!socket.destroyed) socket.write(bytes);
      },
    };
    this.peers.push(peer);
    socket.on('error', () => {});
    if (this.#options.greet !== false)
      peer.send(this.#options.script?.greeting.length ? this.#options.script.greeting : AUTH_REQUEST);
    let pending = '';
    socket.on('data', (chunk) => {
      pending += chunk.toString('latin1');
      for (let end = pending.indexOf('\n\n'); end !== -1; end = pending.indexOf('\n\n')) {
        const command = pending.slice(0, end + 2);
        pending = pending.slice(end + 2);
        peer.commands.push(command);
        this.#answer(command, peer);
      }
      this.#notify();
    });
    this.#notify();
  }

  #answer(command: string, peer: Peer): void {
    if (this.#options.onCommand?.(command, peer)) return;
    const replayed = this.#replay(command);
    if (replayed) {
      peer.send(replayed);
      return;
    }
    const [line = ''] = command.split('\n');
    const [verb, ...rest] = line.split(' ');
    switch (verb) {
      case 'auth':
        if (rest.join(' ') === (this.#options.password ?? 'ClueCon')) peer.send(reply('+OK accepted'));
        else {
          peer.send(AUTH_REFUSED);
          peer.socket.end();
        }
        return;
      case 'event':
        peer.send(reply(`+OK event listener enabled ${rest[0]}`));
        return;
      case 'filter':
        if (rest[0] === 'delete')
          peer.send(reply(`+OK filter deleted. [${rest[1]}][${rest.slice(2).join(' ')}]`));
        else peer.send(reply(`+OK filter added. [${rest[0]}]=[${rest.slice(1).join(' ')}]`));
        return;
      case 'exit':
        peer.send(BYE);
        peer.socket.end();
        return;
      case 'api': {
        const body = '-ERR unscripted\n';
        peer.send(`Content-Type: api/response\nContent-Length: ${body.length}\n\n${body}`);
        return;
      }
      default:
        peer.send(reply('-ERR unscripted'));
    }
  }

  #replay(command: string): Buffer | undefined {
    const groups = this.#options.script?.groups ?? [];
    const exact = groups.find((g) => !this.#used.has(g) && g.command === command);
    if (exact) {
      this.#used.add(exact);
      return exact.replies;
    }
    const withJob = /^(bgapi [^\n]*)\nJob-UUID: ([^\n]*)\n\n$/.exec(command);
    if (!withJob) return undefined;
    const plain = groups.find((g) => !this.#used.has(g) && g.command === `${withJob[1]}\n\n`);
    if (!plain) return undefined;
    this.#used.add(plain);
    const recorded = /Job-UUID: ([^\n]+)/.exec(plain.replies.toString('latin1'))?.[1];
    const ours = withJob[2]!;
    if (recorded === undefined || recorded.length !== ours.length) return plain.replies;
    return Buffer.from(plain.replies.toString('latin1').replaceAll(recorded, ours), 'latin1');
  }
}
