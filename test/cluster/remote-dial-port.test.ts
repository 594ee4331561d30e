import { describe, expect, it } from 'vitest';
import { RemoteDialPort } from '../../src/cluster/remote-dial-port.js';
import { createMemoryCoordination } from '../../src/coord/memory-coordination.js';

/** The leader's books of which worker follows which call: by attempt, so no word counts twice or is lost for ever. */
describe('RemoteDialPort books', () => {
  const live = (...ids: string[]) =>
    new Map(ids.map((id) => [id, { maxCalls: 3, activeCalls: 0, readySwitches: ['sw1'] }]));

  function makePort() {
    const coord = createMemoryCoordination();
    return new RemoteDialPort(
      coord.bus,
      () => 1,
      () => {},
    );
  }

  it('fills the worker with the most room, never past its maxCalls, and counts a repeated word once', () => {
    const port = makePort();
    port.setLiveWorkers(live('w1', 'w2'));
    const assigned = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'].map((id) => port.assignWorker('sw1', id));
    expect(assigned.filter((w) => w === 'w1')).toHaveLength(3);
    expect(assigned.filter((w) => w === 'w2')).toHaveLength(3);
    expect(port.assignWorker('sw1', 'a7')).toBeUndefined();
    expect(port.assignWorker('sw2', 'a8')).toBeUndefined(); // nobody reaches sw2
    port.noteEnded('a1');
    port.noteEnded('a1'); // a repeated (or late) ended word
    expect(port.spareCapacity()).toBe(1);
    port.assignmentDropped('a2');
    expect(port.spareCapacity()).toBe(2);
  });

  it('moves the calls of a gone worker to their adopter, and takes the store’s word where a message was lost', () => {
    const port = makePort();
    port.setLiveWorkers(live('w1', 'w2'));
    for (const id of ['a1', 'a2']) port.noteFollowing('w1', id);
    port.noteFollowing('w2', 'a3');
    port.setLiveWorkers(live('w2')); // w1 is gone; its calls stay on the books until adopted
    port.noteAdopted('w2', ['a1']);
    expect(port.spareCapacity()).toBe(1); // w2 follows a1 and a3; a2 is still w1's (not live)
    // The adoption of a2 was never heard, and a3 ended without word: the store tells.
    port.reconcile(
      new Map([
        ['a1', 'w2'],
        ['a2', 'w2'],
      ]),
      ['a3'],
    );
    expect(port.spareCapacity()).toBe(1); // a1 and a2 on w2
    // w1 comes back: it holds nothing any more.
    port.setLiveWorkers(live('w1', 'w2'));
    expect(port.spareCapacity()).toBe(4);
  });
});
