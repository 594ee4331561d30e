/**
 * Compiles the recorded call scripts (recorded-call-scripts.ts) once, at load, into flat part
 * lists: literal text interleaved with per-call value slots. Firing an event is then a single
 * pass of string concatenation, with no header objects allocated per call.
 */
import type { RecordedScript, RecordedStep } from './call-script-types.js';
import { urlEncode } from './encoder.js';
import { type EventOrigin, jsonHeaders, originHeaders, plainHeaders, type SimEvent } from './event.js';
import { xmlFromPlain } from './event-xml.js';
import * as recorded from './recorded-call-scripts.js';

const USER_VARS_MARKER = '{USER_VARS}';
const slotIndex = new Map<string, number>();
/** Slot number used for the originate `{…}` variables block. */
const USER_VARS_SLOT = -1;

function slotOf(name: string): number {
  let index = slotIndex.get(name);
  if (index === undefined) {
    index = slotIndex.size;
    slotIndex.set(name, index);
  }
  return index;
}

type Part = string | number;
/** A value as written in the recordings: URL-encoded literals around `{slot}` references. */
interface ValueProgram {
  plain: Part[];
  json: Part[];
  raw: Part[];
}

function compileValue(spec: string): ValueProgram {
  const program: ValueProgram = { plain: [], json: [], raw: [] };
  for (const piece of spec.split(/(\{[a-z_0-9]+\})/)) {
    if (piece === '') continue;
    if (piece.startsWith('{') && piece.endsWith('}')) {
      const slot = slotOf(piece.slice(1, -1));
      program.plain.push(slot);
      program.json.push(slot);
      program.raw.push(slot);
    } else {
      const raw = decodeURIComponent(piece);
      program.plain.push(piece);
      program.json.push(JSON.stringify(raw).slice(1, -1));
      program.raw.push(raw);
    }
  }
  return program;
}

export interface CompiledStep {
  readonly event: string;
  readonly calledFrom: readonly [string, string, string];
  readonly plain: readonly Part[];
  readonly json: readonly Part[];
  readonly lookup: ReadonlyMap<string, ValueProgram>;
  /** Whether the originate `{…}` variables appear in this event (only with the variable list). */
  readonly hasUserVars: boolean;
}
export type CompiledScript = ReadonlyArray<CompiledStep | 'BACKGROUND_JOB'>;

function splitHeader(line: string): [string, string] {
  const at = line.indexOf(': ');
  return [line.slice(0, at), line.slice(at + 2)];
}

function pushParts(target: Part[], parts: readonly Part[]): void {
  for (const part of parts) {
    const last = target.length - 1;
    if (typeof part === 'string' && last >= 0 && typeof target[last] === 'string') {
      target[last] = (target[last] as string) + part;
    } else target.push(part);
  }
}

function compileStep(step: RecordedStep, vars: readonly [string, string][]): CompiledStep {
  const headers: [string, string][] = (recorded.HEAD_BLOCKS[step.head] ?? []).map(splitHeader);
  if (step.vars) headers.push(...vars);
  if (step.tail) headers.push(...(recorded.HEAD_BLOCKS[step.tail] ?? []).map(splitHeader));
  const plain: Part[] = [];
  const json: Part[] = [];
  const lookup = new Map<string, ValueProgram>();
  for (const [name, spec] of headers) {
    if (name === USER_VARS_MARKER) {
      pushParts(plain, [USER_VARS_SLOT]);
      pushParts(json, [USER_VARS_SLOT]);
      continue;
    }
    const value = compileValue(spec);
    if (!lookup.has(name.toLowerCase())) lookup.set(name.toLowerCase(), value);
    pushParts(plain, [`${name}: `, ...value.plain, '\n']);
    pushParts(json, [`,${JSON.stringify(name)}:"`, ...value.json, '"']);
  }
  const hasUserVars = headers.some(([name]) => name === USER_VARS_MARKER);
  return { event: step.event, calledFrom: step.calledFrom, plain, json, lookup, hasUserVars };
}

/** Compiles a script whose variable operations apply on top of `parentVars`. */
function compileScript(script: RecordedScript, parentVars: readonly [string, string][]) {
  let vars = parentVars;
  const steps = script.map((step) => {
    if (step === 'BACKGROUND_JOB') return step;
    if (step.vars) {
      const removed = new Set([...step.vars.del, ...step.vars.set.map(([n]) => n)]);
      vars = [...vars.filter(([n]) => !removed.has(n)), ...step.vars.set];
    }
    return compileStep(step, vars);
  });
  return { steps: steps as CompiledScript, vars };
}

const setup = compileScript(recorded.SETUP, []);
const ringing = compileScript(recorded.RINGING, setup.vars);
const answer = compileScript(recorded.ANSWER, ringing.vars);

/** Event sequences per call stage, in the order FreeSWITCH 1.10.12 fires them (fixtures 20–23, 60, 90). */
export const CALL_SCRIPTS = {
  setup: setup.steps,
  ringing: ringing.steps,
  answer: answer.steps,
  remoteBye: compileScript(recorded.REMOTE_BYE, answer.vars).steps,
  killAfterAnswer: compileScript(recorded.KILL_AFTER_ANSWER, answer.vars).steps,
  /** fsctl shutdown (fixture 90): unlike a kill, its state events carry the variables. */
  shutdownAfterAnswer: compileScript(recorded.SHUTDOWN_AFTER_ANSWER, answer.vars).steps,
  refused: compileScript(recorded.REFUSED, setup.vars).steps,
  noAnswer: compileScript(recorded.NO_ANSWER, ringing.vars).steps,
  invalidGateway: compileScript(recorded.INVALID_GATEWAY, []).steps,
} as const;

/** Per-call values for the `{slots}` of the scripts, kept in the three forms rendering needs. */
export class CallValues {
  private readonly plainValues: string[] = [];
  private readonly jsonValues: string[] = [];
  private readonly rawValues: string[] = [];
  private userVarsPlain = '';
  private userVarsJson = '';
  private userVars: ReadonlyMap<string, string> = new Map();

  set(name: string, raw: string): void {
    const slot = slotOf(name);
    this.rawValues[slot] = raw;
    this.plainValues[slot] = urlEncode(raw);
    this.jsonValues[slot] = JSON.stringify(raw).slice(1, -1);
  }

  get(name: string): string | undefined {
    return this.rawValues[slotOf(name)];
  }

  setUserVars(vars: ReadonlyMap<string, string>): void {
    this.userVars = vars;
    const pairs = [...vars].map(([n, v]): [string, string] => [`variable_${n}`, v]);
    this.userVarsPlain = plainHeaders(pairs);
    this.userVarsJson = pairs.length ? `,${jsonHeaders(pairs)}` : '';
  }

  render(parts: readonly Part[], form: 'plain' | 'json' | 'raw'): string {
    const values = form === 'plain' ? this.plainValues : form === 'json' ? this.jsonValues : this.rawValues;
    let out = '';
    for (const part of parts) {
      if (typeof part === 'string') out += part;
      else if (part === USER_VARS_SLOT) out += form === 'plain' ? this.userVarsPlain : this.userVarsJson;
      else out += values[part] ?? '';
    }
    return out;
  }

  userVar(name: string): string | undefined {
    return this.userVars.get(name);
  }
}

/**
 * A channel event: the recorded header layout with this call's values. Rendering is lazy (no
 * subscriber, no cost) and therefore only valid while the event is being fired: the node hands it
 * to every socket synchronously and nothing keeps it afterwards, since the call's values move on.
 */
export class ChannelEvent implements SimEvent {
  readonly name: string;
  private readonly origin: [string, string][];
  private plainText: string | undefined;
  private jsonText: string | undefined;
  private xmlText: string | undefined;
  private readonly lookupCache = new Map<string, string | undefined>();

  constructor(
    private readonly step: CompiledStep,
    private readonly values: CallValues,
    origin: EventOrigin,
    readonly uniqueId: string,
  ) {
    this.name = step.event;
    this.origin = originHeaders(step.event, origin);
  }

  header(name: string): string | undefined {
    const lower = name.toLowerCase();
    if (this.lookupCache.has(lower)) return this.lookupCache.get(lower);
    let value = this.origin.find(([n]) => n.toLowerCase() === lower)?.[1];
    if (value === undefined) {
      const program = this.step.lookup.get(lower);
      if (program) value = this.values.render(program.raw, 'raw');
      else if (this.step.hasUserVars && lower.startsWith('variable_'))
        value = this.values.userVar(name.slice('variable_'.length));
    }
    this.lookupCache.set(lower, value);
    return value;
  }

  plain(): string {
    this.plainText ??= `${plainHeaders(this.origin)}${this.values.render(this.step.plain, 'plain')}\n`;
    return this.plainText;
  }

  json(): string {
    this.jsonText ??= `{${jsonHeaders(this.origin)}${this.values.render(this.step.json, 'json')}}`;
    return this.jsonText;
  }

  xml(): string {
    this.xmlText ??= xmlFromPlain(this.plain());
    return this.xmlText;
  }
}
