import type Database from 'better-sqlite3';

/** Per project, the fingerprint of each model's last successful build (compiled SQL + parents). */
export interface ModelsRepo {
  getFingerprints(projectKey: string): Map<string, string>;
  /** Replaces the whole set for the project. */
  setFingerprints(projectKey: string, fingerprints: Map<string, string>): void;
}

export function modelsRepo(db: Database.Database): ModelsRepo {
  const select = db.prepare('select unique_id, fingerprint from model_fingerprints where project_key = ?');
  const clear = db.prepare('delete from model_fingerprints where project_key = ?');
  const insert = db.prepare('insert into model_fingerprints (project_key, unique_id, fingerprint) values (?, ?, ?)');
  const replace = db.transaction((projectKey: string, fingerprints: Map<string, string>) => {
    clear.run(projectKey);
    for (const [id, fp] of fingerprints) insert.run(projectKey, id, fp);
  });
  return {
    getFingerprints(projectKey) {
      const rows = select.all(projectKey) as { unique_id: string; fingerprint: string }[];
      return new Map(rows.map((r) => [r.unique_id, r.fingerprint]));
    },
    setFingerprints(projectKey, fingerprints) {
      replace(projectKey, fingerprints);
    },
  };
}
