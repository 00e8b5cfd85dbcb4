import { mix32, type Rng } from './prng';

/**
 * Document ids in the formats that coexist in a CHT database (cht-data-model.md §5.3): uuid v4,
 * uuid v7 (5.2+), uuid v5-looking (cht-conf csv-to-docs), 32-hex CouchDB-generated ids and the odd
 * upper-case uuid. Every id embeds a bijective mix of a per-generator counter, so ids are unique
 * by construction (a 32-bit PRNG alone would collide at a million documents).
 */
export class IdMaker {
  private counter = 0;

  constructor(
    private readonly rng: Rng,
    private readonly key: number,
  ) {}

  private unique(): string {
    this.counter += 1;
    return mix32((this.counter ^ this.key) >>> 0)
      .toString(16)
      .padStart(8, '0');
  }

  uuid4(): string {
    const r = this.rng;
    return `${this.unique()}-${r.hex(4)}-4${r.hex(3)}-${'89ab'[r.int(4)]}${r.hex(3)}-${r.hex(12)}`;
  }

  uuid5(): string {
    const r = this.rng;
    return `${this.unique()}-${r.hex(4)}-5${r.hex(3)}-${'89ab'[r.int(4)]}${r.hex(3)}-${r.hex(12)}`;
  }

  /** Time-ordered, as CHT 5.2+ writes them: the first 48 bits are the creation time in ms. */
  uuid7(ms: number): string {
    const r = this.rng;
    const t = Math.max(0, Math.floor(ms)).toString(16).padStart(12, '0').slice(-12);
    return `${t.slice(0, 8)}-${t.slice(8, 12)}-7${r.hex(3)}-${'89ab'[r.int(4)]}${r.hex(3)}-${r.hex(4)}${this.unique()}`;
  }

  couch32(): string {
    return `${this.unique()}${this.rng.hex(24)}`;
  }

  upperUuid(): string {
    return this.uuid4().toUpperCase();
  }

  /** The `<generation>-<32 hex>` CouchDB revision string. */
  rev(generation: number): string {
    return `${generation}-${this.rng.hex(32)}`;
  }
}
