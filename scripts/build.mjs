// Builds the deployment package in dist/: the app bundled into one file (a small package and a
// fast cold start, because the worker loads one file instead of resolving hundreds of modules),
// with the host.json and a package.json whose `main` points at the bundle.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
mkdirSync('dist');
await build({
  entryPoints: ['src/index.ts'],
  outfile: 'dist/main.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  sourcemap: 'linked',
  legalComments: 'linked',
  // Provided by the Functions worker at run time, never installed.
  external: ['@azure/functions-core'],
  logLevel: 'warning',
});
copyFileSync('host.json', 'dist/host.json');
const { name, version, engines } = JSON.parse(readFileSync('package.json', 'utf8'));
writeFileSync('dist/package.json', `${JSON.stringify({ name, version, private: true, main: 'main.js', engines }, null, 2)}\n`);
