import { callable } from '../jinja/values';

/**
 * Enough of Python's `datetime` for dbt projects: `run_started_at` (a UTC datetime that
 * prints as `2024-07-31 10:00:00.123456+00:00`) and `modules.datetime.datetime.now()`.
 */
const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

export class PyDateTime {
  private readonly d: Date;
  readonly microsecond: number;
  readonly aware: boolean;

  constructor(ms: number, aware: boolean, micros?: number) {
    this.d = new Date(ms);
    this.microsecond = micros ?? this.d.getUTCMilliseconds() * 1000;
    this.aware = aware;
  }
  get year(): number {
    return this.d.getUTCFullYear();
  }
  get month(): number {
    return this.d.getUTCMonth() + 1;
  }
  get day(): number {
    return this.d.getUTCDate();
  }
  get hour(): number {
    return this.d.getUTCHours();
  }
  get minute(): number {
    return this.d.getUTCMinutes();
  }
  get second(): number {
    return this.d.getUTCSeconds();
  }

  private body(sep: string): string {
    const base = `${pad(this.year, 4)}-${pad(this.month)}-${pad(this.day)}${sep}${pad(this.hour)}:${pad(this.minute)}:${pad(this.second)}`;
    return `${base}${this.microsecond ? `.${pad(this.microsecond, 6)}` : ''}${this.aware ? '+00:00' : ''}`;
  }
  toString(): string {
    return this.body(' ');
  }
  readonly isoformat = callable(() => this.body('T'));
  readonly timestamp = callable(() => this.d.getTime() / 1000);
  readonly strftime = callable((args) => {
    const fmt = String(args[0] ?? '');
    const weekday = (this.d.getUTCDay() + 6) % 7;
    const start = Date.UTC(this.year, 0, 1);
    const yday = Math.floor((Date.UTC(this.year, this.month - 1, this.day) - start) / 86_400_000) + 1;
    const map: Record<string, string> = {
      Y: pad(this.year, 4), y: pad(this.year % 100), m: pad(this.month), d: pad(this.day), H: pad(this.hour), M: pad(this.minute), S: pad(this.second),
      f: pad(this.microsecond, 6), j: pad(yday, 3), A: DAYS[weekday]!, a: DAYS[weekday]!.slice(0, 3), B: MONTHS[this.month - 1]!, b: MONTHS[this.month - 1]!.slice(0, 3),
      Z: this.aware ? 'UTC' : '', z: this.aware ? '+0000' : '', '%': '%',
    };
    return fmt.replace(/%([a-zA-Z%])/g, (m, c: string) => map[c] ?? m);
  });
}

export const datetimeModule = {
  datetime: {
    now: callable(() => new PyDateTime(Date.now(), false)),
    utcnow: callable(() => new PyDateTime(Date.now(), false)),
  },
  date: { today: callable(() => new PyDateTime(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate()), false)) },
};
