/**
 * A FreeSWITCH 1.10 Event Socket simulator: to an ESL client it behaves like the recorded real
 * switch (../shared/fixtures/freeswitch-esl): same frames, same events and headers in the same
 * order, same limits. Carrier behaviour per gateway is a seeded random model.
 *
 * Ground truth `hangup` entries carry a FreeSWITCH cause, except `NODE_CRASH` when a node was
 * stopped with live calls (the calls vanished; no switch reported anything).
 */
export type { CarrierVerdict } from './carrier.js';
export type { CdrEncode, CdrPosterOptions, CdrPosterStats } from './cdr-poster.js';
export {
  type SimCluster,
  type SimClusterOptions,
  type SimNode,
  startSimCluster,
} from './cluster.js';
export { type GroundTruth, type GroundTruthEntry, readGroundTruthFile } from './ground-truth.js';
export {
  type LoadedModule,
  type ModuleInterface,
  type ModuleInterfaceType,
  VANILLA_1_10_12_MODULES,
} from './loaded-modules.js';
export type { SimNodeOptions } from './node.js';
export {
  type CarrierModel,
  DEFAULT_SIM_PROFILE,
  parseSimProfile,
  type Range,
  type SimProfile,
  SimProfileError,
} from './profile.js';
export { defaultSofiaProfiles, type SofiaGateway, type SofiaProfile } from './sofia-profiles.js';
