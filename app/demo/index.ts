export { startDemoCouch, pouchServerBin, type DemoCouch, type StartDemoCouchOptions } from './start-demo-couch';
export { addDemoActivity, type DemoActivityResult, type DemoActivityTarget } from './add-demo-activity';
