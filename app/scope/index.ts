export { listPlaces, listPlacesOn, hierarchyFromSettings, type PlaceChoice } from './list-places';
export { resolveScope, type ScopeResolution } from './resolve-scope';
export {
  scopeSelector,
  scopedDatabaseKind,
  medicDatabaseOf,
  parseScopeList,
  matchesScope,
  type ResolvedScope,
} from './selector';
