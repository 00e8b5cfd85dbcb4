export { listPlaces, hierarchyFromSettings, type PlaceChoice } from './list-places';
export { resolveScope, type ScopeResolution } from './resolve-scope';
export { scopeSelector, parseScopeList, matchesScope, type ResolvedScope } from './selector';
