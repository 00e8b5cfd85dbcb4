export { probeCouch, listDatabaseNames, USUAL_CHT_DATABASES } from './probe-couch';
export { checkDatabases } from './check-databases';
export { probeLink, estimateSeconds, type LinkProbe } from './probe-link';
export { probePostgres, type PostgresProbeOptions } from './probe-postgres';
export { couchGet, describeTarget, type CouchTarget, type ProbeOptions } from './couch-request';
export { nearMiss, levenshtein } from './near-miss';
