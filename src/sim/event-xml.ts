/**
 * text/event-xml bodies, as switch_event_xmlize and switch_xml_toxml write them: every header an
 * element of <headers> whose text is the URL-encoded value (add_xml_header encodes before the XML
 * layer escapes), two spaces of indent per level, and for an event with a body a
 * <Content-Length> element and a <body> holding the raw text, XML-escaped. The recordings hold no
 * XML event, so this follows the source (switch_event.c, switch_xml.c), not a capture.
 *
 * The plain rendering already carries the URL-encoded values in order, so the XML form is derived
 * from it: one serialiser of header values, not two that could drift apart.
 */

const XML_TEXT_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '\r': '&#xD;',
};

/**
 * switch_xml_ampencode for element text: &, < and >, and CR as a character reference (quotes, tabs
 * and line feeds stay as they are outside attributes).
 */
export function xmlEscape(text: string): string {
  return text.replace(/[&<>\r]/g, (c) => XML_TEXT_ESCAPES[c]!);
}

/** `plain` is a text/event-plain body: header lines, a blank line, optionally a body after a Content-Length line. */
export function xmlFromPlain(plain: string): string {
  const blockEnd = plain.indexOf('\n\n');
  const block = blockEnd === -1 ? plain : plain.slice(0, blockEnd);
  const body = blockEnd === -1 ? '' : plain.slice(blockEnd + 2);
  const lines = block.split('\n').filter((line) => line !== '');
  let out = '<event>\n  <headers>\n';
  let contentLength: string | undefined;
  for (const [index, line] of lines.entries()) {
    const at = line.indexOf(': ');
    const name = line.slice(0, at);
    const value = line.slice(at + 2);
    // The Content-Length line that introduces a body is not a header of the event.
    if (name === 'Content-Length' && index === lines.length - 1 && body !== '') {
      contentLength = value;
      continue;
    }
    out += `    <${name}>${xmlEscape(value)}</${name}>\n`;
  }
  out += '  </headers>\n';
  if (contentLength !== undefined) {
    out += `  <Content-Length>${contentLength}</Content-Length>\n  <body>${xmlEscape(body)}</body>\n`;
  }
  return `${out}</event>`;
}
