/**
 * Cold load: how long a fresh Node process takes from its start until the app has registered
 * every function, loading (a) the bundle dist/main.js and (b) the same app unbundled, i.e. the
 * TypeScript compiler's output of src/ requiring its packages from node_modules. Both run with
 * bench/cold-load/preload.js, which supplies @azure/functions-core and timestamps registrations.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import ts from 'typescript';
import { median } from './stats';

export interface ProbeResult {
  functions: number;
  names: string[];
  /** When the preload ran: Node's own start-up before any app code. */
  preloadAtMs: number;
  registeredAtMs: number;
  exitAtMs: number;
  modules: number;
  /** Spawn → exit, seen from the parent. */
  processMs: number;
}

export interface VariantResult {
  entry: string;
  runsMs: number[];
  medianMs: number;
  /** The fastest run: the least disturbed by other load on the machine. */
  minMs: number;
  /** Median of preload → last registration: the app's load alone, without Node's start-up. */
  medianAppLoadMs: number;
  medianProcessMs: number;
  functions: number;
  modulesLoaded: number;
}

export interface ColdLoadResult {
  bundled: VariantResult;
  unbundled: VariantResult;
  ratio: number;
  /** The ratio of the fastest runs (less sensitive to a busy machine). */
  ratioOfFastest: number;
  /** The same ratio without Node's start-up (preload → last registration). */
  appLoadRatio: number;
  /** Median time from process start to the preload, over every probe. */
  nodeBootMs: number;
  compileMs: number;
  sameFunctions: boolean;
}

const PRELOAD = path.join(__dirname, 'cold-load', 'preload.js');

export async function measureColdLoad(
  root: string,
  runs: number,
  log: (line: string) => void,
): Promise<ColdLoadResult> {
  const bundleEntry = path.join(root, 'dist', 'main.js');
  const out = mkdtempSync(path.join(os.tmpdir(), 'saga-bench-unbundled-'));
  try {
    const compileStart = performance.now();
    compileUnbundled(root, out);
    const compileMs = performance.now() - compileStart;
    const unbundledEntry = path.join(out, 'src', 'index.js');
    log(`cold load: ${runs} fresh processes each for the bundle and the unbundled app (+1 warm-up each)`);
    await probe(bundleEntry);
    await probe(unbundledEntry);
    const bundled: ProbeResult[] = [];
    const unbundled: ProbeResult[] = [];
    for (let run = 0; run < runs; run += 1) {
      // Alternate which goes first, so neither always follows the other.
      if (run % 2 === 0) {
        bundled.push(await probe(bundleEntry));
        unbundled.push(await probe(unbundledEntry));
      } else {
        unbundled.push(await probe(unbundledEntry));
        bundled.push(await probe(bundleEntry));
      }
    }
    const summary = (entry: string, results: ProbeResult[]): VariantResult => ({
      entry: path.relative(root, entry).startsWith('..') ? entry : path.relative(root, entry),
      runsMs: results.map((result) => result.registeredAtMs),
      medianMs: median(results.map((result) => result.registeredAtMs)),
      minMs: Math.min(...results.map((result) => result.registeredAtMs)),
      medianAppLoadMs: median(results.map((result) => result.registeredAtMs - result.preloadAtMs)),
      medianProcessMs: median(results.map((result) => result.processMs)),
      functions: results[0].functions,
      modulesLoaded: results[0].modules,
    });
    const bundledSummary = summary(bundleEntry, bundled);
    const unbundledSummary = summary(`<tmp>/src/index.js (tsc output of src/, node_modules linked)`, unbundled);
    return {
      bundled: bundledSummary,
      unbundled: unbundledSummary,
      ratio: unbundledSummary.medianMs / bundledSummary.medianMs,
      ratioOfFastest: unbundledSummary.minMs / bundledSummary.minMs,
      appLoadRatio: unbundledSummary.medianAppLoadMs / bundledSummary.medianAppLoadMs,
      nodeBootMs: median([...bundled, ...unbundled].map((result) => result.preloadAtMs)),
      compileMs,
      sameFunctions:
        JSON.stringify(bundled[0].names) === JSON.stringify(unbundled[0].names) && bundled[0].functions > 0,
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/**
 * Emits src/**.ts as CommonJS with the project's compiler options, file by file (TypeScript's
 * own emitter; the project has no const enums or other cross-file emit), into a temp dir whose
 * node_modules links to the project's.
 */
function compileUnbundled(root: string, out: string): void {
  const configPath = path.join(root, 'tsconfig.json');
  const { config } = ts.readConfigFile(configPath, ts.sys.readFile);
  const { options } = ts.convertCompilerOptionsFromJson(
    (config as { compilerOptions?: unknown }).compilerOptions ?? {},
    root,
    configPath,
  );
  const compilerOptions: ts.CompilerOptions = { ...options, sourceMap: false, declaration: false, noEmit: false };
  const srcRoot = path.join(root, 'src');
  for (const file of listTypeScript(srcRoot)) {
    const relative = path.relative(root, file);
    const { outputText, diagnostics } = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions,
      fileName: file,
      reportDiagnostics: true,
    });
    if (diagnostics?.length)
      throw new Error(
        `cannot compile ${relative}: ${ts.flattenDiagnosticMessageText(diagnostics[0].messageText, '\n')}`,
      );
    const target = path.join(out, relative.replace(/\.ts$/, '.js'));
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, outputText);
  }
  symlinkSync(path.join(root, 'node_modules'), path.join(out, 'node_modules'), 'dir');
}

function listTypeScript(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return listTypeScript(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** One fresh `node -r preload.js <entry>`, with a clean environment (no loader flags inherited from tsx). */
function probe(entry: string): Promise<ProbeResult> {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, ['-r', PRELOAD, entry], {
      cwd: path.dirname(entry),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      const processMs = performance.now() - start;
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        const parsed = JSON.parse(line) as Omit<ProbeResult, 'processMs'>;
        if (code !== 0 || parsed.functions === 0 || parsed.registeredAtMs === null)
          throw new Error(`exit ${code}, ${parsed.functions} functions`);
        resolve({ ...parsed, processMs });
      } catch (error) {
        reject(
          new Error(
            `cold-load probe of ${entry} failed (${error instanceof Error ? error.message : String(error)}):\n${stderr.trim() || stdout.trim()}`,
          ),
        );
      }
    });
  });
}
