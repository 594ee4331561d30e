/**
 * The FreeSWITCH Event Socket client: what the rest of Switchboard may use.
 * Layers: frame-parser (bytes → frames) → message (frames → typed messages) → event (typed events)
 * → connection (socket, replies, liveness, reconnect) → client (the command surface) → commands / originate (validated wire text).
 */
export { type BackoffPolicy, fullJitterDelayMs } from './backoff.js';
export {
  type BackgroundJob,
  EslClient,
  type EslClientOptions,
  type EslClientStatus,
  type EslEventFormat,
  type EslLogger,
  type LivenessOptions,
  type SendmsgMessage,
} from './client.js';
export {
  EslAuthError,
  EslClosedError,
  EslCommandError,
  EslDisconnectedError,
  EslError,
  type EslErrorCode,
  EslInputError,
  EslProtocolError,
  EslQueueFullError,
  EslTimeoutError,
  OriginateInputError,
} from './errors.js';
export {
  type BackgroundJobFacts,
  backgroundJobFacts,
  type ChannelEventName,
  type ChannelFacts,
  channelFacts,
  customSubclass,
  type DtmfFacts,
  dtmfFacts,
  type EslEvent,
  type HangupFactsFromEvent,
  type HeartbeatFacts,
  hangupFacts,
  heartbeatFacts,
  isChannelEvent,
  type PlaybackFacts,
  playbackFacts,
} from './event.js';
export { type Frame, FrameParser, type FrameParserOptions } from './frame-parser.js';
export { type CommandReply, decodeMessage, decodeXmlEvent, type EslMessage } from './message.js';
export {
  buildOriginateCommand,
  isValidDestination,
  type OriginateSpec,
  renderDialTemplate,
  validateDialTemplate,
} from './originate.js';
