#!/usr/bin/env node
// Bicep CLI resolver and infra linter. No npm dependency; Node >= 22 (package.json engines).
//
//   node scripts/bicep.mjs path           print the path of the Bicep CLI (restoring it if needed)
//   node scripts/bicep.mjs lint           bicep build + bicep lint of every .bicep file (npm run lint:infra)
//   node scripts/bicep.mjs <args...>      run the Bicep CLI with <args> (e.g. build infra/main.bicep --stdout)
//
// Where the CLI comes from, first match wins:
//   1. $BICEP                            an explicit path (an error if it is not there);
//   2. `bicep` on PATH;
//   3. azd's copy (~/.azd/bin/bicep), then the Azure CLI's (~/.azure/bin/bicep);
//   4. the NuGet package Azure.Bicep.CommandLine.<rid> (version $BICEP_VERSION, default below),
//      restored with the .NET SDK (`dotnet restore` of a throwaway project, using the machine's
//      NuGet sources) into .cache/bicep/<version>/<rid>/.
// Any failure to find or restore the CLI is an error (exit 2); it is never skipped.

import { execFileSync, spawnSync } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_VERSION = '0.49.2';
const CACHE_DIR = join(ROOT, '.cache', 'bicep');
const OUT_DIR = join(ROOT, '.bicep-out');
const SKIP_DIRS = new Set(['node_modules', '.git', '.cache', '.bicep-out', 'dist', 'coverage', '.azure']);
const EXE = process.platform === 'win32' ? 'bicep.exe' : 'bicep';

class ResolveError extends Error {}

function isExecutable(file) {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, process.platform === 'win32' ? constants.F_OK : constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath() {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, EXE))) return join(dir, EXE);
  }
  return undefined;
}

function runtimeId() {
  const os = { linux: 'linux', darwin: 'osx', win32: 'win' }[process.platform];
  const arch = { x64: 'x64', arm64: 'arm64' }[process.arch];
  if (!os || !arch)
    throw new ResolveError(`no Bicep CLI package for ${process.platform}/${process.arch}; set BICEP to a bicep binary`);
  const musl = os === 'linux' && existsSync('/etc/alpine-release');
  return `${os}${musl ? '-musl' : ''}-${arch}`;
}

function findFile(dir, name) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) {
      const found = findFile(full, name);
      if (found) return found;
    } else if (entry.name === name) {
      return full;
    }
  }
  return undefined;
}

function dotnetTargetFramework() {
  let version;
  try {
    version = execFileSync('dotnet', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (error) {
    throw new ResolveError(
      `no Bicep CLI found (BICEP, PATH, ~/.azd/bin) and the .NET SDK is not usable to restore it: ${error.message}`,
    );
  }
  const major = Number.parseInt(version, 10);
  if (!Number.isInteger(major) || major < 6)
    throw new ResolveError(`the .NET SDK ${version} is too old to restore the Bicep CLI (need 6 or newer)`);
  return `net${major}.0`;
}

/** Restores Azure.Bicep.CommandLine.<rid> from NuGet into .cache/bicep/<version>/<rid>/ and returns the binary. */
function restoreFromNuGet(version) {
  const rid = runtimeId();
  const target = join(CACHE_DIR, version, rid);
  const cached = join(target, EXE);
  if (isExecutable(cached)) return cached;

  const packageId = `Azure.Bicep.CommandLine.${rid}`;
  const framework = dotnetTargetFramework();
  mkdirSync(CACHE_DIR, { recursive: true });
  const work = mkdtempSync(join(CACHE_DIR, '.restore-'));
  try {
    writeFileSync(
      join(work, 'restore.csproj'),
      [
        '<Project Sdk="Microsoft.NET.Sdk">',
        `  <PropertyGroup><TargetFramework>${framework}</TargetFramework></PropertyGroup>`,
        `  <ItemGroup><PackageDownload Include="${packageId}" Version="[${version}]" /></ItemGroup>`,
        '</Project>',
        '',
      ].join('\n'),
    );
    process.stderr.write(`bicep: restoring ${packageId} ${version} from NuGet (dotnet restore)...\n`);
    const started = Date.now();
    const result = spawnSync(
      'dotnet',
      ['restore', join(work, 'restore.csproj'), '--packages', join(work, 'packages'), '--nologo'],
      {
        cwd: work,
        encoding: 'utf8',
        env: {
          ...process.env,
          DOTNET_CLI_TELEMETRY_OPTOUT: '1',
          DOTNET_NOLOGO: '1',
          DOTNET_SKIP_FIRST_TIME_EXPERIENCE: '1',
        },
      },
    );
    if (result.status !== 0) {
      throw new ResolveError(
        `dotnet restore of ${packageId} ${version} failed (exit ${result.status ?? result.signal}):\n${result.stdout}${result.stderr}`,
      );
    }
    const packageDir = join(work, 'packages', packageId.toLowerCase(), version);
    const binary = existsSync(packageDir) ? findFile(packageDir, EXE) : undefined;
    if (!binary)
      throw new ResolveError(`${packageId} ${version} was restored but holds no ${EXE} (looked under ${packageDir})`);
    chmodSync(binary, 0o755);
    mkdirSync(dirname(target), { recursive: true });
    try {
      renameSync(dirname(binary), target); // atomic: a concurrent restore may have won, which is fine
    } catch (error) {
      if (!isExecutable(cached)) throw error;
    }
    process.stderr.write(
      `bicep: restored in ${((Date.now() - started) / 1000).toFixed(1)} s to ${relative(ROOT, target)}\n`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  if (!isExecutable(cached)) throw new ResolveError(`restore finished but ${cached} is not an executable`);
  return cached;
}

export function resolveBicep() {
  if (process.env.BICEP) {
    if (!isExecutable(process.env.BICEP))
      throw new ResolveError(`BICEP=${process.env.BICEP} is not an executable file`);
    return process.env.BICEP;
  }
  const candidates = [onPath(), join(homedir(), '.azd', 'bin', EXE), join(homedir(), '.azure', 'bin', EXE)];
  const found = candidates.find((file) => file && isExecutable(file));
  return found ?? restoreFromNuGet(process.env.BICEP_VERSION || DEFAULT_VERSION);
}

function bicepFiles(dir) {
  const files = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) files.push(...bicepFiles(join(dir, entry.name)));
    } else if (entry.name.endsWith('.bicep')) {
      files.push(join(dir, entry.name));
    }
  }
  return files.sort();
}

function run(bicep, args) {
  const result = spawnSync(bicep, args, { cwd: ROOT, stdio: 'inherit' });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

function supportsPattern(bicep) {
  const help = spawnSync(bicep, ['build', '--help'], { encoding: 'utf8' });
  return help.status === 0 && help.stdout.includes('--pattern');
}

/**
 * bicep build (into .bicep-out/) then bicep lint, for every .bicep file of the repo. With a CLI that
 * knows --pattern, one process per top-level folder does all of its files (the CLI starts slowly).
 */
function lint(bicep) {
  const files = bicepFiles(ROOT).map((file) => relative(ROOT, file));
  if (files.length === 0) {
    process.stderr.write('lint:infra: no .bicep file found\n');
    return 1;
  }
  rmSync(OUT_DIR, { recursive: true, force: true });
  const batches = new Map(); // top-level folder -> files; '' for files at the root
  for (const file of files) {
    const top = file.includes('/') || file.includes('\\') ? file.split(/[\\/]/)[0] : '';
    batches.set(top, [...(batches.get(top) ?? []), file]);
  }
  const pattern = supportsPattern(bicep);
  const failed = [];
  for (const [top, batch] of batches) {
    if (pattern && top !== '') {
      const glob = `${top}/**/*.bicep`;
      if (run(bicep, ['build', '--pattern', glob, '--outdir', join(OUT_DIR, top)]) !== 0) failed.push(`build ${glob}`);
      if (run(bicep, ['lint', '--pattern', glob]) !== 0) failed.push(`lint ${glob}`);
      continue;
    }
    for (const file of batch) {
      const outfile = join(OUT_DIR, file.replace(/\.bicep$/, '.json'));
      mkdirSync(dirname(outfile), { recursive: true });
      if (run(bicep, ['build', file, '--outfile', outfile]) !== 0) failed.push(`build ${file}`);
      if (run(bicep, ['lint', file]) !== 0) failed.push(`lint ${file}`);
    }
  }
  if (failed.length > 0) {
    process.stderr.write(`lint:infra: FAILED: ${failed.join(', ')}\n`);
    return 1;
  }
  process.stdout.write(
    `lint:infra: ${files.length} Bicep files built into ${relative(ROOT, OUT_DIR)}/ and linted: no error\n`,
  );
  return 0;
}

function main(argv) {
  let bicep;
  try {
    bicep = resolveBicep();
  } catch (error) {
    process.stderr.write(`bicep: ${error instanceof ResolveError ? error.message : error.stack}\n`);
    return 2;
  }
  const [command, ...rest] = argv;
  if (command === 'path') {
    process.stdout.write(`${bicep}\n`);
    return 0;
  }
  if (command === 'lint') return lint(bicep);
  return run(bicep, command === '--' ? rest : argv);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
