/**
 * Builds the deployment package (`npm run build` → dist/) and zips dist/ the way a deployment
 * would (azd zips the `dist` folder of azure.yaml): every file, DEFLATE at the default level 6.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import JSZip from 'jszip';

export interface PackageResult {
  buildMs: number;
  zipBytes: number;
  /** The same zip without source maps (informational: nothing excludes them from the deployment). */
  zipBytesWithoutSourceMaps: number;
  files: Record<string, number>;
  compressionLevel: number;
}

const COMPRESSION_LEVEL = 6;

export async function buildAndZip(root: string, log: (line: string) => void): Promise<PackageResult> {
  log('npm run build');
  const start = performance.now();
  await runCommand('npm', ['run', 'build', '--silent'], root);
  const buildMs = performance.now() - start;

  const dist = path.join(root, 'dist');
  const files = listFiles(dist);
  const zipOf = async (names: string[]) => {
    const zip = new JSZip();
    for (const name of names) zip.file(name, readFileSync(path.join(dist, name)));
    const buffer = await zip.generateAsync({
      type: 'nodebuffer',
      compression: 'DEFLATE',
      compressionOptions: { level: COMPRESSION_LEVEL },
    });
    return buffer.length;
  };
  return {
    buildMs,
    zipBytes: await zipOf(files),
    zipBytesWithoutSourceMaps: await zipOf(files.filter((name) => !name.endsWith('.map'))),
    files: Object.fromEntries(files.map((name) => [name, statSync(path.join(dist, name)).size])),
    compressionLevel: COMPRESSION_LEVEL,
  };
}

/** Paths relative to `dir`, with forward slashes, sorted. */
function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) =>
      entry.isDirectory()
        ? listFiles(path.join(dir, entry.name), `${prefix}${entry.name}/`)
        : [`${prefix}${entry.name}`],
    )
    .sort();
}

export function runCommand(command: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? code}):\n${output.trim()}`));
    });
  });
}
