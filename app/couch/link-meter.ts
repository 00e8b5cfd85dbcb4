/**
 * What the link to one CouchDB database does, measured from the responses themselves: latency
 * (request to first byte), the wire rate while a body streams, the bytes a row costs on the wire,
 * and which encoding moves documents faster. Used by the feed source (which encoding to ask for)
 * and, through the ChangesSource port, by the batcher (how many documents per request) and the
 * progress figures (link rate shown to the user).
 */
import type { LinkEstimate } from '../sync/ports';

export interface ResponseSample {
  encoding: 'gzip' | 'identity';
  /** Request sent → first body byte. */
  latencyMs: number;
  /** First body byte → end. */
  streamMs: number;
  wireBytes: number;
  /** Bytes after decompression (= wireBytes for identity). */
  decodedBytes: number;
  rows: number;
}

/** Bodies smaller than this say little about the rate (one TCP window). */
const MIN_RATE_BYTES = 32 * 1024;
/** A link at least this fast (wire bytes/s under gzip) may be faster without compression: try identity. */
const FAST_LINK_BYTES_PER_SECOND = 2 * 1024 * 1024;
/** While on identity, look at gzip again every this many responses. */
const RECHECK_EVERY = 24;

const ewma = (old: number | null, sample: number, weight = 0.3): number => (old === null ? sample : (1 - weight) * old + weight * sample);

export class LinkMeter {
  private latency: number | null = null;
  private wireRate: number | null = null;
  private wirePerRow: number | null = null;
  /** Decoded (document) bytes per second under each encoding, when measured. */
  private readonly decodedRate: Record<'gzip' | 'identity', number | null> = { gzip: null, identity: null };
  private choice: 'gzip' | 'identity' = 'gzip';
  private sinceCheck = 0;
  /** Set when gzip stalled on this server: identity from then on. */
  private isGzipRefused = false;
  totalWireBytes = 0;

  constructor(isGzipRefused = false) {
    this.isGzipRefused = isGzipRefused;
    if (isGzipRefused) this.choice = 'identity';
  }

  /** The encoding to ask for on the next page request. */
  encoding(): 'gzip' | 'identity' {
    return this.isGzipRefused ? 'identity' : this.choice;
  }

  refuseGzip(): void {
    this.isGzipRefused = true;
    this.choice = 'identity';
  }

  addWireBytes(n: number): void {
    this.totalWireBytes += n;
  }

  record(s: ResponseSample): void {
    this.latency = ewma(this.latency, s.latencyMs);
    if (s.rows > 0) this.wirePerRow = ewma(this.wirePerRow, s.wireBytes / s.rows, 0.5);
    if (s.wireBytes >= MIN_RATE_BYTES && s.streamMs > 0) {
      this.wireRate = ewma(this.wireRate, (s.wireBytes * 1000) / s.streamMs);
      this.decodedRate[s.encoding] = ewma(this.decodedRate[s.encoding], (s.decodedBytes * 1000) / s.streamMs, 0.5);
      this.decide(s.encoding);
    }
  }

  /**
   * Compression is the default (a field link is slow); on a link fast enough that the server's
   * compression, not the wire, sets the pace, identity moves documents faster and spares the
   * server's CPU: tried once the gzip wire rate says the link is fast, kept while it delivers
   * documents at least 90 % as fast, and gzip looked at again now and then.
   */
  private decide(used: 'gzip' | 'identity'): void {
    if (this.isGzipRefused) return;
    const gzip = this.decodedRate.gzip;
    const identity = this.decodedRate.identity;
    if (used === 'gzip') {
      if (this.wireRate !== null && this.wireRate >= FAST_LINK_BYTES_PER_SECOND && (identity === null || gzip === null || identity >= 0.9 * gzip)) this.choice = 'identity';
      else this.choice = 'gzip';
      this.sinceCheck = 0;
      return;
    }
    this.sinceCheck++;
    if (gzip !== null && identity !== null && identity < 0.9 * gzip) this.choice = 'gzip';
    else if (this.sinceCheck >= RECHECK_EVERY) this.choice = 'gzip';
  }

  estimate(): LinkEstimate {
    return {
      bytesPerSecond: this.wireRate === null ? null : Math.round(this.wireRate),
      latencyMs: this.latency === null ? null : Math.round(this.latency),
      wireBytesPerRow: this.wirePerRow === null ? null : Math.round(this.wirePerRow),
      wireBytes: this.totalWireBytes,
    };
  }
}
