/**
 * `npm run build:extension`: restores and builds the .NET host of the extension backend
 * (local/extension/host/) into .cache/extension-host, with NuGet packages in .cache/nuget. Skips
 * the build when the output is newer than every source file, so it is cheap to call on each start.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const PROJECT_ROOT = resolve(__dirname, '../..');
const SOURCE_DIR = join(PROJECT_ROOT, 'local', 'extension', 'host');
export const OUTPUT_DIR = join(PROJECT_ROOT, '.cache', 'extension-host');
export const HOST_DLL = join(OUTPUT_DIR, 'DurableHost.dll');

/** The environment every `dotnet` call of the project uses: its own package cache, no telemetry. */
export function dotnetEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {
    ...env,
    NUGET_PACKAGES: join(PROJECT_ROOT, '.cache', 'nuget'),
    DOTNET_CLI_TELEMETRY_OPTOUT: '1',
    DOTNET_NOLOGO: '1',
    DOTNET_SKIP_FIRST_TIME_EXPERIENCE: '1',
  };
}

function newestSource(): number {
  return readdirSync(SOURCE_DIR)
    .filter((name) => /\.(cs|csproj)$/.test(name))
    .reduce((newest, name) => Math.max(newest, statSync(join(SOURCE_DIR, name)).mtimeMs), 0);
}

export function isBuilt(): boolean {
  return existsSync(HOST_DLL) && statSync(HOST_DLL).mtimeMs >= newestSource();
}

/** Builds when needed; returns whether it built. Throws with dotnet's output when the build fails. */
export function buildExtensionHost(log: (message: string) => void = console.log): boolean {
  if (isBuilt()) return false;
  log(
    'building the extension backend (.NET host with the Durable extension; the first build restores ~70 MB of NuGet packages)',
  );
  const result = spawnSync(
    'dotnet',
    ['build', join(SOURCE_DIR, 'DurableHost.csproj'), '-c', 'Release', '-o', OUTPUT_DIR, '--nologo', '-v', 'q'],
    {
      cwd: PROJECT_ROOT,
      env: dotnetEnv(),
      encoding: 'utf8',
    },
  );
  if (result.error)
    throw new Error(
      `could not run dotnet (the .NET 10 SDK is needed for DURABLE_BACKEND=extension): ${result.error.message}`,
    );
  if (result.status !== 0) throw new Error(`building the extension backend failed:\n${result.stdout}${result.stderr}`);
  return true;
}

if (require.main === module) {
  try {
    console.log(buildExtensionHost() ? `built ${HOST_DLL}` : `${HOST_DLL} is up to date`);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
}
