import { callable } from '../jinja/values';

/**
 * Enough of Python's `datetime` (and `pytz`) for dbt projects: `run_started_at`, `modules.datetime`
 * (`date(…)`, `datetime(…)`, `timedelta(…)`, `now()`, `strptime`, arithmetic and comparisons,
 * `strftime`/`isoformat`) and `modules.pytz` (`utc`, `timezone('UTC')`). Values print like
 * `str()` of their Python counterparts. Only UTC is known as a time zone.
 */
const pad = (n: number, w = 2): string => String(Math.trunc(Math.abs(n))).padStart(w, '0');
const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const US_PER_DAY = 86_400_000_000;

/** Minutes east of UTC of `zone` at the instant `utcMs`, from the platform's time-zone data. */
function zoneOffsetMinutes(zone: string, utcMs: number): number {
  if (zone === 'UTC') return 0;
  const text =
    new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' })
      .formatToParts(new Date(utcMs))
      .find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /GMT([+-])(\d{2}):(\d{2})(?::(\d{2}))?/.exec(text);
  if (!m) return 0;
  const secs = Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4] ?? 0);
  return ((m[1] === '-' ? -1 : 1) * secs) / 60;
}

/**
 * A pytz time zone. As in pytz, a zone handed straight to `datetime(..., tzinfo=tz)` carries its
 * first (local mean time) offset rounded to the minute — `-07:53` for America/Los_Angeles —
 * while `tz.localize(dt)`, `dt.astimezone(tz)` and `datetime.now(tz)` use the real offset.
 */
export class PyTzInfo {
  constructor(readonly zone: string) {}
  toString(): string {
    return this.zone;
  }
  /** pytz's default offset (minutes): LMT, rounded to whole minutes as pytz does. */
  get lmtMinutes(): number {
    if (this.zone === 'UTC') return 0;
    return Math.floor((zoneOffsetMinutes(this.zone, Date.UTC(1800, 0, 1)) * 60 + 30) / 60);
  }
  offsetAt(utcMs: number): number {
    return zoneOffsetMinutes(this.zone, utcMs);
  }
  readonly utcoffset = callable(() => new PyTimedelta(this.lmtMinutes * 60_000_000));
  readonly localize = callable(([dt]) => {
    if (!(dt instanceof PyDateTime)) return dt;
    const wallMs = dt.epochMicros / 1000;
    const guess = this.offsetAt(wallMs);
    const off = this.offsetAt(wallMs - guess * 60_000);
    return PyDateTime.fromMicros(dt.epochMicros, this, off);
  });
}
export const UTC = new PyTzInfo('UTC');

export class PyTimedelta {
  /** Whole microseconds. */
  constructor(readonly micros: number) {}
  get days(): number {
    return Math.floor(this.micros / US_PER_DAY);
  }
  get seconds(): number {
    return Math.floor((this.micros - this.days * US_PER_DAY) / 1_000_000);
  }
  get microseconds(): number {
    return this.micros - this.days * US_PER_DAY - this.seconds * 1_000_000;
  }
  readonly total_seconds = callable(() => this.micros / 1_000_000);
  toString(): string {
    const d = this.days;
    const s = this.seconds;
    const clock = `${Math.floor(s / 3600)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}${this.microseconds ? `.${pad(this.microseconds, 6)}` : ''}`;
    return d ? `${d} day${Math.abs(d) === 1 ? '' : 's'}, ${clock}` : clock;
  }
  __add__(o: unknown): unknown {
    if (o instanceof PyTimedelta) return new PyTimedelta(this.micros + o.micros);
    return undefined;
  }
  __sub__(o: unknown): unknown {
    return o instanceof PyTimedelta ? new PyTimedelta(this.micros - o.micros) : undefined;
  }
  __eq__(o: unknown): unknown {
    return o instanceof PyTimedelta ? o.micros === this.micros : undefined;
  }
  __cmp__(o: unknown): unknown {
    return o instanceof PyTimedelta ? Math.sign(this.micros - o.micros) : undefined;
  }
}

function strftime(
  fmt: string,
  f: {
    year: number;
    month: number;
    day: number;
    hour: number;
    minute: number;
    second: number;
    microsecond: number;
    tz: PyTzInfo | null;
  },
): string {
  const weekday = (new Date(Date.UTC(f.year, f.month - 1, f.day)).getUTCDay() + 6) % 7;
  const yday = Math.floor((Date.UTC(f.year, f.month - 1, f.day) - Date.UTC(f.year, 0, 1)) / 86_400_000) + 1;
  const map: Record<string, string> = {
    Y: pad(f.year, 4),
    y: pad(f.year % 100),
    m: pad(f.month),
    d: pad(f.day),
    H: pad(f.hour),
    I: pad(((f.hour + 11) % 12) + 1),
    p: f.hour < 12 ? 'AM' : 'PM',
    M: pad(f.minute),
    S: pad(f.second),
    f: pad(f.microsecond, 6),
    j: pad(yday, 3),
    A: DAYS[weekday]!,
    a: DAYS[weekday]!.slice(0, 3),
    w: String((weekday + 1) % 7),
    u: String(weekday + 1),
    B: MONTHS[f.month - 1]!,
    b: MONTHS[f.month - 1]!.slice(0, 3),
    Z: f.tz ? f.tz.zone : '',
    z: f.tz ? '+0000' : '',
    '%': '%',
  };
  return fmt.replace(/%([a-zA-Z%])/g, (m, c: string) => map[c] ?? m);
}

export class PyDate {
  /** Days since 1970-01-01. */
  constructor(readonly epochDays: number) {}
  static of(y: number, m: number, d: number): PyDate {
    const ms = Date.UTC(y, m - 1, d);
    const back = new Date(ms);
    if (back.getUTCMonth() !== m - 1 || back.getUTCDate() !== d || m < 1 || m > 12)
      throw new Error('ValueError: day is out of range for month');
    return new PyDate(Math.round(ms / 86_400_000));
  }
  private get d(): Date {
    return new Date(this.epochDays * 86_400_000);
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
  readonly weekday = callable(() => (this.d.getUTCDay() + 6) % 7);
  readonly isoweekday = callable(() => ((this.d.getUTCDay() + 6) % 7) + 1);
  readonly isoformat = callable(() => this.toString());
  readonly strftime = callable(([fmt]) =>
    strftime(String(fmt ?? ''), {
      year: this.year,
      month: this.month,
      day: this.day,
      hour: 0,
      minute: 0,
      second: 0,
      microsecond: 0,
      tz: null,
    }),
  );
  readonly replace = callable((_a, kw) =>
    PyDate.of(Number(kw.year ?? this.year), Number(kw.month ?? this.month), Number(kw.day ?? this.day)),
  );
  toString(): string {
    return `${pad(this.year, 4)}-${pad(this.month)}-${pad(this.day)}`;
  }
  __add__(o: unknown): unknown {
    return o instanceof PyTimedelta ? new PyDate(this.epochDays + Math.floor(o.micros / US_PER_DAY)) : undefined;
  }
  __sub__(o: unknown): unknown {
    if (o instanceof PyTimedelta) return new PyDate(this.epochDays - Math.floor(o.micros / US_PER_DAY));
    if (o instanceof PyDate) return new PyTimedelta((this.epochDays - o.epochDays) * US_PER_DAY);
    return undefined;
  }
  __eq__(o: unknown): unknown {
    return o instanceof PyDate ? o.epochDays === this.epochDays : undefined;
  }
  __cmp__(o: unknown): unknown {
    return o instanceof PyDate ? Math.sign(this.epochDays - o.epochDays) : undefined;
  }
}

export class PyDateTime {
  /** Wall-clock microseconds since the epoch (the local time for aware values). */
  readonly epochMicros: number;
  readonly microsecond: number;
  readonly tzinfo: PyTzInfo | null;
  /** Minutes east of UTC for aware values. */
  readonly offsetMinutes: number;

  constructor(ms: number, aware: boolean, micros?: number, tz?: PyTzInfo, offsetMinutes?: number) {
    const wholeMs = Math.floor(ms);
    const us = micros ?? (((wholeMs % 1000) + 1000) % 1000) * 1000;
    this.epochMicros = (wholeMs - (((wholeMs % 1000) + 1000) % 1000)) * 1000 + us;
    this.microsecond = us;
    this.tzinfo = aware ? (tz ?? UTC) : null;
    this.offsetMinutes = aware ? (offsetMinutes ?? this.tzinfo!.lmtMinutes) : 0;
  }
  static fromMicros(us: number, tz: PyTzInfo | null, offsetMinutes?: number): PyDateTime {
    const micro = ((us % 1_000_000) + 1_000_000) % 1_000_000;
    const secMs = ((us - micro) / 1_000_000) * 1000;
    return new PyDateTime(secMs, tz !== null, micro, tz ?? undefined, offsetMinutes);
  }
  /** The instant, in UTC microseconds. */
  private get utcMicros(): number {
    return this.epochMicros - this.offsetMinutes * 60_000_000;
  }
  get aware(): boolean {
    return this.tzinfo !== null;
  }
  private get d(): Date {
    return new Date(Math.floor(this.epochMicros / 1000));
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
  private fields() {
    return {
      year: this.year,
      month: this.month,
      day: this.day,
      hour: this.hour,
      minute: this.minute,
      second: this.second,
      microsecond: this.microsecond,
      tz: this.tzinfo,
    };
  }
  private offsetText(): string {
    if (!this.aware) return '';
    const m = Math.abs(this.offsetMinutes);
    return `${this.offsetMinutes < 0 ? '-' : '+'}${pad(Math.floor(m / 60))}:${pad(m % 60)}`;
  }
  private body(sep: string): string {
    const base = `${pad(this.year, 4)}-${pad(this.month)}-${pad(this.day)}${sep}${pad(this.hour)}:${pad(this.minute)}:${pad(this.second)}`;
    return `${base}${this.microsecond ? `.${pad(this.microsecond, 6)}` : ''}${this.offsetText()}`;
  }
  toString(): string {
    return this.body(' ');
  }
  readonly isoformat = callable(([sep]) => this.body(typeof sep === 'string' ? sep : 'T'));
  readonly timestamp = callable(() => (this.aware ? this.utcMicros : this.epochMicros) / 1_000_000);
  readonly strftime = callable(([fmt]) => strftime(String(fmt ?? ''), this.fields()));
  readonly date = callable(() => new PyDate(Math.floor(this.epochMicros / US_PER_DAY)));
  readonly weekday = callable(() => (this.d.getUTCDay() + 6) % 7);
  readonly isoweekday = callable(() => ((this.d.getUTCDay() + 6) % 7) + 1);
  readonly astimezone = callable(([tz]) => {
    const zone = tz instanceof PyTzInfo ? tz : UTC;
    const utc = this.aware ? this.utcMicros : this.epochMicros;
    const off = zone.offsetAt(utc / 1000);
    return PyDateTime.fromMicros(utc + off * 60_000_000, zone, off);
  });
  readonly replace = callable((_a, kw) => {
    const f = this.fields();
    const tz = 'tzinfo' in kw ? (kw.tzinfo instanceof PyTzInfo ? kw.tzinfo : null) : this.tzinfo;
    const ms = Date.UTC(
      Number(kw.year ?? f.year),
      Number(kw.month ?? f.month) - 1,
      Number(kw.day ?? f.day),
      Number(kw.hour ?? f.hour),
      Number(kw.minute ?? f.minute),
      Number(kw.second ?? f.second),
    );
    const off = 'tzinfo' in kw ? undefined : this.offsetMinutes;
    return new PyDateTime(ms, tz !== null, Number(kw.microsecond ?? f.microsecond), tz ?? undefined, off);
  });
  __add__(o: unknown): unknown {
    return o instanceof PyTimedelta
      ? PyDateTime.fromMicros(this.epochMicros + o.micros, this.tzinfo, this.offsetMinutes)
      : undefined;
  }
  __sub__(o: unknown): unknown {
    if (o instanceof PyTimedelta)
      return PyDateTime.fromMicros(this.epochMicros - o.micros, this.tzinfo, this.offsetMinutes);
    if (o instanceof PyDateTime) return new PyTimedelta(this.utcMicros - o.utcMicros);
    return undefined;
  }
  __eq__(o: unknown): unknown {
    return o instanceof PyDateTime ? o.utcMicros === this.utcMicros : undefined;
  }
  __cmp__(o: unknown): unknown {
    return o instanceof PyDateTime ? Math.sign(this.utcMicros - o.utcMicros) : undefined;
  }
}

/**
 * A timestamp / timestamptz / date as PostgreSQL's text output gives it, as the Python value
 * psycopg2 would hand dbt (so it prints `2024-07-31 10:05:09.120000+00:00`); null when the text
 * is not an ordinary date (infinity, BC).
 */
export function fromPgText(text: string, oid: number): PyDateTime | PyDate | null {
  if (oid === 1082) {
    const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
    return d ? PyDate.of(Number(d[1]), Number(d[2]), Number(d[3])) : null;
  }
  const m =
    /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:([+-])(\d{2})(?::(\d{2}))?(?::(\d{2}))?)?$/.exec(
      text,
    );
  if (!m) return null;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  const micros = Number((m[7] ?? '0').padEnd(6, '0'));
  if (!m[8]) return new PyDateTime(ms, false, micros);
  const off = (m[8] === '-' ? -1 : 1) * (Number(m[9]) * 60 + Number(m[10] ?? 0));
  return new PyDateTime(ms, true, micros, UTC, off);
}

const n = (v: unknown, fallback = 0): number => (v === undefined || v === null ? fallback : Number(v));

function newDateTime(args: unknown[], kw: Record<string, unknown>): PyDateTime {
  const names = ['year', 'month', 'day', 'hour', 'minute', 'second', 'microsecond', 'tzinfo'];
  const v = (i: number): unknown => (args.length > i ? args[i] : kw[names[i]!]);
  const y = n(v(0));
  const m = n(v(1));
  const d = n(v(2));
  PyDate.of(y, m, d);
  const tz = v(7);
  return new PyDateTime(
    Date.UTC(y, m - 1, d, n(v(3)), n(v(4)), n(v(5))),
    tz instanceof PyTzInfo,
    n(v(6)),
    tz instanceof PyTzInfo ? tz : undefined,
  );
}

/** strptime for the directives dbt projects use (%Y %m %d %H %M %S %f %j %y %b %B %p %I %z). */
function strptime(text: string, fmt: string): PyDateTime {
  const f: Record<string, number> = { Y: 1900, m: 1, d: 1, H: 0, M: 0, S: 0, f: 0 };
  let re = '';
  const order: string[] = [];
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i]!;
    if (c === '%' && i + 1 < fmt.length) {
      const k = fmt[++i]!;
      const pat: Record<string, string> = {
        Y: '(\\d{4})',
        m: '(\\d{1,2})',
        d: '(\\d{1,2})',
        H: '(\\d{1,2})',
        I: '(\\d{1,2})',
        M: '(\\d{1,2})',
        S: '(\\d{1,2})',
        f: '(\\d{1,6})',
        y: '(\\d{2})',
        j: '(\\d{1,3})',
        b: '([A-Za-z]{3})',
        B: '([A-Za-z]+)',
        p: '(AM|PM|am|pm)',
        z: '([+-]\\d{4}|Z)',
        '%': '%',
      };
      if (!pat[k]) throw new Error(`ValueError: '${k}' is a bad directive in format '${fmt}'`);
      re += pat[k];
      if (k !== '%') order.push(k);
    } else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  const m = new RegExp(`^${re}$`).exec(text);
  if (!m) throw new Error(`ValueError: time data '${text}' does not match format '${fmt}'`);
  let pm: boolean | null = null;
  order.forEach((k, i) => {
    const s = m[i + 1]!;
    if (k === 'b' || k === 'B')
      f.m = MONTHS.findIndex((x) => x.toLowerCase().startsWith(s.toLowerCase().slice(0, 3))) + 1;
    else if (k === 'p') pm = s.toLowerCase() === 'pm';
    else if (k === 'f') f.f = Number(s.padEnd(6, '0'));
    else if (k === 'y') f.Y = Number(s) + (Number(s) < 69 ? 2000 : 1900);
    else if (k === 'I') f.H = Number(s) % 12;
    else if (k === 'z') return;
    else f[k] = Number(s);
  });
  if (pm) f.H = (f.H! % 12) + 12;
  if (f.j !== undefined) {
    const ms = Date.UTC(f.Y!, 0, f.j);
    return new PyDateTime(ms + f.H! * 3600_000 + f.M! * 60_000 + f.S! * 1000, false, f.f);
  }
  return new PyDateTime(Date.UTC(f.Y!, f.m! - 1, f.d!, f.H!, f.M!, f.S!), false, f.f);
}

function fromIso(s: string): PyDateTime {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?(Z|[+-]00:?00)?$/.exec(
    s.trim(),
  );
  if (!m) throw new Error(`ValueError: Invalid isoformat string: '${s}'`);
  const ms = Date.UTC(
    Number(m[1]),
    Number(m[2]) - 1,
    Number(m[3]),
    Number(m[4] ?? 0),
    Number(m[5] ?? 0),
    Number(m[6] ?? 0),
  );
  return new PyDateTime(ms, Boolean(m[8]), Number((m[7] ?? '0').padEnd(6, '0')));
}

const nowUtc = (): number => Date.now();

export const datetimeModule = {
  datetime: Object.assign(callable(newDateTime), {
    now: callable(([tz]) => {
      if (!(tz instanceof PyTzInfo)) return new PyDateTime(nowUtc(), false);
      const off = tz.offsetAt(nowUtc());
      return new PyDateTime(nowUtc() + off * 60_000, true, undefined, tz, off);
    }),
    utcnow: callable(() => new PyDateTime(nowUtc(), false)),
    today: callable(() => new PyDateTime(nowUtc(), false)),
    strptime: callable(([s, fmt]) => strptime(String(s), String(fmt))),
    fromisoformat: callable(([s]) => fromIso(String(s))),
    fromtimestamp: callable(([t, tz]) => {
      const ms = Number(t) * 1000;
      if (!(tz instanceof PyTzInfo)) return new PyDateTime(ms, false);
      const off = tz.offsetAt(ms);
      return new PyDateTime(ms + off * 60_000, true, undefined, tz, off);
    }),
    combine: callable(([d, t]) => (d instanceof PyDate ? new PyDateTime(d.epochDays * 86_400_000, false) : t)),
  }),
  date: Object.assign(
    callable((args, kw) => PyDate.of(n(args[0] ?? kw.year), n(args[1] ?? kw.month), n(args[2] ?? kw.day))),
    {
      today: callable(() => new PyDate(Math.floor(nowUtc() / 86_400_000))),
      fromisoformat: callable(([s]) => {
        const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(s));
        if (!m) throw new Error(`ValueError: Invalid isoformat string: '${String(s)}'`);
        return PyDate.of(Number(m[1]), Number(m[2]), Number(m[3]));
      }),
    },
  ),
  timedelta: callable((args, kw) => {
    const names = ['days', 'seconds', 'microseconds', 'milliseconds', 'minutes', 'hours', 'weeks'];
    const v = (i: number): number => n(args.length > i ? args[i] : kw[names[i]!]);
    const us = v(0) * US_PER_DAY + v(1) * 1e6 + v(2) + v(3) * 1e3 + v(4) * 60e6 + v(5) * 3600e6 + v(6) * 7 * US_PER_DAY;
    return new PyTimedelta(Math.round(us));
  }),
  timezone: Object.assign(
    callable(() => UTC),
    { utc: UTC },
  ),
};

export const pytzModule = {
  utc: UTC,
  UTC,
  timezone: callable(([name]) => {
    const z = String(name);
    if (z.toUpperCase() === 'UTC') return UTC;
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: z });
    } catch {
      throw new Error(`UnknownTimeZoneError: '${z}'`);
    }
    return new PyTzInfo(z);
  }),
};
