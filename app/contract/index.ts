export * from './client';
export * from './dto';
export * from './errors';
export * from './events';
export * from './methods';
export { SETTING_BOUNDS } from './settings';
