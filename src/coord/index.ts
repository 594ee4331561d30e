export * from './contract.js';
export { MemoryDialSlots } from './memory-dial-slots.js';
