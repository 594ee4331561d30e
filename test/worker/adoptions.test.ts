import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.js';
import type { Store } from '../../src/store/contract.js';
import { Adoptions } from '../../src/worker/adoptions.js';
import type { Worker } from '../../src/worker/worker.js';

/** A store whose takeover waits until the test lets it through (an adoption under way). */
function slowTakeover() {
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let takeovers = 0;
  const store = {
    dispatch: {
      takeOver: async () => {
        takeovers++;
        await gate;
        return [];
      },
    },
  } as unknown as Store;
  return { store, release, takeovers: () => takeovers };
}

describe('Adoptions', () => {
  it('stops only after the adoption under way is done, and adopts nothing once stopping', async () => {
    const { store, release, takeovers } = slowTakeover();
    const adoptions = new Adoptions({
      store,
      worker: { workerId: 'w1' } as Worker,
      logger: createLogger('silent'),
    });
    const first = adoptions.adopt('w9');
    let stopped = false;
    const stopping = adoptions.stop().then(() => {
      stopped = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);
    release();
    expect(await first).toEqual([]);
    await stopping;
    expect(stopped).toBe(true);
    expect(await adoptions.adopt('w8')).toEqual([]);
    expect(takeovers()).toBe(1);
  });
});
