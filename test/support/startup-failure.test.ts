/**
 * Test support stops what it started even when the app fails to load: the test fails with the
 * load error, and the Cosmos server and Azurite it had started are gone, so jest does not hang.
 */
import * as azurite from '../../local/dependencies/azurite';
import * as cosmosServer from '../../local/dependencies/cosmos-server';
import { startSagaApp } from './saga-app';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

it('an app that fails to load rejects startSagaApp, and leaves no Cosmos or Azurite process behind', async () => {
  const pids: number[] = [];
  const startCosmos = cosmosServer.startCosmosServer;
  const startAzurite = azurite.startAzuriteQueues;
  jest.spyOn(cosmosServer, 'startCosmosServer').mockImplementation(async (options) => {
    const running = await startCosmos(options);
    pids.push(running.pid);
    return running;
  });
  jest.spyOn(azurite, 'startAzuriteQueues').mockImplementation(async (options) => {
    const running = await startAzurite(options);
    pids.push(running.pid);
    return running;
  });

  await expect(startSagaApp({ entry: require.resolve('./fixtures/app-that-fails-to-load') })).rejects.toThrow(
    'this app fails to load on purpose',
  );

  expect(pids).toHaveLength(2);
  expect(pids.filter(alive)).toEqual([]);
});
