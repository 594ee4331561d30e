/**
 * Server→client framing, written independently of src/esl (the client) so a shared bug cannot
 * hide. Layouts are those of the recordings: command/reply has no body; api/response puts
 * Content-Type before Content-Length; events put Content-Length first.
 */

// FreeSWITCH's SWITCH_URL_UNSAFE set plus everything outside printable ASCII; an existing
// well-formed %XX escape is kept as is (switch_url_encode_opt without double encoding).
const UNSAFE = new Set('\r\n #%&+:;<=>?@[\\]^`{|}"'.split('').map((c) => c.charCodeAt(0)));
const HEX = '0123456789ABCDEF';
const SAFE_RUN = /^[A-Za-z0-9_.\-/,()~*!$']*$/;

function isUpperHex(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 70);
}

export function urlEncode(value: string): string {
  if (SAFE_RUN.test(value)) return value;
  const bytes = Buffer.from(value, 'utf8');
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const code = bytes[i]!;
    if (code === 37 && i + 2 < bytes.length && isUpperHex(bytes[i + 1]!) && isUpperHex(bytes[i + 2]!)) {
      out += '%';
      continue;
    }
    if (code < 32 || code > 126 || UNSAFE.has(code)) {
      out += `%${HEX[code >> 4]}${HEX[code & 15]}`;
    } else {
      out += String.fromCharCode(code);
    }
  }
  return out;
}

export const AUTH_REQUEST = 'Content-Type: auth/request\n\n';

const GOODBYE = 'Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n';

export function commandReply(replyText: string, extraHeaders = ''): string {
  return `Content-Type: command/reply\nReply-Text: ${replyText}\n${extraHeaders}\n`;
}

export function apiResponse(body: string): string {
  return `Content-Type: api/response\nContent-Length: ${Buffer.byteLength(body)}\n\n${body}`;
}

export type EventFormat = 'plain' | 'json' | 'xml';

export function eventFrame(body: string, format: EventFormat): string {
  return `Content-Length: ${Buffer.byteLength(body)}\nContent-Type: text/event-${format}\n\n${body}`;
}

/** Sent on `exit`, on a failed auth and when FreeSWITCH closes the socket itself. */
export function disconnectNotice(controlledSessionUuid?: string): string {
  const session =
    controlledSessionUuid === undefined
      ? ''
      : `Controlled-Session-UUID: ${controlledSessionUuid}\nContent-Disposition: disconnect\n`;
  return `Content-Type: text/disconnect-notice\n${session}Content-Length: ${Buffer.byteLength(GOODBYE)}\n\n${GOODBYE}`;
}
