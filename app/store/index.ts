export { openStore, storeFile, type Store, type OpenStoreOptions } from './open-store';
export type { CheckpointStore } from './checkpoints-repo';
export type { RunsRepo, RunsFilter } from './runs-repo';
export type { ModelsRepo } from './models-repo';
export type { SettingsRepo } from './settings-repo';
export {
  boundSecret,
  couchOrigin,
  fileSecretStore,
  memorySecretStore,
  postgresOrigin,
  postgresUrlOrigin,
  saveBoundSecret,
  type SecretStore,
} from './secret-store';
export { defaultSavedSettings, mergeSettings, SECRET_NAMES, type SavedSettings } from './saved-settings';
export { MIGRATIONS } from './migrations';
export type { Migration } from './migrations/migration';
