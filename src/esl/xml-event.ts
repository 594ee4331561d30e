/**
 * text/event-xml bodies, as FreeSWITCH's switch_event_xmlize builds them and switch_xml_toxml
 * writes them:
 *
 *   <event>
 *     <headers>
 *       <Event-Name>BACKGROUND_JOB</Event-Name>      one element per header, in order; the text is
 *       <Job-Command-Arg>a%20b</Job-Command-Arg>     the URL-encoded value, then XML-escaped
 *     </headers>
 *     <Content-Length>7</Content-Length>             only for an event with a body: its byte length
 *     <body>-ERR &lt;x&gt;</body>                     the body, XML-escaped
 *   </event>
 *
 * Only that shape is read. Anything else (an unclosed or mismatched element, text between
 * elements, an unknown entity, a Content-Length that disagrees with the body, bytes after
 * </event>) means we no longer know where we are in the stream: a protocol error, fail closed.
 */
import { EslProtocolError } from './errors.js';
import { createEvent, type EslEvent } from './event.js';
import { urlDecode } from './url-decode.js';

const ELEMENT_NAME = '[^\\s<>/&"\'=]{1,256}';
const OPEN = new RegExp(`\\s*<(${ELEMENT_NAME})>`, 'y');
const EMPTY = new RegExp(`\\s*<(${ELEMENT_NAME})\\s*/>`, 'y');
const TEXT = /[^<]*/y;
const CLOSE = new RegExp(`</(${ELEMENT_NAME})>`, 'y');
const ENTITY = /&(?:(amp|lt|gt|quot|apos)|#([0-9]{1,7})|#x([0-9A-Fa-f]{1,6}));/y;
const CLOSING = { headers: /\s*<\/headers>/y, event: /\s*<\/event>/y };
const NAMED: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function malformed(what: string): never {
  throw new EslProtocolError(`malformed text/event-xml: ${what}`);
}

/** Reads the exact element structure above, front to back, with sticky regular expressions. */
class XmlEventReader {
  private at = 0;

  constructor(private readonly text: string) {}

  private match(pattern: RegExp): RegExpExecArray | undefined {
    pattern.lastIndex = this.at;
    const found = pattern.exec(this.text);
    if (found === null) return undefined;
    this.at = pattern.lastIndex;
    return found;
  }

  open(name: string): void {
    if (this.match(OPEN)?.[1] !== name) malformed(`expected <${name}> at offset ${this.at}`);
  }

  close(name: string): void {
    this.match(/\s*/y);
    if (this.match(CLOSE)?.[1] !== name) malformed(`expected </${name}> at offset ${this.at}`);
  }

  /** Whether the next thing, after whitespace, closes the element. */
  atClose(name: 'headers' | 'event'): boolean {
    const closing = CLOSING[name];
    closing.lastIndex = this.at;
    return closing.test(this.text);
  }

  /** `<Name>text</Name>` or `<Name/>`: the name and the unescaped text. */
  leaf(): [string, string] {
    const empty = this.match(EMPTY);
    if (empty) return [empty[1]!, ''];
    const open = this.match(OPEN);
    if (!open) {
      const isAtEnd = this.text.slice(this.at).trim() === '';
      malformed(isAtEnd ? 'the event ends before </event>' : `expected an element at offset ${this.at}`);
    }
    const text = this.match(TEXT)![0];
    if (this.match(CLOSE)?.[1] !== open[1]) malformed(`<${open[1]}> is not closed by </${open[1]}>`);
    return [open[1]!, unescapeXml(text)];
  }

  end(): void {
    if (this.text.slice(this.at).trim() !== '') malformed(`bytes after </event> at offset ${this.at}`);
  }
}

/** switch_xml_ampencode's inverse: the five named entities and numeric references, nothing else. */
function unescapeXml(text: string): string {
  if (text.indexOf('&') === -1) return text;
  let out = '';
  let from = 0;
  for (let amp = text.indexOf('&'); amp !== -1; amp = text.indexOf('&', from)) {
    ENTITY.lastIndex = amp;
    const entity = ENTITY.exec(text);
    if (entity === null) malformed(`unknown entity at ${JSON.stringify(text.slice(amp, amp + 12))}`);
    const [, named, decimal, hex] = entity;
    const codePoint = named === undefined ? Number.parseInt(decimal ?? hex!, decimal ? 10 : 16) : -1;
    if (named === undefined && (codePoint > 0x10ffff || codePoint === 0)) {
      malformed(`character reference ${entity[0]} is out of range`);
    }
    out += text.slice(from, amp) + (named === undefined ? String.fromCodePoint(codePoint) : NAMED[named]);
    from = ENTITY.lastIndex;
  }
  return out + text.slice(from);
}

export function decodeXmlEvent(text: string): EslEvent {
  const reader = new XmlEventReader(text);
  reader.open('event');
  reader.open('headers');
  const headers = new Map<string, string>();
  while (!reader.atClose('headers')) {
    const [name, value] = reader.leaf();
    // An array header repeats its element; like the plain reader, the first value is the header's.
    if (!headers.has(name)) headers.set(name, urlDecode(value));
  }
  reader.close('headers');
  let body: string | undefined;
  if (!reader.atClose('event')) {
    const [lengthName, lengthText] = reader.leaf();
    if (lengthName !== 'Content-Length' || !/^[0-9]{1,10}$/.test(lengthText)) {
      malformed('expected <Content-Length> after </headers>');
    }
    const [bodyName, bodyText] = reader.leaf();
    if (bodyName !== 'body') malformed('expected <body> after <Content-Length>');
    if (Buffer.byteLength(bodyText) !== Number(lengthText)) {
      malformed(`Content-Length ${lengthText} but the body has ${Buffer.byteLength(bodyText)} bytes`);
    }
    body = bodyText;
    // The plain and json forms carry it among the headers; so does the decoded event, whatever the format.
    headers.set('Content-Length', lengthText);
  }
  reader.close('event');
  reader.end();
  const event = createEvent(headers, body);
  if (event.name === '') malformed('no Event-Name header');
  return event;
}
