/**
 * Typed errors of the Event Socket client. Each has a fixed `name` and a stable `code` (the API layer
 * maps codes, never messages). `fatal` says whether the error kills the connection: a fatal error means
 * the byte stream can no longer be trusted (desync), so the only safe move is to drop the socket.
 */

export type EslErrorCode =
  | 'ESL_PROTOCOL'
  | 'ESL_AUTH'
  | 'ESL_COMMAND'
  | 'ESL_TIMEOUT'
  | 'ESL_DISCONNECTED'
  | 'ESL_CLOSED'
  | 'ESL_INVALID_INPUT'
  | 'ESL_QUEUE_FULL'
  | 'ESL_INVALID_ORIGINATE';

export abstract class EslError extends Error {
  abstract readonly code: EslErrorCode;
  /** True when the connection must be dropped because of this error. */
  abstract readonly fatal: boolean;
}

/** The switch sent bytes we cannot frame or decode: the stream is desynchronised. Connection-fatal. */
export class EslProtocolError extends EslError {
  override readonly name = 'EslProtocolError';
  readonly code = 'ESL_PROTOCOL' as const;
  readonly fatal = true;
}

/** The switch refused our password (`-ERR invalid`). The switch closes the socket itself. */
export class EslAuthError extends EslError {
  override readonly name = 'EslAuthError';
  readonly code = 'ESL_AUTH' as const;
  readonly fatal = true;
}

/** A command was answered with something other than `+OK` (`-ERR …`, `-USAGE …`). Recoverable. */
export class EslCommandError extends EslError {
  override readonly name = 'EslCommandError';
  readonly code = 'ESL_COMMAND' as const;
  readonly fatal = false;
  /** The switch's reply text, e.g. `-ERR no keywords supplied`. */
  readonly replyText: string;
  constructor(replyText: string, options?: ErrorOptions) {
    super(`command failed: ${replyText}`, options);
    this.replyText = replyText;
  }
}

/** No reply within the deadline. The reply slot is abandoned (see reply-queue.ts). Recoverable. */
export class EslTimeoutError extends EslError {
  override readonly name = 'EslTimeoutError';
  readonly code = 'ESL_TIMEOUT' as const;
  readonly fatal = false;
}

/**
 * The connection went away while the command was in flight. Whether the switch executed it is
 * unknown: callers must reconcile from switch state, never blindly resend.
 */
export class EslDisconnectedError extends EslError {
  override readonly name = 'EslDisconnectedError';
  readonly code = 'ESL_DISCONNECTED' as const;
  readonly fatal = true;
}

/** The client was closed by its owner. */
export class EslClosedError extends EslError {
  override readonly name = 'EslClosedError';
  readonly code = 'ESL_CLOSED' as const;
  readonly fatal = false;
}

/** Caller data that would break the wire format (CR/LF, bad uuid, bad header name…). Nothing was sent. */
export class EslInputError extends EslError {
  override readonly name = 'EslInputError';
  readonly code = 'ESL_INVALID_INPUT' as const;
  readonly fatal = false;
}

/** The bounded outgoing queue is full: the switch is not reading fast enough. Nothing was sent. */
export class EslQueueFullError extends EslError {
  override readonly name = 'EslQueueFullError';
  readonly code = 'ESL_QUEUE_FULL' as const;
  readonly fatal = false;
}

/** An originate field outside what originate.ts can render without ambiguity. Nothing was built. */
export class OriginateInputError extends EslError {
  override readonly name = 'OriginateInputError';
  readonly code = 'ESL_INVALID_ORIGINATE' as const;
  readonly fatal = false;
}
