import { randomUUID } from 'node:crypto';
import type { CommandStartedEvent } from 'mongodb';
import { currentRequestId } from '../../src/platform/request-context';
import type { TestServer } from './server';

/**
 * The store commands each request issued, attributed through the request id the app keeps in
 * AsyncLocalStorage (so background work running meanwhile is not counted). Send `X-Request-Id:
 * tracker.nextId()` and read `tracker.of(id)` as `command:collection` strings.
 */
export function trackRequestCommands(app: TestServer, prefix = `rc-${randomUUID().slice(0, 8)}-`) {
  const seen = new Map<string, string[]>();
  app.ctx.mongo.getClient().on('commandStarted', (event: CommandStartedEvent) => {
    const id = currentRequestId();
    if (id?.startsWith(prefix)) seen.set(id, [...(seen.get(id) ?? []), `${event.commandName}:${String(event.command[event.commandName])}`]);
  });
  return {
    nextId: () => `${prefix}${randomUUID()}`,
    of: (id: string) => seen.get(id) ?? [],
  };
}
