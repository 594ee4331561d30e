/** Shape of the data in recorded-call-scripts.ts (generated from the recordings). */
export interface RecordedStep {
  event: string;
  /** Event-Calling-File, Event-Calling-Function, Event-Calling-Line-Number as recorded. */
  calledFrom: [string, string, string];
  /** Id of a block in HEAD_BLOCKS: the channel headers after the 13 common ones. */
  head: string;
  /** How the channel-variable list changed since the previous event that carried variables. */
  vars: { del: string[]; set: [string, string][] } | null;
  /** Id of a block in HEAD_BLOCKS with headers that follow the variables. */
  tail: string | null;
}

/** `'BACKGROUND_JOB'` marks where the originate's job result fires within the stage. */
export type RecordedScript = ReadonlyArray<RecordedStep | 'BACKGROUND_JOB'>;
