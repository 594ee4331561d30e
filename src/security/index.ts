export * from './number-vault.js';
