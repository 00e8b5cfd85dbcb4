/**
 * Docs/s and ETA for one database. The rate is an exponentially weighted average of batch
 * rates (so it follows speed changes without jumping on every batch); ETA = pending / rate.
 * Pending comes from the feed when the server reports it (CouchDB); otherwise (pouchdb-server)
 * it is estimated from the database's doc counts for a sync from the start, and flagged so.
 */
export class ProgressTracker {
  private rate = 0;
  private readonly startedAt: number;
  docs = 0;
  deletes = 0;
  bytes = 0;
  pending: number | null = null;
  isEstimate = false;
  /** doc_count + doc_del_count at the start, when the sync starts from the beginning. */
  private estimateBase: number | null = null;
  private seen = 0;

  constructor(now = Date.now()) {
    this.startedAt = now;
  }

  setEstimateBase(total: number): void {
    this.estimateBase = total;
    if (this.pending === null || this.isEstimate) {
      this.pending = Math.max(0, total - this.seen);
      this.isEstimate = true;
    }
  }

  /** After a committed batch. `feedPending` is the feed's own figure, if any. */
  record(o: {
    rows: number;
    docs: number;
    deletes: number;
    bytes: number;
    seconds: number;
    feedPending: number | null;
  }): void {
    this.docs += o.docs;
    this.deletes += o.deletes;
    this.bytes += o.bytes;
    this.seen += o.rows;
    if (o.seconds > 0 && o.rows > 0) {
      const batchRate = o.rows / o.seconds;
      this.rate = this.rate === 0 ? batchRate : 0.7 * this.rate + 0.3 * batchRate;
    }
    if (o.feedPending !== null) {
      this.pending = o.feedPending;
      this.isEstimate = false;
    } else if (this.estimateBase !== null) {
      this.pending = Math.max(0, this.estimateBase - this.seen);
      this.isEstimate = true;
    }
  }

  reachedEnd(): void {
    this.pending = 0;
    this.isEstimate = false;
  }

  docsPerSecond(now = Date.now()): number {
    if (this.rate > 0) return Math.round(this.rate);
    const seconds = (now - this.startedAt) / 1000;
    return seconds > 0 ? Math.round(this.seen / seconds) : 0;
  }

  /**
   * Time left. Before the first committed batch has given a rate, the link's measured rate
   * (bytes/s on the wire ÷ bytes a row costs there) stands in, so a slow first batch does not
   * leave the user with no estimate.
   */
  etaSeconds(linkBytesPerSecond: number | null = null, wireBytesPerRow: number | null = null): number | null {
    if (this.pending === null) return null;
    if (this.pending === 0) return 0;
    let rate = this.rate > 0 ? this.rate : 0;
    if (rate === 0 && linkBytesPerSecond !== null && wireBytesPerRow !== null && wireBytesPerRow > 0)
      rate = linkBytesPerSecond / wireBytesPerRow;
    if (rate === 0) rate = this.docsPerSecond();
    return rate > 0 ? Math.ceil(this.pending / rate) : null;
  }
}
