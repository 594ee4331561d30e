/**
 * The far end of a gateway: decides, with the seeded generator, how each call attempt ends.
 * One Carrier per gateway name, shared by all nodes: a carrier's CAPS limit counts attempts from
 * every switch, as a real one does.
 */
import { SIP_REFUSALS, type SipRefusal } from './causes.js';
import type { CarrierModel, Range } from './profile.js';
import type { SeededRandom } from './random.js';

export type CarrierVerdict =
  | { kind: 'answer'; ringMs: number; talkMs: number }
  | { kind: 'noAnswer' }
  | { kind: 'refuse'; afterMs: number; refusal: SipRefusal };

/** sofia's timer B (64 × T1 of 500 ms): an INVITE to a dead trunk gives up with 408 after this. */
const DEAD_TRUNK_TIMEOUT_MS = 32_000;
/** How long a carrier over its CAPS takes to answer 503: at once, a network round trip. */
const CAPS_REJECT_MS = 20;

export class Carrier {
  private capsSecond = -1;
  private capsCount = 0;

  constructor(
    private readonly model: CarrierModel,
    private readonly random: SeededRandom,
  ) {}

  private draw(range: Range): number {
    return this.random.between(range.minMs, range.maxMs);
  }

  /** `simNowMs`: sim time since start (for outages); `realNowMs`: wall clock (for CAPS). */
  decide(simNowMs: number, realNowMs: number): CarrierVerdict {
    if (this.model.outages?.some((o) => simNowMs >= o.fromMs && simNowMs < o.toMs)) {
      return { kind: 'refuse', afterMs: DEAD_TRUNK_TIMEOUT_MS, refusal: SIP_REFUSALS.timeout };
    }
    if (this.model.capsLimit !== undefined) {
      const second = Math.floor(realNowMs / 1000);
      if (second !== this.capsSecond) {
        this.capsSecond = second;
        this.capsCount = 0;
      }
      if (++this.capsCount > this.model.capsLimit) {
        return { kind: 'refuse', afterMs: CAPS_REJECT_MS, refusal: SIP_REFUSALS.unavailable };
      }
    }
    const r = this.random.next();
    const ringMs = this.draw(this.model.ringMs);
    const { busy, noAnswer, invalid, congestion } = this.model;
    if (r < busy) return { kind: 'refuse', afterMs: ringMs, refusal: SIP_REFUSALS.busy };
    if (r < busy + noAnswer) return { kind: 'noAnswer' };
    if (r < busy + noAnswer + invalid)
      return { kind: 'refuse', afterMs: ringMs, refusal: SIP_REFUSALS.notFound };
    if (r < busy + noAnswer + invalid + congestion) {
      return { kind: 'refuse', afterMs: ringMs, refusal: SIP_REFUSALS.unavailable };
    }
    return { kind: 'answer', ringMs, talkMs: this.draw(this.model.talkMs) };
  }
}
