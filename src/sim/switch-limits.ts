/**
 * FreeSWITCH's own session limits, as switch_core_session_request_uuid applies them: every
 * request first takes one token of the per-second budget (`sps = --runtime.sps; if (sps <= 0)
 * refuse`, so with 30 only 29 sessions per second get through, and refused requests spend
 * tokens too), then the session count is checked against max-sessions. The budget refills each
 * second (switch_time.c); here the second is the wall-clock second, checked lazily.
 */
export class SwitchLimits {
  private second = Math.floor(Date.now() / 1000);
  private budget: number;
  private spsLast = 0;
  private spsMax = 0;
  private sessionsSinceStartup = 0;
  private peak = 0;

  constructor(
    private maxSessions: number,
    private sessionsPerSecond: number,
  ) {
    this.budget = sessionsPerSecond;
  }

  private roll(): void {
    const now = Math.floor(Date.now() / 1000);
    if (now === this.second) return;
    const used = this.sessionsPerSecond - this.budget;
    // A quiet gap of more than a second means the last full second had no requests.
    this.spsLast = now === this.second + 1 ? Math.max(0, used) : 0;
    this.spsMax = Math.max(this.spsMax, this.spsLast);
    this.second = now;
    this.budget = this.sessionsPerSecond;
  }

  /** Spends a token and checks the session count; true when a new session may be created. */
  admit(activeSessions: number): boolean {
    this.roll();
    if (--this.budget <= 0) return false;
    if (activeSessions + 1 > this.maxSessions) return false;
    this.sessionsSinceStartup++;
    this.peak = Math.max(this.peak, activeSessions + 1);
    return true;
  }

  setMaxSessions(value: number | undefined): number {
    if (value !== undefined && Number.isFinite(value) && value > 0) this.maxSessions = value;
    return this.maxSessions;
  }

  setSessionsPerSecond(value: number | undefined): number {
    if (value !== undefined && Number.isFinite(value) && value > 0) {
      this.sessionsPerSecond = value;
      this.budget = value;
    }
    return this.sessionsPerSecond;
  }

  reset(): void {
    this.second = Math.floor(Date.now() / 1000);
    this.budget = this.sessionsPerSecond;
    this.spsLast = 0;
    this.spsMax = 0;
    this.sessionsSinceStartup = 0;
    this.peak = 0;
  }

  snapshot(activeSessions: number) {
    this.roll();
    this.peak = Math.max(this.peak, activeSessions);
    return {
      maxSessions: this.maxSessions,
      sessionsPerSecond: this.sessionsPerSecond,
      spsLast: this.spsLast,
      spsMax: this.spsMax,
      spsFiveMin: this.spsMax,
      sessionsSinceStartup: this.sessionsSinceStartup,
      peak: this.peak,
      peakFiveMin: this.peak,
    };
  }
}
