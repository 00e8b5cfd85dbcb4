// The hosts (app/cli, app/host, main/) reach the engine only through this file and app/contract.
export { bootEngine, hasRealSetup, type BootEngineOptions } from './boot-engine';
export { createEngine, type CreateEngineOptions, type LocalEngine } from './create-engine';
export { invokeHandler } from './invoke-handler';
export { CONTENT_SECURITY_POLICY } from './csp';
export type { Engine, EngineEvents, HandlerTable, SecretStore, Trigger } from './types';
export type { EngineConfig } from './config';
export type { EngineModules } from './modules';
export { EngineError } from '../core/engine-error';
export { createLogger, type Logger } from '../core/logger';
export { defaultDataDir, readEnvFile, resolveDataDir, type CliFlags } from '../config';
