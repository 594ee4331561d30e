/**
 * FreeSWITCH answers the commands of one socket strictly in order, so replies are matched to
 * commands first-in first-out. A command that times out keeps its slot, marked abandoned: when its
 * late reply arrives it is consumed and dropped, so it can never be taken as the answer to the next
 * command (the alternative, dropping the connection on every timeout, would cut the event stream of
 * every call on the socket for one slow `api`). If too many slots are abandoned the switch is not
 * answering at all; the owner then drops the connection (see `abandonedCount`).
 */
import { EslProtocolError, EslTimeoutError } from './errors.js';
import type { CommandReply } from './message.js';

/** Which reply a command expects: `api` gets api/response, every other command a command/reply. */
export type ReplyKind = 'api/response' | 'command/reply';

export type Reply = { kind: 'api/response'; body: string } | { kind: 'command/reply'; reply: CommandReply };

interface Slot {
  readonly kind: ReplyKind;
  readonly label: string;
  settle: ((outcome: { reply: Reply } | { error: Error }) => void) | undefined;
  timer: NodeJS.Timeout | undefined;
}

export class ReplyQueue {
  /** Slots in send order; consumed ones before #head are cleared to undefined. */
  readonly #slots: (Slot | undefined)[] = [];
  #head = 0;
  #abandoned = 0;

  get pendingCount(): number {
    return this.#slots.length - this.#head - this.#abandoned;
  }

  get abandonedCount(): number {
    return this.#abandoned;
  }

  /** Reserves the next reply; the returned promise settles with it, a timeout, or rejectAll. */
  expect(kind: ReplyKind, label: string, timeoutMs: number, onTimeout: () => void): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      const slot: Slot = {
        kind,
        label,
        settle: (outcome) => ('reply' in outcome ? resolve(outcome.reply) : reject(outcome.error)),
        timer: undefined,
      };
      slot.timer = setTimeout(() => {
        const settle = slot.settle;
        if (!settle) return;
        slot.settle = undefined;
        this.#abandoned++;
        settle({ error: new EslTimeoutError(`no reply to ${label} within ${timeoutMs} ms`) });
        onTimeout();
      }, timeoutMs);
      this.#slots.push(slot);
    });
  }

  /**
   * Routes a reply to the oldest slot. A reply nobody asked for, or of the wrong kind, means we and
   * the switch disagree about the conversation: a desync, so EslProtocolError (connection-fatal).
   */
  deliver(reply: Reply): void {
    const slot = this.#slots[this.#head];
    if (slot === undefined) throw new EslProtocolError(`unexpected ${reply.kind} with no command waiting`);
    if (slot.kind !== reply.kind) {
      throw new EslProtocolError(`expected ${slot.kind} for ${slot.label}, got ${reply.kind}`);
    }
    this.#shift();
    if (slot.timer) clearTimeout(slot.timer);
    if (slot.settle) {
      const settle = slot.settle;
      slot.settle = undefined;
      settle({ reply });
    } else {
      this.#abandoned--;
    }
  }

  /** Fails every waiting command with `error` and forgets every slot (the connection is gone). */
  rejectAll(error: Error): void {
    const slots = this.#slots.splice(0);
    const head = this.#head;
    this.#head = 0;
    this.#abandoned = 0;
    for (let i = head; i < slots.length; i++) {
      const slot = slots[i];
      if (!slot) continue;
      if (slot.timer) clearTimeout(slot.timer);
      const settle = slot.settle;
      slot.settle = undefined;
      settle?.({ error });
    }
  }

  #shift(): void {
    this.#slots[this.#head] = undefined;
    this.#head++;
    // Compact once the consumed prefix dominates, keeping shift O(1) amortised.
    if (this.#head > 64 && this.#head * 2 > this.#slots.length) {
      this.#slots.splice(0, this.#head);
      this.#head = 0;
    }
  }
}
