export * from './api-key-file.js';
export * from './number-vault.js';
