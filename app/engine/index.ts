export { createEngine, type CreateEngineOptions } from './create-engine';
export { invokeHandler } from './invoke-handler';
export { CONTENT_SECURITY_POLICY } from './csp';
export type { Engine, EngineEvents, HandlerTable, SecretStore, Trigger } from './types';
export type { EngineConfig } from './config';
export type { EngineModules } from './modules';
