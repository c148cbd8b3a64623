/**
 * Zoho's two API limits (contract §5): calls in flight at once, and credits per day. Both
 * refuse with the same 429; only the credits header tells them apart.
 */

/** Why a call was not admitted. */
export type Refusal = 'concurrency' | 'credits';

/** In-flight and credit accounting for one fake. */
export class Admission {
  private inFlight = 0;
  private peakInFlight = 0;
  private creditsUsed = 0;

  constructor(
    private readonly concurrencyLimit: number,
    private readonly dailyCredits: number,
  ) {}

  /**
   * Admits a call (it is now in flight and has spent a credit) or says why not. A refused call
   * is neither in flight nor charged. Call `release` once per admitted call.
   */
  tryAdmit(): Refusal | undefined {
    if (this.inFlight >= this.concurrencyLimit) return 'concurrency';
    if (this.creditsUsed >= this.dailyCredits) return 'credits';
    this.inFlight += 1;
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
    this.creditsUsed += 1;
    return undefined;
  }

  /** An admitted call is over (answered, or its connection closed). */
  release(): void {
    this.inFlight -= 1;
  }

  /** `X-API-CREDITS-REMAINING`, which Zoho sends once half the day's credits are spent. */
  creditsHeader(): Record<string, string> {
    if (this.creditsUsed * 2 < this.dailyCredits) return {};
    return { 'X-API-CREDITS-REMAINING': String(this.dailyCredits - this.creditsUsed) };
  }

  /** For the snapshot. */
  stats(): { inFlight: number; peakInFlight: number; creditsUsed: number } {
    return { inFlight: this.inFlight, peakInFlight: this.peakInFlight, creditsUsed: this.creditsUsed };
  }

  /** A new day: credits and the peak start over; calls still in flight stay counted. */
  reset(): void {
    this.creditsUsed = 0;
    this.peakInFlight = this.inFlight;
  }
}
