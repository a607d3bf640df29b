// Part of scripts/build.mjs: keeps packages the app does not need at start-up out of dist/app.js.
//
// Everything in app.js is read and compiled by V8 at every cold start, whether or not it runs.
// Two kinds of packages are bundled into their own dist/vendor/<file>.js instead, and loaded
// the first time something uses them:
//
// VENDORED: packages src/ already requires lazily, on first use (src/libs/cosmos.ts,
//   src/libs/storage-queues.ts). The bare `require('@azure/cosmos')` in app.js becomes
//   `require('./vendor/cosmos.js')`: exactly as lazy as before, but now V8 only compiles the SDK
//   when a function first talks to Cosmos DB or a queue. They were 1.5 MB of the 2.67 MB bundle.
//
// DEFERRED: packages that a dependency requires at the top of a module but only calls later.
//   durable-functions requires axios and validator in its durable client and moment in its
//   orchestration context, and calls them only when a client function or an orchestrator runs,
//   never while the app registers its functions. axios alone costs ~30 ms at load, because
//   it loads Node's http, https, zlib and undici (fetch). Their `require` in app.js returns a
//   stand-in (see LAZY_RUNTIME) that loads the vendor file on first use of the module: the first
//   property read, call or `new`. If some code does touch one at start-up, it simply loads then.
//
// Each vendor file bundles the copy of the package that `require` from the project root finds
// (the "require" condition, so its exports are what `require()` returned before). A request that
// resolves to another copy (another version nested in node_modules) is bundled where it is used,
// as before, with a warning, since it no longer gains anything.
import { createRequire } from 'node:module';
import path from 'node:path';

export const VENDORED = {
  '@azure/cosmos': 'cosmos',
  '@azure/identity': 'identity',
  '@azure/storage-queue': 'storage-queue',
};

export const DEFERRED = {
  axios: 'axios',
  validator: 'validator',
  moment: 'moment',
};

const LAZY = { ...VENDORED, ...DEFERRED };
const STUB = 'lazy-stub';
const RUNTIME = 'lazy-runtime';
const SKIP = Symbol('lazy-packages');

// The stand-in for a DEFERRED module: a Proxy that loads the real module on first use and
// forwards every operation to it. Its target is a function when the module is one (moment and
// axios are called directly), so `typeof` answers as the real module would.
const LAZY_RUNTIME = `
module.exports = function lazyModule(load, callable) {
  let real;
  const get = () => (real === undefined ? (real = load()) : real);
  const target = callable ? function () {}.bind(null) : {};
  return new Proxy(target, {
    get: (_, key) => Reflect.get(get(), key),
    set: (_, key, value) => Reflect.set(get(), key, value),
    has: (_, key) => Reflect.has(get(), key),
    deleteProperty: (_, key) => Reflect.deleteProperty(get(), key),
    defineProperty: (_, key, descriptor) => Reflect.defineProperty(get(), key, descriptor),
    ownKeys: () => Reflect.ownKeys(get()),
    getOwnPropertyDescriptor: (_, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(get(), key);
      // A proxy may not report a property as non-configurable unless its target has it so.
      if (descriptor) descriptor.configurable = true;
      return descriptor;
    },
    getPrototypeOf: () => Reflect.getPrototypeOf(get()),
    apply: (_, self, args) => Reflect.apply(get(), self, args),
    construct: (_, args) => Reflect.construct(get(), args),
  });
};
`;

/**
 * Where each lazy package resolves from the project root (the copy its vendor file bundles), and
 * for a DEFERRED one whether the module is a function. Resolved with esbuild's own resolver and
 * the same options as the real builds.
 */
export async function resolveLazyPackages(esbuild, options) {
  const entries = new Map();
  const projectRequire = createRequire(path.join(process.cwd(), 'package.json'));
  await esbuild.build({
    ...options,
    stdin: { contents: '', resolveDir: process.cwd() },
    write: false,
    sourcemap: false,
    legalComments: 'none',
    plugins: [
      {
        name: 'resolve-lazy-packages',
        setup(build) {
          build.onStart(async () => {
            for (const [name, file] of Object.entries(LAZY)) {
              const resolved = await build.resolve(name, { kind: 'require-call', resolveDir: process.cwd() });
              if (resolved.errors.length > 0) throw new Error(`cannot resolve ${name}: ${resolved.errors[0].text}`);
              const deferred = name in DEFERRED;
              const callable = deferred && typeof projectRequire(resolved.path) === 'function';
              entries.set(name, { name, file, path: resolved.path, deferred, callable });
            }
          });
        },
      },
    ],
  });
  return entries;
}

/** The esbuild plugin for a build whose output goes to `outDir` (dist for app.js, dist/vendor for a vendor file). */
export function lazyPackagesPlugin({ outDir, vendorDir, entries, warnings }) {
  const escaped = Object.keys(LAZY).map((name) => name.replace(/[/\\^$*+?.()|[\]{}-]/g, '\\$&'));
  const filter = new RegExp(`^(?:${escaped.join('|')})$`);
  const vendorPath = (entry) => {
    const relative = path
      .relative(outDir, path.join(vendorDir, `${entry.file}.js`))
      .split(path.sep)
      .join('/');
    return relative.startsWith('.') ? relative : `./${relative}`;
  };
  return {
    name: 'lazy-packages',
    setup(build) {
      build.onResolve({ filter }, async (args) => {
        if (args.pluginData === SKIP || args.kind === 'entry-point') return undefined;
        const entry = entries.get(args.path);
        // The stand-in's own require: the vendor file itself.
        if (args.namespace === STUB) return { path: vendorPath(entry), external: true };
        const resolved = await build.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: SKIP,
        });
        if (resolved.errors.length > 0) return { errors: resolved.errors };
        if (resolved.path !== entry.path) {
          warnings?.add(
            `${args.path} from ${path.relative(process.cwd(), args.importer)} is another copy (${path.relative(process.cwd(), resolved.path)}): bundled there, not lazily`,
          );
          return undefined;
        }
        if (entry.deferred && args.kind !== 'require-call') {
          // An `import` binds names at load; the stand-in only covers `require`.
          warnings?.add(
            `${args.path} is imported (${args.kind}) by ${path.relative(process.cwd(), args.importer)}: bundled there, not deferred`,
          );
          return undefined;
        }
        return entry.deferred ? { path: args.path, namespace: STUB } : { path: vendorPath(entry), external: true };
      });
      build.onResolve({ filter: new RegExp(`^${RUNTIME}$`) }, () => ({ path: RUNTIME, namespace: RUNTIME }));
      build.onLoad({ filter: /.*/, namespace: RUNTIME }, () => ({ contents: LAZY_RUNTIME, loader: 'js' }));
      build.onLoad({ filter: /.*/, namespace: STUB }, (args) => {
        const { name, callable } = entries.get(args.path);
        return {
          contents: `module.exports = require(${JSON.stringify(RUNTIME)})(() => require(${JSON.stringify(name)}), ${callable});\n`,
          loader: 'js',
          resolveDir: process.cwd(),
        };
      });
    },
  };
}

/** The vendor files to build: [entry path, output name] for each lazy package. */
export function vendorEntries(entries) {
  return [...entries.values()].map((entry) => ({ in: entry.path, out: entry.file }));
}
