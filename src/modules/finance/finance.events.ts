import type { Server as IoServer } from 'socket.io';
import { userRoom } from '../../platform/auth-context';
import type { EventBus } from '../../platform/events';
import type { AccountDoc } from './finance.model';

/** The socket event both parties' devices receive when a credit line's balances change. */
export const CREDIT_CHANGED_SOCKET_EVENT = 'finance:credit_changed';

export function lineBalances(line: AccountDoc) {
  const posted = line.debitsPosted - line.creditsPosted;
  const held = line.debitsPending - line.creditsPending;
  return { limit: line.limit, posted, held, available: line.limit - posted - held };
}

/** finance.credit_changed on the bus and `finance:credit_changed` to the buyer's and vendor's rooms. */
export function createCreditNotifier(deps: { events: EventBus; io: IoServer | null; clock: () => Date }) {
  return (line: AccountDoc) => {
    if (line.kind !== 'line' || !line.buyerId || !line.vendorId) return;
    const payload = {
      creditLineId: line._id,
      buyerId: line.buyerId,
      vendorId: line.vendorId,
      currency: line.currency,
      ...lineBalances(line),
      at: deps.clock().toISOString(),
    };
    deps.events.publish('finance.credit_changed', payload);
    deps.io?.to([userRoom(line.buyerId), userRoom(line.vendorId)]).emit(CREDIT_CHANGED_SOCKET_EVENT, payload);
  };
}

export type CreditNotifier = ReturnType<typeof createCreditNotifier>;
