export * from './destination-policy.js';
export * from './dial-template.js';
export * from './task-intake.js';
export * from './timestamps.js';
