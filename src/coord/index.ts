export * from './cluster-contract.js';
export * from './contract.js';
export {
  CoordClosedError,
  CoordError,
  type CoordErrorCode,
  CoordInvalidInputError,
  CoordProtocolError,
  CoordRemoteError,
  CoordTimeoutError,
} from './coord-errors.js';
export {
  createMemoryCoordination,
  type MemoryCoordination,
  type MemoryCoordinationOptions,
} from './memory-coordination.js';
export { MemoryDialSlots } from './memory-dial-slots.js';
export { MemoryRateLimits } from './memory-rate-limits.js';
export * from './rate-limits.js';
export { createRedisCoordination, type RedisCoordinationOptions } from './redis-coordination.js';
export { RedisKeys } from './redis-keys.js';
export type { CoordLogger } from './stream-bus.js';
export { switchVerdict } from './switch-verdict.js';
