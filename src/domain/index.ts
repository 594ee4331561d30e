export * from './attempt.js';
export * from './ids.js';
export * from './outcome.js';
export * from './phone-number.js';
export * from './retry-policy.js';
export * from './state-machine.js';
export * from './task.js';
