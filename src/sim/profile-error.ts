/** A simulator profile (carrier models, sofia profiles) that cannot describe a switch. */
export class SimProfileError extends Error {
  override readonly name = 'SimProfileError';
}
