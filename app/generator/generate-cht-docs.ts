import {
  buildFeedback,
  buildInfo,
  buildLegacyTombstone,
  buildTarget,
  buildTask,
  buildTelemetry,
  buildUser,
  buildUserSettings,
  type UserRef,
} from './activity';
import { buildConfigDocs } from './config-docs';
import {
  buildDistrict,
  buildHealthCenter,
  buildHousehold,
  buildPerson,
  type PersonRef,
  type PlaceRef,
} from './contacts';
import { DAY_MS, GenContext, HISTORY_END, HISTORY_START, type Doc } from './context';
import { buildAppReport, buildHugeReport, buildSmsReport, type ReportRef, type Reporter } from './reports';
import { personName, phone, pickScript } from './text';

export type ChtDatabase = 'medic' | 'medic-sentinel' | 'medic-users-meta' | '_users';
export const CHT_DATABASES: readonly ChtDatabase[] = ['medic', 'medic-sentinel', 'medic-users-meta', '_users'];

export interface GeneratedDoc {
  database: ChtDatabase;
  doc: Record<string, unknown>;
}

export interface GenerateOptions {
  seed: number;
  /** How many documents to yield, all databases together. */
  docs: number;
  /** CHW areas per branch (district_hospital); default 20. Tests use fewer to get several districts from few documents. */
  areasPerBranch?: number;
}

/** One CHW area every this many is a new branch (district_hospital) with its own manager. */
const AREAS_PER_BRANCH = 20;
/** Share of eligible medic docs deleted (≈ 1.3 % of all documents once sentinel and telemetry are counted). */
const DELETE_STUB_RATE = 0.011;
const DELETE_FULL_RATE = 0.018;

/**
 * Synthetic CHT documents for the four databases a sync copies, in feed order, deterministic by
 * seed and lazy: the iterable holds one CHW area's working set (a few hundred refs), never the
 * whole set, so it can yield millions. A prefix of a longer run equals a shorter run with the
 * same seed. Proportions and edge cases follow cht-data-model.md §5 (see README.md here).
 */
export function generateChtDocs(o: GenerateOptions): Iterable<GeneratedDoc> {
  if (!Number.isInteger(o.docs) || o.docs < 0)
    throw new RangeError(`docs must be a non-negative integer, got ${o.docs}`);
  if (!Number.isInteger(o.seed)) throw new RangeError(`seed must be an integer, got ${o.seed}`);
  return {
    *[Symbol.iterator]() {
      if (o.docs === 0) return;
      let n = 0;
      for (const item of stream(o.seed, o.areasPerBranch ?? AREAS_PER_BRANCH)) {
        yield item;
        n += 1;
        if (n >= o.docs) return;
      }
    },
  };
}

function revGeneration(doc: Doc): number {
  const rev = typeof doc._rev === 'string' ? doc._rev : '1-';
  return Number.parseInt(rev, 10) || 1;
}

function* stream(seed: number, areasPerBranch: number): Generator<GeneratedDoc, never> {
  const ctx = new GenContext(seed);
  const { rng } = ctx;

  function* medic(doc: Doc, at: number, deletable = false): Generator<GeneratedDoc> {
    ctx.medicCount += 1;
    if ('reported_date' in doc && doc.reported_date === undefined) delete doc.reported_date;
    let out = doc;
    const keepWhole = ctx.hasForcedEdge;
    ctx.hasForcedEdge = false;
    if (deletable && !keepWhole) {
      if (ctx.edge('deleteStub', DELETE_STUB_RATE)) {
        // Fauxton / DELETE / db.remove(): a body-less tombstone
        out = { _id: doc._id, _rev: ctx.ids.rev(revGeneration(doc) + 1), _deleted: true };
        if (doc.type === 'data_record' && ctx.edge('legacyTombstone', 0.15)) {
          yield* medic(buildLegacyTombstone(ctx, doc), at);
        }
      } else if (ctx.edge('deleteFullBody', DELETE_FULL_RATE)) {
        // the webapp's DeleteDocsService saves the whole doc with _deleted: true
        out = { ...doc, _rev: ctx.ids.rev(revGeneration(doc) + 1), _deleted: true };
      }
    }
    yield { database: 'medic', doc: out };
    if (!String(out._id).startsWith('_design/') && rng.chance(0.97))
      yield { database: 'medic-sentinel', doc: buildInfo(ctx, out, at) };
  }

  for (const doc of buildConfigDocs(ctx)) yield* medic(doc, HISTORY_START);

  let branch: PlaceRef | null = null;
  for (let area = 0; ; area++) {
    const script = pickScript(rng);
    const start = HISTORY_START + rng.int(150) * DAY_MS;
    const end = HISTORY_END - rng.int(20) * DAY_MS;

    if (area % areasPerBranch === 0 || !branch) {
      const managerId = ctx.docId(start);
      const dh = buildDistrict(
        ctx,
        start - 30 * DAY_MS,
        `${rng.pick(['Kiambu', 'Ruiru', 'Thika', 'Kisumu', 'Pokhara', 'Kassala', 'Bahir Dar'])} Branch ${area / areasPerBranch + 1}`,
        managerId,
      );
      branch = dh.ref;
      yield* medic(dh.doc, start);
      const manager = buildPerson(ctx, start, {
        id: managerId,
        household: branch,
        script,
        creator: { user: 'admin', personId: '', placeId: '' },
        role: 'manager',
        adult: true,
      });
      yield* medic(manager.doc, start);
      const managerUser: UserRef = {
        name: `manager_${area}`,
        personId: managerId,
        placeId: branch.id,
        districtId: branch.id,
        deviceId: ctx.ids.uuid4(),
      };
      yield* medic(
        buildUserSettings(ctx, managerUser, manager.ref.name, phone(rng, script), ['chw_supervisor', 'mm-online']),
        start,
      );
      yield { database: '_users', doc: buildUser(ctx, managerUser, ['chw_supervisor', 'mm-online'], false) };
    }
    const district: PlaceRef = branch;

    const chwId = ctx.docId(start);
    const chwName = personName(rng, script);
    const hc = buildHealthCenter(ctx, start, district, `${chwName}'s Area`, chwId);
    yield* medic(hc.doc, start);
    const chw = buildPerson(ctx, start, {
      id: chwId,
      household: hc.ref,
      script,
      creator: { user: 'admin', personId: '', placeId: '' },
      role: 'chw',
      adult: true,
    });
    yield* medic(chw.doc, start);
    const user: UserRef = {
      name: `chw_${area}`,
      personId: chwId,
      placeId: hc.ref.id,
      districtId: district.id,
      deviceId: ctx.ids.uuid4(),
    };
    const chwPhone = phone(rng, script);
    yield* medic(buildUserSettings(ctx, user, chw.ref.name, chwPhone, ['chw']), start);
    yield { database: '_users', doc: buildUser(ctx, user, ['chw'], false) };
    if (ctx.edge('deletedUser', 0.15)) {
      // a CHW who left: CHT deletes the _users doc by saving it whole with _deleted, so the tombstone keeps the hash
      const former: UserRef = { ...user, name: `former_chw_${area}`, deviceId: ctx.ids.uuid4() };
      yield { database: '_users', doc: buildUser(ctx, former, ['chw'], true) };
      yield* medic(
        {
          ...buildUserSettings(ctx, former, personName(rng, script), phone(rng, script), ['chw']),
          inactive: true,
          deletion_date: ctx.iso(start + 200 * DAY_MS),
        },
        start,
      );
    }

    const reporter: Reporter = {
      personId: chwId,
      name: chw.ref.name,
      phone: chwPhone,
      user: user.name,
      lineage: { _id: chwId, parent: hc.ref.lineage },
    };
    const creator = { user: user.name, personId: chwId, placeId: hc.ref.id };
    const appVersion = rng.pick(['4.21.0', '5.1.2', '5.2.0']);
    const households: PlaceRef[] = [];
    const persons: PersonRef[] = [];
    const reports: ReportRef[] = [];
    const taskIds = new Set<string>();
    const size = rng.range(1500, 2800);
    let k = 0;
    let lastDay = Math.floor(start / DAY_MS);
    let lastMonth = monthKey(start);

    while (k < size) {
      const t = start + (k / size) * (end - start);
      const today = Math.floor(t / DAY_MS);
      while (lastDay < today) {
        lastDay += 1;
        if (rng.chance(0.72))
          yield { database: 'medic-users-meta', doc: buildTelemetry(ctx, lastDay * DAY_MS, user, appVersion) };
        if (rng.chance(0.065))
          yield {
            database: 'medic-users-meta',
            doc: buildFeedback(ctx, lastDay * DAY_MS + rng.int(DAY_MS), user, false),
          };
      }
      const month = monthKey(t);
      if (month !== lastMonth) {
        yield* medic(buildTarget(ctx, monthStart(lastMonth), user), t);
        k += 1;
        lastMonth = month;
      }

      const r = rng.next();
      if (households.length === 0 || r < 0.03) {
        const headId = ctx.docId(t);
        const hh = buildHousehold(ctx, t, hc.ref, script, headId, creator);
        households.push(hh.ref);
        yield* medic(hh.doc, t, true);
        const head = buildPerson(ctx, t, { id: headId, household: hh.ref, script, creator, adult: true });
        persons.push(head.ref);
        yield* medic(head.doc, t, true);
        k += 2;
      } else if (r < 0.17) {
        const household = households[households.length - 1 - rng.int(Math.min(households.length, 8))] ?? households[0];
        if (!household) continue;
        const p = buildPerson(ctx, t, { household, script, creator });
        persons.push(p.ref);
        yield* medic(p.doc, t, true);
        k += 1;
      } else if (r < 0.585 || reports.length === 0) {
        const patient = persons[rng.int(persons.length)];
        if (!patient) continue;
        const built = rng.chance(0.05)
          ? buildSmsReport(ctx, t, patient, reporter)
          : buildAppReport(ctx, t, patient, reporter);
        reports.push(built.ref);
        if (reports.length > 300) reports.shift();
        yield* medic(built.doc, t, true);
        k += 1;
      } else {
        const report = reports[reports.length - 1 - rng.int(Math.min(reports.length, 60))];
        if (!report) continue;
        yield* medic(buildTask(ctx, report, user, taskIds), t, true);
        k += 1;
      }

      if (ctx.edge('hugeDoc', 1 / 40_000)) {
        const patient = persons[rng.int(persons.length)];
        if (rng.chance(0.5) && patient) yield* medic(buildHugeReport(ctx, t, patient, reporter), t);
        else yield { database: 'medic-users-meta', doc: buildFeedback(ctx, t, user, true) };
      }
    }
    yield* medic(buildTarget(ctx, monthStart(lastMonth), user), end);
  }
}

function monthKey(ms: number): number {
  const d = new Date(ms);
  return d.getUTCFullYear() * 12 + d.getUTCMonth();
}

function monthStart(key: number): number {
  return Date.UTC(Math.floor(key / 12), key % 12, 1);
}
