import { randomUUID } from 'node:crypto';
import { appendToStream, type Db } from '../store/index.js';
import { topics } from './contracts.js';
import type { SendReplay } from './gateway/admin-ops-routes.js';
import { REPLAY_DEAD_LETTER, type ReplayDeadLetter } from './service-dead-letters.js';

/**
 * The gateway's side of a participant's dead-letter replay: a ReplayDeadLetter command to
 * `<service>-commands`, appended to the gateway's log in one transaction (its relay
 * publishes it, like SetStock). `wake` nudges the relay for a prompt send.
 */
export function replaySender(gatewayDb: Db, relay: { notify(): void }): SendReplay {
  return async (service, deadLetterId, actor, requestId) => {
    const commandId = randomUUID();
    const data: ReplayDeadLetter = { deadLetterId, actor };
    await appendToStream(gatewayDb, `gateway-replay-${commandId}`, 'no_stream', [
      { id: commandId, type: REPLAY_DEAD_LETTER, data, metadata: { topic: topics.commands(service), key: `dead-letter-${deadLetterId}`, kind: 'api-command', correlationId: requestId } },
    ]);
    relay.notify();
    return commandId;
  };
}
