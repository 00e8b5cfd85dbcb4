import { IdMaker } from './ids';
import { Rng } from './prng';

export type Doc = Record<string, unknown>;

/**
 * The edge cases of cht-data-model.md §5.5 the generator plants. Each one also has a forced first
 * appearance (`FIRST_AT`, in medic documents generated so far) so that every edge case is present
 * in any set of about 5,000 documents or more, whatever the seed.
 */
export const EDGE_CASES = [
  'nul',
  'backslash',
  'literalEscape',
  'emoji',
  'reportedDateString',
  'reportedDateIso',
  'reportedDateMissing',
  'facilityIdString',
  'patientIdNumber',
  'patientIdLeadingZero',
  'emptyNumber',
  'boolString',
  'malformedDate',
  'danglingParent',
  'danglingContact',
  'smsNul',
  'hydratedLineage',
  'emptyParent',
  'stringContact',
  'deleteStub',
  'deleteFullBody',
  'deletedUser',
  'hugeDoc',
  'legacyReport',
  'legacyTombstone',
  'uuid7',
  'uuid5',
  'couch32',
  'upperUuid',
  'taskNullDate',
  'multiRevision',
  'attachmentInline',
  'telemetryDrift',
  'infoNumberDate',
] as const;
export type EdgeCase = (typeof EDGE_CASES)[number];

const FIRST_AT: Record<EdgeCase, number> = Object.fromEntries(
  EDGE_CASES.map((name, i) => [name, 40 + i * 60]),
) as Record<EdgeCase, number>;
// a ≥ 1 MB document early would dominate a small demo set; put it after the first CHW area
FIRST_AT.hugeDoc = 2_400;
FIRST_AT.deletedUser = 0;

export const DAY_MS = 86_400_000;
/** Generated history spans these two instants (two years of a CHT deployment). */
export const HISTORY_START = Date.UTC(2024, 10, 1);
export const HISTORY_END = Date.UTC(2026, 10, 1);

export class GenContext {
  readonly rng: Rng;
  readonly ids: IdMaker;
  /** medic documents generated so far: the clock for forced edge cases. */
  medicCount = 0;
  private readonly forced = new Set<EdgeCase>();
  /** Set when a forced edge case fired since the last medic doc: that doc must not then be deleted into a stub. */
  hasForcedEdge = false;

  constructor(seed: number) {
    this.rng = new Rng(seed);
    this.ids = new IdMaker(new Rng(seed ^ 0x5bd1e995), new Rng(seed ^ 0x27d4eb2f).uint32());
  }

  /** True with probability p, and always the first time it is asked after its forced slot. */
  edge(name: EdgeCase, p: number): boolean {
    if (!this.forced.has(name) && this.medicCount >= FIRST_AT[name]) {
      this.forced.add(name);
      this.hasForcedEdge = true;
      return true;
    }
    return this.rng.chance(p);
  }

  iso(ms: number): string {
    return new Date(ms).toISOString();
  }

  /** A `YYYY-MM-DD` date. */
  day(ms: number): string {
    return new Date(ms).toISOString().slice(0, 10);
  }

  /** reported_date with the type drift real data has: mostly ms numbers, sometimes strings. */
  reportedDate(ms: number): number | string | undefined {
    const t = Math.floor(ms);
    if (this.edge('reportedDateString', 0.004)) return String(t);
    if (this.edge('reportedDateIso', 0.003)) return new Date(t).toISOString();
    // imported docs sometimes have none; the caller drops the key
    if (this.edge('reportedDateMissing', 0.001)) return undefined;
    return t;
  }

  /** Birth dates, including the malformed ones CHT databases hold ("1990-0-3", DD/MM/YYYY, 30 Feb). */
  dateOfBirth(ms: number): string {
    if (this.edge('malformedDate', 0.006)) {
      const d = new Date(ms);
      return this.rng.pick([
        `${d.getUTCFullYear()}-${d.getUTCMonth()}-${d.getUTCDay()}`,
        `${String(d.getUTCDate()).padStart(2, '0')}/${String(d.getUTCMonth() + 1).padStart(2, '0')}/${d.getUTCFullYear()}`,
        `${d.getUTCFullYear()}-02-30`,
        '',
      ]);
    }
    return this.day(ms);
  }

  /** A 5-digit shortcode; some start with 0, a few are numbers (test factories). */
  shortcode(): string | number {
    if (this.edge('patientIdNumber', 0.004)) return this.rng.range(10000, 99999);
    if (this.edge('patientIdLeadingZero', 0.01)) return `0${this.rng.range(1000, 9999)}`;
    return String(this.rng.range(10000, 99999));
  }

  /** A document id in one of the formats CHT databases mix. */
  docId(ms: number): string {
    if (this.edge('uuid7', 0.15)) return this.ids.uuid7(ms);
    if (this.edge('couch32', 0.005)) return this.ids.couch32();
    if (this.edge('upperUuid', 0.001)) return this.ids.upperUuid();
    return this.ids.uuid4();
  }
}
