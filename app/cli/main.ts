// The `cht-sync` command (bin: dist/cli.cjs, built by resources/scripts/build.mjs).
import { redact } from '../core/redact';
import { keepPipesQuiet } from './context';
import { runCli } from './program';

keepPipesQuiet();

runCli(process.argv).then(
  (code) => {
    process.exitCode = code;
    // Everything is closed by now; a stray handle (a socket in TIME_WAIT, a timer in a
    // dependency) must not keep a finished command alive.
    setTimeout(() => process.exit(code), 3000).unref();
  },
  (error: unknown) => {
    process.stderr.write(
      `cht-sync failed unexpectedly: ${redact(error instanceof Error ? error.message : String(error))}\n`,
    );
    process.exit(3);
  },
);
