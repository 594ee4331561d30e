import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MinHeap } from '../../src/scheduler/heap.js';

describe('MinHeap', () => {
  it('pops in order under any mix of pushes, pops and removals (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant('push' as const), value: fc.integer({ min: -50, max: 50 }) }),
            fc.record({ op: fc.constant('pop' as const) }),
            fc.record({ op: fc.constant('remove' as const), value: fc.integer({ min: -50, max: 50 }) }),
          ),
          { maxLength: 300 },
        ),
        (ops) => {
          const heap = new MinHeap<number>((a, b) => a < b);
          let reference: number[] = [];
          for (const step of ops) {
            if (step.op === 'push') {
              heap.push(step.value);
              reference.push(step.value);
            } else if (step.op === 'pop') {
              reference.sort((a, b) => a - b);
              expect(heap.pop()).toBe(reference.shift());
            } else {
              heap.removeWhere((v) => v === step.value);
              reference = reference.filter((v) => v !== step.value);
            }
            expect(heap.size).toBe(reference.length);
            expect(heap.peek()).toBe(reference.length > 0 ? Math.min(...reference) : undefined);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
