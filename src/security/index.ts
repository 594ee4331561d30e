export * from './api-key-file.js';
export * from './api-keys.js';
export * from './audit-chain.js';
export * from './key-rotation.js';
export * from './number-vault.js';
export * from './rbac.js';
