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

/** Bodies smaller than this say little about the wire rate. */
const MIN_WIRE_BYTES = 16 * 1024;
/** …and smaller than this (decoded) little about how fast documents come. */
const MIN_DECODED_BYTES = 64 * 1024;
/**
 * A compressed page that came at least this fast (wire bytes/s, 8 Mbit/s) may come faster
 * uncompressed: one identity page is tried. An identity page slower than the second figure
 * (16 Mbit/s) goes back to gzip at once.
 */
const TRY_IDENTITY_BYTES_PER_SECOND = 1024 * 1024;
const KEEP_IDENTITY_BYTES_PER_SECOND = 2 * 1024 * 1024;
/** A server whose small answer comes back within this is near (a LAN): no compression to start with. */
export const NEAR_LATENCY_MS = 50;
/** While on identity, look at gzip again every this many responses; on gzip, at identity every this many. */
const RECHECK_GZIP_EVERY = 24;
const RECHECK_IDENTITY_EVERY = 48;

const ewma = (old: number | null, sample: number, weight = 0.3): number =>
  old === null ? sample : (1 - weight) * old + weight * sample;

export class LinkMeter {
  private latency: number | null = null;
  /** Whether the small request (database info) that tells near from far was timed. */
  private wasProbed = false;
  /** The quickest answer seen: the small request or a page's first byte. */
  private quickestMs: number | null = null;
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

  /** Whether the small request that tells near from far was timed. */
  get isProbed(): boolean {
    return this.wasProbed;
  }

  /**
   * Some answer (the small request, or a page's first byte) came within the near threshold: a LAN
   * or the same machine. The quickest answer, because a busy machine only ever makes answers
   * slower: no answer from a far server comes faster than the link's round trip.
   */
  get isNear(): boolean {
    return this.quickestMs !== null && this.quickestMs < NEAR_LATENCY_MS;
  }

  /**
   * The time a small request took. A near server (a LAN) starts on identity — a server that
   * compresses in its own thread (pouchdb-server) is slowed by it, and the wire is not the limit;
   * a far one on gzip. Either is corrected by what the pages then show.
   */
  probed(ms: number): void {
    this.wasProbed = true;
    this.quickestMs = Math.min(this.quickestMs ?? ms, ms);
    if (!this.isGzipRefused && ms < NEAR_LATENCY_MS) this.choice = 'identity';
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
    this.quickestMs = Math.min(this.quickestMs ?? s.latencyMs, s.latencyMs);
    if (s.rows > 0) this.wirePerRow = ewma(this.wirePerRow, s.wireBytes / s.rows, 0.5);
    const streamMs = Math.max(s.streamMs, 1);
    const wireRate = (s.wireBytes * 1000) / streamMs;
    if (s.wireBytes >= MIN_WIRE_BYTES) this.wireRate = ewma(this.wireRate, wireRate);
    if (s.decodedBytes >= MIN_DECODED_BYTES) {
      this.decodedRate[s.encoding] = ewma(this.decodedRate[s.encoding], (s.decodedBytes * 1000) / streamMs, 0.5);
      this.decide(s.encoding, wireRate);
    }
  }

  /**
   * Keeps the encoding that delivers documents faster (decoded bytes per second while a body
   * streams). An identity page slower than 16 Mbit/s on the wire goes back to gzip at once;
   * otherwise gzip is looked at now and then, and kept when identity is less than 90 % as fast.
   * A gzip page faster than 8 Mbit/s on the wire tries one identity page (again now and then).
   * A slow link never pays for an uncompressed page.
   */
  private decide(used: 'gzip' | 'identity', wireRate: number): void {
    if (this.isGzipRefused) return;
    const gzip = this.decodedRate.gzip;
    const identity = this.decodedRate.identity;
    this.sinceCheck++;
    if (used === 'identity') {
      if (
        wireRate < KEEP_IDENTITY_BYTES_PER_SECOND ||
        (gzip !== null && identity !== null && identity < 0.9 * gzip) ||
        this.sinceCheck >= RECHECK_GZIP_EVERY
      ) {
        this.choice = 'gzip';
        this.sinceCheck = 0;
      }
      return;
    }
    const isIdentityBetter = identity !== null && gzip !== null && identity >= 0.9 * gzip;
    const isDue = identity === null || this.sinceCheck >= RECHECK_IDENTITY_EVERY;
    if (isIdentityBetter || (isDue && wireRate >= TRY_IDENTITY_BYTES_PER_SECOND)) {
      this.choice = 'identity';
      this.sinceCheck = 0;
    }
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
