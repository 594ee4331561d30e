/**
 * Server-side event filters, as mod_event_socket applies them: a listener with filters only gets
 * events that match at least one positive filter (OR), compared case-insensitively on the raw
 * header value, or by regex when the value is written `/…/`. A header the event lacks never matches.
 */
import type { SimEvent } from './event.js';

interface Filter {
  header: string;
  value: string;
  regex: RegExp | undefined;
}

function toRegex(value: string): RegExp | undefined {
  if (!value.startsWith('/')) return undefined;
  const end = value.lastIndexOf('/');
  const flags = end > 0 && value.slice(end + 1) === 'i' ? 'i' : '';
  const body = end > 0 ? value.slice(1, end) : value.slice(1);
  try {
    return new RegExp(body, flags);
  } catch {
    // FreeSWITCH's PCRE compile failure makes the filter never match; do the same.
    return /(?!)/;
  }
}

export class EventFilters {
  private filters: Filter[] = [];

  get isEmpty(): boolean {
    return this.filters.length === 0;
  }

  add(header: string, value: string): void {
    this.filters.push({ header, value, regex: toRegex(value) });
  }

  delete(header: string, value?: string): void {
    if (header.toLowerCase() === 'all') {
      this.filters = [];
      return;
    }
    this.filters = this.filters.filter(
      (f) => f.header.toLowerCase() !== header.toLowerCase() || (value !== undefined && f.value !== value),
    );
  }

  passes(event: SimEvent): boolean {
    if (this.filters.length === 0) return true;
    for (const filter of this.filters) {
      const actual = event.header(filter.header);
      if (actual === undefined) continue;
      if (filter.regex ? filter.regex.test(actual) : actual.toLowerCase() === filter.value.toLowerCase()) {
        return true;
      }
    }
    return false;
  }
}
