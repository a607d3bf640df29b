/**
 * `npm run test:mutation`: Stryker over the saga, the orchestrators and the context repositories
 * (stryker.config.mjs), with one local Cosmos server for the repositories' tests started here for
 * the whole run and stopped after it. Prints the share of mutants killed; a measure, not a gate:
 * it exits with Stryker's own status (non-zero only when Stryker itself fails).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startCosmosServer } from '../local/dependencies/cosmos-server';

const ROOT = resolve(__dirname, '..');
const REPORT = join(ROOT, 'reports/mutation/mutation.json');

interface MutationReport {
  files: Record<string, { mutants: { status: string }[] }>;
}

/** Stryker's score: killed (or timed out) over every mutant that compiled and ran. */
export function summarize(report: MutationReport): {
  killed: number;
  valid: number;
  survivors: number;
  noCoverage: number;
  score: number;
} {
  const counts: Record<string, number> = {};
  for (const file of Object.values(report.files))
    for (const { status } of file.mutants) counts[status] = (counts[status] ?? 0) + 1;
  const killed = (counts.Killed ?? 0) + (counts.Timeout ?? 0);
  const survivors = counts.Survived ?? 0;
  const noCoverage = counts.NoCoverage ?? 0;
  const valid = killed + survivors + noCoverage;
  return { killed, valid, survivors, noCoverage, score: valid === 0 ? 0 : (100 * killed) / valid };
}

async function main(): Promise<number> {
  const startedAt = Date.now();
  const cosmos = await startCosmosServer();
  try {
    const stryker = spawn(
      process.execPath,
      [join(ROOT, 'node_modules/@stryker-mutator/core/bin/stryker.js'), 'run', ...process.argv.slice(2)],
      {
        cwd: ROOT,
        stdio: 'inherit',
        env: { ...process.env, COSMOS_ENDPOINT: cosmos.endpoint },
      },
    );
    // Stopped from outside (Ctrl-C, `timeout`): stop Stryker, then the finally block stops Cosmos.
    const forward = (signal: NodeJS.Signals) => stryker.kill(signal);
    process.once('SIGINT', forward).once('SIGTERM', forward);
    const code = await new Promise<number>((done) =>
      stryker.once('exit', (exitCode, signal) => done(exitCode ?? (signal ? 1 : 0))),
    );
    if (existsSync(REPORT)) {
      const { killed, valid, survivors, noCoverage, score } = summarize(
        JSON.parse(readFileSync(REPORT, 'utf8')) as MutationReport,
      );
      const minutes = ((Date.now() - startedAt) / 60_000).toFixed(1);
      console.log(
        `\nmutation score: ${score.toFixed(1)}% killed (${killed} of ${valid}; ${survivors} survived, ${noCoverage} not covered) in ${minutes} min`,
      );
      console.log(`report: ${join('reports', 'mutation', 'index.html')}`);
    }
    return code;
  } finally {
    await cosmos.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
