/**
 * `npm start` (after `npm run build`): the offline host on 127.0.0.1:7071.
 * `npm run stop` (`--stop-deps`): stops a host still running on DATA_DIR, then its embedded
 * dependencies (the local Cosmos server and Azurite), which otherwise outlive the host on purpose.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import type { FunctionRegistry } from '../engine/registry';
import { EXTENSION_MARKER, extensionPidFile } from '../extension/backend';
import { lockHolder } from './data-lock';
import { stopDependencies } from './dependencies';
import { startHost } from './host';
import { createLogger, type HostLogger } from './logger';
import { isOurProcess, isRunning, stopGroup } from './processes';
import { readSettings, type HostSettings } from './settings';

async function main(): Promise<void> {
  const settings = readSettings();
  const log = createLogger(settings.logLevel);
  if (process.argv.includes('--stop-deps')) return stopEverything(settings, log);

  // Like the Functions worker: a promise the app forgot to handle is logged, not fatal.
  process.on('unhandledRejection', (reason) => log.error('unhandled promise rejection', reason));
  const host = await startHost(settings, log);
  printFunctions(host.origin, host.registry, settings, log);
  const time =
    host.backend === 'engine'
      ? `durable time ×${settings.timeScale}`
      : 'durable backend: the Durable extension, real time';
  log.info(`Host ready at ${host.origin} (data in ${settings.dataDir}, ${time})`);

  let stoppingSince: number | undefined;
  const stop = (signal: NodeJS.Signals) => {
    if (stoppingSince !== undefined) {
      // A terminal's Ctrl-C can reach us twice at once (directly and relayed by npm): only a
      // second, later signal means "now".
      if (Date.now() - stoppingSince < 1500) return;
      log.warn(`${signal} again: exiting now; in-flight work resumes on the next start`);
      process.exit(1);
    }
    stoppingSince = Date.now();
    log.info(`${signal} received`);
    host.close().then(
      () => {
        log.info('embedded dependencies, if any, keep running for the next start; `npm run stop` stops them');
        process.exit(0);
      },
      (error: unknown) => {
        log.error('shutdown failed', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

function printFunctions(origin: string, registry: FunctionRegistry, settings: HostSettings, log: HostLogger): void {
  const prefix = settings.hostJson.routePrefix.replace(/^\/+|\/+$/g, '');
  const lines = registry.http.map(
    (fn) => `  ${fn.name}: [${fn.methods.join(',') || 'ANY'}] ${origin}/${prefix ? `${prefix}/` : ''}${fn.route}`,
  );
  log.info(`HTTP functions (function keys are not checked, as under func start):\n${lines.join('\n')}`);
  log.info(
    `${registry.orchestrations.size} orchestrations, ${registry.activities.size} activities; durable management API at ${origin}/runtime/webhooks/durabletask`,
  );
}

async function stopEverything(settings: HostSettings, log: HostLogger): Promise<void> {
  const host = lockHolder(settings.dataDir);
  if (host !== undefined) {
    log.info(`stopping the host (pid ${host})`);
    process.kill(host, 'SIGTERM');
    const deadline = Date.now() + settings.shutdownGraceMs + 5000;
    while (isRunning(host) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    if (isRunning(host)) process.kill(host, 'SIGKILL');
  }
  // The extension backend's .NET host stops with the Node host; one left behind (the Node host
  // was SIGKILLed and it is still shutting down) is stopped here.
  const extension = readPid(extensionPidFile(settings.dataDir));
  if (extension !== undefined && isOurProcess(extension, EXTENSION_MARKER)) {
    log.info(`stopping the extension's .NET host (pid ${extension})`);
    await stopGroup(extension, settings.shutdownGraceMs);
  }
  rmSync(extensionPidFile(settings.dataDir), { force: true });
  const stopped = await stopDependencies(settings.dataDir);
  log.info(
    stopped.length > 0
      ? `stopped ${stopped.join(' and ')}; the next start begins with fresh data`
      : `no embedded dependencies were running for ${settings.dataDir}`,
  );
}

function readPid(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

main().catch((error: unknown) => {
  console.error(`offline host: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
