/**
 * The replay source in a process of its own (`responsive-bench.ts`): the measured process's event
 * loop must carry the engine's work only. Writes the generated set's replay files, serves them,
 * prints `{"url": …, "docs": N}` on one line, and serves until stdin closes.
 *   node --import tsx test/bench/replay-child.ts <dir> <seed> <docs>
 */
import { generateChtDocs } from '../../app/generator';
import { startReplayServer, writeReplayFiles } from './replay-server';

async function main(): Promise<void> {
  const [dir, seed, docs] = process.argv.slice(2);
  if (!dir || !seed || !docs) throw new Error('usage: replay-child.ts <dir> <seed> <docs>');
  let total = 0;
  const files = await writeReplayFiles(dir, generateChtDocs({ seed: Number(seed), docs: Number(docs) }), () => {
    total += 1;
    return undefined;
  });
  const server = await startReplayServer(files);
  process.stdout.write(`${JSON.stringify({ url: server.url, docs: total, databases: [...files.databases.keys()] })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => void server.close().then(() => process.exit(0)));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
