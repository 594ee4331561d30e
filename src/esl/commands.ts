/**
 * Layer 4: commands as typed values rendered to wire text. Every renderer validates its inputs
 * (wire-safety.ts) before producing text, so the connection layer only ever writes what came out of
 * here. Each rendering ends with the blank line that terminates an ESL command.
 */
import { EslInputError } from './errors.js';
import type { EslEventFormat } from './options.js';
import type { ReplyKind } from './reply-queue.js';
import {
  assertAppName,
  assertChannelUuid,
  assertHangupCause,
  assertHeaderName,
  assertJobUuid,
  assertSingleLine,
} from './wire-safety.js';

export interface WireCommand {
  readonly wire: string;
  /** api gets an api/response; every other command a command/reply. */
  readonly replyKind: ReplyKind;
}

export interface SendmsgMessage {
  callCommand: 'execute' | 'hangup';
  appName?: string;
  appArg?: string;
  hangupCause?: string;
}

const SESSION_COMMANDS: ReadonlySet<string> = new Set([
  'event',
  'filter',
  'nixevent',
  'noevents',
  'myevents',
  'linger',
  'nolinger',
  'exit',
  'divert_events',
]);
const EVENT_NAME = /^[A-Za-z0-9_:]{1,128}$/;

const reply = (wire: string): WireCommand => ({ wire, replyKind: 'command/reply' });

export function renderAuth(password: string): WireCommand {
  assertPassword(password);
  return reply(`auth ${password}\n\n`);
}

export function assertPassword(password: string): void {
  assertSingleLine(password, 'password');
  if (password.includes(' ')) throw new EslInputError('password must not contain spaces');
}

export function assertEventNames(names: readonly string[]): void {
  for (const name of names) {
    if (!EVENT_NAME.test(name)) throw new EslInputError(`invalid event name ${JSON.stringify(name)}`);
  }
}

const EVENT_FORMATS: ReadonlySet<string> = new Set<EslEventFormat>(['plain', 'json', 'xml']);

export function renderEventSubscription(format: EslEventFormat, names: readonly string[]): WireCommand {
  // Options may come from configuration files, past the type checker.
  if (!EVENT_FORMATS.has(format)) throw new EslInputError(`invalid event format ${JSON.stringify(format)}`);
  assertEventNames(names);
  if (names.length === 0) throw new EslInputError('no event names to subscribe');
  return reply(`event ${format} ${names.join(' ')}\n\n`);
}

export function renderApi(command: string): WireCommand {
  assertSingleLine(command, 'api command');
  return { wire: `api ${command}\n\n`, replyKind: 'api/response' };
}

/** bgapi with our own Job-UUID header (honoured by FreeSWITCH, fixture 29). */
export function renderBgapi(command: string, jobUuid: string): WireCommand {
  assertSingleLine(command, 'bgapi command');
  assertJobUuid(jobUuid);
  return reply(`bgapi ${command}\nJob-UUID: ${jobUuid}\n\n`);
}

export function renderSessionCommand(line: string): WireCommand {
  assertSingleLine(line, 'command');
  const verb = line.split(' ', 1)[0]!;
  if (!SESSION_COMMANDS.has(verb)) {
    throw new EslInputError(
      `command() accepts session commands only, not ${JSON.stringify(verb.slice(0, 32))}`,
    );
  }
  return reply(`${line}\n\n`);
}

export function assertFilter(header: string, value: string): void {
  assertHeaderName(header);
  assertSingleLine(value, 'filter value');
  if (header === 'delete') throw new EslInputError('use filterDelete() to delete filters');
}

export function renderFilter(header: string, value: string): WireCommand {
  assertFilter(header, value);
  return reply(`filter ${header} ${value}\n\n`);
}

export function renderFilterDelete(header: string, value?: string): WireCommand {
  assertHeaderName(header);
  if (value === undefined) return reply(`filter delete ${header}\n\n`);
  assertSingleLine(value, 'filter value');
  return reply(`filter delete ${header} ${value}\n\n`);
}

export function renderSendmsg(uuid: string, message: SendmsgMessage): WireCommand {
  assertChannelUuid(uuid);
  const lines = [`sendmsg ${uuid}`, `call-command: ${message.callCommand}`];
  if (message.callCommand === 'execute') {
    if (message.appName === undefined) throw new EslInputError('sendmsg execute needs appName');
    assertAppName(message.appName);
    lines.push(`execute-app-name: ${message.appName}`);
    if (message.appArg !== undefined && message.appArg !== '') {
      assertSingleLine(message.appArg, 'execute-app-arg');
      lines.push(`execute-app-arg: ${message.appArg}`);
    }
  } else if (message.callCommand === 'hangup') {
    const cause = message.hangupCause ?? 'NORMAL_CLEARING';
    assertHangupCause(cause);
    lines.push(`hangup-cause: ${cause}`);
  } else {
    throw new EslInputError('callCommand must be execute or hangup');
  }
  return reply(`${lines.join('\n')}\n\n`);
}
