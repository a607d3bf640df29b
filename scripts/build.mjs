// Builds the deployment package in dist/, which azd zips and deploys as it is:
//
//   main.js         the entry (package.json "main") the Functions worker loads: it runs app.js
//                   with the V8 code cache below (scripts/build-code-cache.mjs)
//   app.js          the app bundled into one file: the worker reads one file instead of resolving
//                   hundreds of modules, and the package needs no node_modules
//   app.js.cache    V8's compiled code for app.js, made by loading it once at the end of the build
//   app.js.map      its source map, without the sources (see SOURCE MAPS)
//   vendor/*.js     packages app.js loads on first use, not at start-up (scripts/build-lazy.mjs)
//   host.json, package.json ("main": "main.js")
//
// It takes 1-2 s. Every output is byte-identical from one build to the next except app.js.cache:
// V8 seeds its hash tables randomly in each process, which changes the cache's bytes (not what it
// does). Its header, with the SHA-256 of the app.js it belongs to, is stable.
//
// SOURCE MAPS are built with `sourcesContent: false`. They still map every position to its
// file:line:column in src/ or node_modules/, so with NODE_OPTIONS=--enable-source-maps the stack
// traces in Azure (App Insights, log stream) point at src/…ts (main.js then loads app.js with
// plain require, without the code cache), and a debugger finds the sources in the checkout. What they leave out is a copy of every source file: that copy was 7 of the
// map's 9 MB and made the map most of the zip's weight. Only app.js's map is deployed (0.18 MB
// zipped); the maps of the vendor files (third-party code, 0.62 MB zipped, which would push the
// package over its 1.5 MB budget) stay in .cache/sourcemaps/ (gitignored), with the sources
// included, to map a vendor frame by hand. No map in dist/ at all would save those 0.18 MB too, but then nothing in Azure could
// map a stack trace.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { APP_FILE, loaderSource, writeCodeCache } from './build-code-cache.mjs';
import { lazyPackagesPlugin, resolveLazyPackages, vendorEntries } from './build-lazy.mjs';

const DIST = 'dist';
const VENDOR = path.join(DIST, 'vendor');
const MAPS = path.join('.cache', 'sourcemaps');

const COMMON = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  minify: true,
  sourcesContent: false,
  legalComments: 'linked',
  // Provided by the Functions worker at run time, never installed.
  external: ['@azure/functions-core'],
  logLevel: 'warning',
  write: false,
};

/** Writes a build's output files, each source map to `mapDir` when given. */
function writeOutputs(result, mapDir) {
  for (const file of result.outputFiles) {
    let target = file.path;
    if (mapDir && target.endsWith('.map'))
      target = path.join(path.resolve(mapDir), path.relative(path.resolve(DIST), target));
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, file.contents);
  }
}

rmSync(DIST, { recursive: true, force: true });
rmSync(MAPS, { recursive: true, force: true });
mkdirSync(DIST);
const lazy = await resolveLazyPackages(esbuild, COMMON);
const warnings = new Set();
const [app, ...vendors] = await Promise.all([
  esbuild.build({
    ...COMMON,
    entryPoints: ['src/index.ts'],
    outfile: path.join(DIST, APP_FILE),
    sourcemap: 'linked',
    plugins: [lazyPackagesPlugin({ outDir: DIST, vendorDir: VENDOR, entries: lazy, warnings })],
  }),
  ...vendorEntries(lazy).map((entry) =>
    esbuild.build({
      ...COMMON,
      entryPoints: [entry],
      outdir: VENDOR,
      // Kept out of dist/ (see SOURCE MAPS), so they may as well carry the sources.
      sourcemap: 'external',
      sourcesContent: true,
      // A vendor file that needs another lazy package requires its vendor file, not a second copy.
      plugins: [lazyPackagesPlugin({ outDir: VENDOR, vendorDir: VENDOR, entries: lazy, warnings })],
    }),
  ),
]);
writeOutputs(app);
for (const vendor of vendors) writeOutputs(vendor, MAPS);
for (const warning of [...warnings].sort()) console.warn(`build: warning: ${warning}`);

writeFileSync(path.join(DIST, 'main.js'), loaderSource());
copyFileSync('host.json', path.join(DIST, 'host.json'));
const { name, version, engines } = JSON.parse(readFileSync('package.json', 'utf8'));
writeFileSync(
  path.join(DIST, 'package.json'),
  `${JSON.stringify({ name, version, private: true, main: 'main.js', engines }, null, 2)}\n`,
);
// Last: it loads the finished app once (which also proves that it loads and registers functions).
writeCodeCache(DIST);
