/**
 * Splits what a client sends into commands, the way mod_event_socket reads them: a command is
 * its first line plus `Name: value` lines up to a blank line; a `Content-Length` header brings a
 * body (sendmsg). A stray line without a colon is ignored, and a line feed inside a command ends
 * it early: that is how the recorded injections (fixtures 70, 71) behave.
 */
export interface ClientCommand {
  line: string;
  headers: Map<string, string>;
  body: string | undefined;
}

/** Larger commands than this are a broken or hostile client; FreeSWITCH caps its buffer too. */
const MAX_COMMAND_BYTES = 1_048_576;

export class CommandReader {
  private buffer = '';
  private pending: ClientCommand | undefined;
  private pendingBodyBytes = 0;

  /** Returns the commands completed by this chunk; throws when the client overflows the buffer. */
  push(chunk: string): ClientCommand[] {
    this.buffer += chunk;
    const done: ClientCommand[] = [];
    for (;;) {
      if (this.pending) {
        if (Buffer.byteLength(this.buffer) < this.pendingBodyBytes) break;
        const body = Buffer.from(this.buffer).subarray(0, this.pendingBodyBytes).toString();
        this.buffer = this.buffer.slice(body.length);
        this.pending.body = body;
        done.push(this.pending);
        this.pending = undefined;
        continue;
      }
      this.buffer = this.buffer.replace(/^[\r\n]+/, '');
      const end = this.buffer.indexOf('\n\n');
      if (end === -1) break;
      const lines = this.buffer.slice(0, end).replaceAll('\r', '').split('\n');
      this.buffer = this.buffer.slice(end + 2);
      const headers = new Map<string, string>();
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers.set(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
      }
      const command: ClientCommand = { line: lines[0] ?? '', headers, body: undefined };
      const length = Number(headers.get('Content-Length') ?? headers.get('content-length') ?? 0);
      if (Number.isInteger(length) && length > 0) {
        this.pending = command;
        this.pendingBodyBytes = length;
      } else done.push(command);
    }
    if (this.buffer.length > MAX_COMMAND_BYTES) throw new Error('command exceeds 1 MiB');
    return done;
  }
}
