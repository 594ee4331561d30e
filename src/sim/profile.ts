/**
 * Carrier models: how each gateway's far end behaves, and optionally the sofia profiles the gateways
 * sit on (sofia-profiles.ts). Validated, because profiles come from files.
 */
import { type LoadedModule, parseLoadedModules } from './loaded-modules.js';
import { SimProfileError } from './profile-error.js';
import { parseSofiaProfiles, type SofiaProfile } from './sofia-profiles.js';

export interface Range {
  minMs: number;
  maxMs: number;
}

export interface CarrierModel {
  /** Probabilities, sum <= 1; any remainder counts as answer. */
  answer: number;
  busy: number;
  noAnswer: number;
  invalid: number;
  congestion: number;
  /** From INVITE to answer, busy, reject (sim time). */
  ringMs: Range;
  /** Answered calls: the callee hangs up (remote BYE, NORMAL_CLEARING) after this (sim time). */
  talkMs: Range;
  /** The carrier's own call attempts per (real) second; above it the carrier answers 503. */
  capsLimit?: number;
  /** Sim-time windows, relative to sim start, during which the trunk is dead. */
  outages?: Array<{ fromMs: number; toMs: number }>;
}

export interface SimProfile {
  gateways: Record<string, CarrierModel>;
  /** What `sofia status` reports; default: every gateway on `external` (defaultSofiaProfiles). */
  sofia?: SofiaProfile[];
  /**
   * The loaded modules, in the order a shutdown unloads them (its MODULE_UNLOAD events); default:
   * those of the recorded vanilla 1.10.12 build (VANILLA_1_10_12_MODULES).
   */
  modules?: LoadedModule[];
}

export { SimProfileError };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function probability(model: Record<string, unknown>, field: string, where: string): number {
  const value = model[field] ?? 0;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new SimProfileError(`${where}.${field} must be a probability between 0 and 1`);
  }
  return value;
}

function range(model: Record<string, unknown>, field: string, where: string): Range {
  const value = model[field];
  if (!isRecord(value)) throw new SimProfileError(`${where}.${field} must be an object {minMs, maxMs}`);
  const { minMs, maxMs } = value;
  if (typeof minMs !== 'number' || typeof maxMs !== 'number' || minMs < 0 || maxMs < minMs) {
    throw new SimProfileError(`${where}.${field} must have 0 <= minMs <= maxMs`);
  }
  return { minMs, maxMs };
}

function carrierModel(value: unknown, where: string): CarrierModel {
  if (!isRecord(value)) throw new SimProfileError(`${where} must be an object`);
  const model: CarrierModel = {
    answer: probability(value, 'answer', where),
    busy: probability(value, 'busy', where),
    noAnswer: probability(value, 'noAnswer', where),
    invalid: probability(value, 'invalid', where),
    congestion: probability(value, 'congestion', where),
    ringMs: range(value, 'ringMs', where),
    talkMs: range(value, 'talkMs', where),
  };
  const sum = model.answer + model.busy + model.noAnswer + model.invalid + model.congestion;
  if (sum > 1 + 1e-9) throw new SimProfileError(`${where}: probabilities sum to ${sum}, more than 1`);
  if (value.capsLimit !== undefined) {
    if (typeof value.capsLimit !== 'number' || !Number.isInteger(value.capsLimit) || value.capsLimit < 1) {
      throw new SimProfileError(`${where}.capsLimit must be a positive integer`);
    }
    model.capsLimit = value.capsLimit;
  }
  if (value.outages !== undefined) {
    if (!Array.isArray(value.outages)) throw new SimProfileError(`${where}.outages must be an array`);
    model.outages = value.outages.map((outage, i) => {
      const at = `${where}.outages[${i}]`;
      if (!isRecord(outage)) throw new SimProfileError(`${at} must be an object {fromMs, toMs}`);
      const { fromMs, toMs } = outage;
      if (typeof fromMs !== 'number' || typeof toMs !== 'number' || fromMs < 0 || toMs < fromMs) {
        throw new SimProfileError(`${at} must have 0 <= fromMs <= toMs`);
      }
      return { fromMs, toMs };
    });
  }
  return model;
}

export function parseSimProfile(json: unknown): SimProfile {
  if (!isRecord(json)) throw new SimProfileError('profile must be an object');
  if (!isRecord(json.gateways)) throw new SimProfileError('profile.gateways must be an object');
  const gateways: Record<string, CarrierModel> = {};
  for (const [name, model] of Object.entries(json.gateways)) {
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) {
      throw new SimProfileError(`profile.gateways: gateway name "${name}" must be letters, digits, _ . -`);
    }
    gateways[name] = carrierModel(model, `profile.gateways.${name}`);
  }
  if (Object.keys(gateways).length === 0)
    throw new SimProfileError('profile.gateways must name at least one gateway');
  const profile: SimProfile = { gateways };
  if (json.sofia !== undefined) profile.sofia = parseSofiaProfiles(json.sofia, Object.keys(gateways));
  if (json.modules !== undefined) profile.modules = parseLoadedModules(json.modules);
  return profile;
}

const RING: Range = { minMs: 2_000, maxMs: 12_000 };
const TALK: Range = { minMs: 5_000, maxMs: 60_000 };

export const DEFAULT_SIM_PROFILE: SimProfile = {
  gateways: {
    carrier1: {
      answer: 0.55,
      busy: 0.15,
      noAnswer: 0.2,
      invalid: 0.05,
      congestion: 0.05,
      ringMs: RING,
      talkMs: TALK,
    },
    carrier2: {
      answer: 0.45,
      busy: 0.2,
      noAnswer: 0.2,
      invalid: 0.1,
      congestion: 0.05,
      ringMs: RING,
      talkMs: TALK,
    },
    carrier3: {
      answer: 0.6,
      busy: 0.1,
      noAnswer: 0.15,
      invalid: 0.05,
      congestion: 0.1,
      ringMs: { minMs: 3_000, maxMs: 15_000 },
      talkMs: TALK,
      capsLimit: 50,
    },
  },
};
