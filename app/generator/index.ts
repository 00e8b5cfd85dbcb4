export {
  generateChtDocs,
  CHT_DATABASES,
  type ChtDatabase,
  type GeneratedDoc,
  type GenerateOptions,
} from './generate-cht-docs';
export { seedCouch, type SeedResult } from './seed-couch';
export { EDGE_CASES, type EdgeCase } from './context';
