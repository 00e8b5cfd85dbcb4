export {
  resolveConfig,
  buildPostgresUrl,
  DEFAULTS,
  type CliFlags,
  type ResolvedConfig,
  type ResolveConfigInput,
} from './resolve-config';
export { defaultDataDir, resolveDataDir } from './default-data-dir';
export { parseEnvFile, readEnvFile } from './env-file';
