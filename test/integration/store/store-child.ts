// Child process for store tests: opens the store, starts a run, then exits or waits to be killed.
import { openStore } from '../../../app/store';

const [file, mode] = process.argv.slice(2);
const store = openStore(file!);
const id = store.runs.start('sync', 'cli');
console.log(`started ${id}`);
if (mode === 'hang') setInterval(() => undefined, 1000);
else store.close();
