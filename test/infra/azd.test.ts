/**
 * `azd deploy` by azd's own rules. azd's function-app service target (resolveFunctionAppRemoteBuild
 * in cli/azd/pkg/project/service_target_functionapp.go) reads `.funcignore` from the service's
 * project folder and, for a `js`/`ts` service, refuses `remoteBuild: false` when that file
 * excludes node_modules (and `remoteBuild: true` when it does not). This test reads azure.yaml and
 * the project's .funcignore and applies the same rule, so the conflict cannot come back.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './infra';

interface AzdService {
  project: string;
  language: string;
  host: string;
  dist?: string;
  remoteBuild?: boolean;
}

/** The `services:` block of azure.yaml (flat `key: value` lines under each service). */
function azdServices(yaml: string): Record<string, AzdService> {
  const services: Record<string, Record<string, string>> = {};
  let inServices = false;
  let current: string | undefined;
  for (const raw of yaml.split('\n')) {
    const line = raw.replace(/\s+#.*$/, '').replace(/\s+$/, '');
    if (/^\s*(#|$)/.test(line)) continue;
    if (/^\S/.test(line)) {
      inServices = line === 'services:';
      current = undefined;
      continue;
    }
    if (!inServices) continue;
    const service = /^ {2}([\w-]+):$/.exec(line);
    if (service) {
      current = service[1]!;
      services[current] = {};
      continue;
    }
    const entry = /^ {4}([\w-]+):\s*(.*)$/.exec(line);
    if (entry && current) services[current]![entry[1]!] = entry[2]!.replace(/^['"]|['"]$/g, '');
  }
  return Object.fromEntries(
    Object.entries(services).map(([name, s]) => [
      name,
      {
        project: s.project ?? '.',
        language: s.language ?? '',
        host: s.host ?? '',
        dist: s.dist,
        remoteBuild: s.remoteBuild === undefined ? undefined : s.remoteBuild === 'true',
      },
    ]),
  );
}

/** gitignore semantics for one path relative to the ignore file's folder: the last matching pattern decides. */
export function gitignoreExcludes(contents: string, path: string, isDir: boolean): boolean {
  const segments = path.split('/');
  let excluded = false;
  for (const raw of contents.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    let pattern = raw.replace(/(?<!\\)\s+$/, '');
    if (pattern === '' || pattern.startsWith('#')) continue;
    const negated = pattern.startsWith('!');
    if (negated) pattern = pattern.slice(1);
    const dirOnly = pattern.endsWith('/');
    if (dirOnly) pattern = pattern.slice(0, -1);
    if (dirOnly && !isDir) continue;
    const anchored = pattern.startsWith('/') || pattern.slice(0, -1).includes('/');
    pattern = pattern.replace(/^\//, '');
    const regex = new RegExp(
      `^${pattern
        .split('/')
        .map((part) =>
          part === '**'
            ? '.*'
            : part
                .replace(/[.+^${}()|\\]/g, '\\$&')
                .replace(/\*/g, '[^/]*')
                .replace(/\?/g, '[^/]'),
        )
        .join('/')
        .replace(/\.\*\//g, '(?:.*/)?')}$`,
    );
    const candidates = anchored ? [path] : segments.map((_, i) => segments.slice(i).join('/'));
    if (candidates.some((candidate) => regex.test(candidate))) excluded = !negated;
  }
  return excluded;
}

/** azd's resolveFunctionAppRemoteBuild for a js/ts function service: the remote build setting, or azd's error. */
export function azdRemoteBuild(
  language: string,
  remoteBuild: boolean | undefined,
  funcignore: string | undefined,
): { remoteBuild: boolean } | { error: string } {
  if (language !== 'js' && language !== 'ts') return { remoteBuild: remoteBuild ?? false };
  if (funcignore === undefined) return { remoteBuild: remoteBuild ?? true };
  const nodeModulesExcluded = gitignoreExcludes(funcignore, 'node_modules', true);
  if (remoteBuild === undefined) return { remoteBuild: nodeModulesExcluded };
  if (remoteBuild && !nodeModulesExcluded)
    return { error: "'remoteBuild: true' requires '.funcignore' to exclude node_modules" };
  if (!remoteBuild && nodeModulesExcluded)
    return { error: "'remoteBuild: false' cannot be used when '.funcignore' excludes node_modules" };
  return { remoteBuild };
}

const readIfExists = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : undefined);

describe('azure.yaml and .funcignore pass azd’s remoteBuild rule', () => {
  const services = azdServices(readFileSync(join(ROOT, 'azure.yaml'), 'utf8'));

  it('the api service is a TypeScript function app deployed from dist/ without a remote build', () => {
    expect(services.api).toEqual({ project: '.', language: 'ts', host: 'function', dist: 'dist', remoteBuild: false });
  });

  it.each(Object.keys(azdServices(readFileSync(join(ROOT, 'azure.yaml'), 'utf8'))))(
    'service %s: azd accepts it',
    (name) => {
      const service = services[name]!;
      const funcignore = readIfExists(join(ROOT, service.project, '.funcignore'));
      expect(azdRemoteBuild(service.language, service.remoteBuild, funcignore)).toEqual({
        remoteBuild: service.remoteBuild ?? expect.any(Boolean),
      });
    },
  );

  it('the package azd zips (dist/) is self-contained: the build writes no node_modules and no dependencies into it', () => {
    const build = readFileSync(join(ROOT, 'scripts', 'build.mjs'), 'utf8');
    const written = /writeFileSync\(\s*path\.join\(DIST, 'package\.json'\),\s*`\$\{JSON\.stringify\(\{ ([^}]*) \}/.exec(
      build,
    );
    expect(written).not.toBeNull();
    expect(written![1]!.split(',').map((key) => key.trim().split(':')[0])).toEqual([
      'name',
      'version',
      'private',
      'main',
      'engines',
    ]);
    expect(build).not.toMatch(/node_modules['"]?\s*\)/);
  });
});

describe('the rule, as azd applies it (proof the check can fail)', () => {
  const excludes = 'node_modules/\nsrc/\n*.ts\n';
  it.each([
    ['unset, excludes node_modules', undefined, excludes, { remoteBuild: true }],
    ['unset, keeps node_modules', undefined, 'src/\n', { remoteBuild: false }],
    ['unset, no .funcignore', undefined, undefined, { remoteBuild: true }],
    ['true, excludes node_modules', true, excludes, { remoteBuild: true }],
    [
      'true, keeps node_modules',
      true,
      'src/\n',
      { error: "'remoteBuild: true' requires '.funcignore' to exclude node_modules" },
    ],
    [
      'false, excludes node_modules (the conflict this project had)',
      false,
      excludes,
      { error: "'remoteBuild: false' cannot be used when '.funcignore' excludes node_modules" },
    ],
    ['false, keeps node_modules', false, 'src/\n', { remoteBuild: false }],
    ['false, no .funcignore', false, undefined, { remoteBuild: false }],
  ])('remoteBuild %s', (_, remoteBuild, funcignore, expected) => {
    expect(azdRemoteBuild('ts', remoteBuild, funcignore)).toEqual(expected);
  });

  it.each([
    ['node_modules', true],
    ['node_modules/', true],
    ['/node_modules', true],
    ['**/node_modules', true],
    ['node_*', true],
    ['node_modules\n!node_modules', false],
    ['node_modules/*', false],
    ['src/node_modules', false],
    ['# node_modules', false],
    ['\uFEFFnode_modules', true],
  ])('.funcignore %p excludes node_modules: %p', (contents, expected) => {
    expect(gitignoreExcludes(contents, 'node_modules', true)).toBe(expected);
  });
});
