import type { CallRecord } from '../domain/call-record.js';

/**
 * Call records received from the switches (mod_json_cdr), keyed by the call's uuid — for our calls
 * the attempt id. They hold no phone number: only the fields of `CallRecord` are kept, never the
 * posted document. A switch that re-posts (a retry after a lost 2xx) changes nothing: the first
 * record of a call stays.
 */
export interface StoredCallRecord extends CallRecord {
  /** When the platform stored it (epoch ms). */
  receivedAtMs: number;
}

export interface CallRecordRepository {
  /**
   * Stores records in one transaction, each only if its call uuid is new. Returns, per record in
   * order, whether it was stored now (false: this uuid was already stored, or came earlier in
   * the same batch).
   */
  put(records: readonly CallRecord[], receivedAtMs: number): Promise<boolean[]>;
  get(callUuid: string): Promise<StoredCallRecord | undefined>;
  /** The records among these call uuids, by uuid (absent ones are missing from the map). */
  getMany(callUuids: readonly string[]): Promise<Map<string, StoredCallRecord>>;
}
