export { createEngine, type CreateEngineOptions } from './create-engine';
export { invokeHandler } from './invoke-handler';
export { CONTENT_SECURITY_POLICY } from './csp';
export type { Engine, EngineEvents, HandlerTable, SecretStore, Trigger } from './types';
export type { EngineConfig } from './config';
export type { EngineModules } from './modules';
// The shell (main/) reaches the engine only through this file and app/contract.
export { EngineError } from '../core/engine-error';
export { createLogger, type Logger } from '../core/logger';
export { resolveConfig, defaultDataDir } from '../config';
export { openStore, storeFile, SECRET_NAMES } from '../store';
