export * from './contract.js';
export { openSqliteStore } from './sqlite/index.js';
