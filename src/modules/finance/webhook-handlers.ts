import type { Logger } from '../../platform/logger';
import type { Provider } from './finance.model';
import type { PaymentsService } from './payments.service';
import { fromMajorText } from './providers/money';

/** The inbox's event as finance reads it (webhooks' InboxEvent; its payload is already verified). */
export interface FinanceInboxEvent {
  id: string;
  provider: string;
  eventId: string;
  type: string;
  payload: unknown;
}
export interface FinanceWebhookOutcome {
  outcome: 'processed' | 'ignored';
  note?: string;
}
export type FinanceWebhookHandler = (event: FinanceInboxEvent) => Promise<FinanceWebhookOutcome>;

type Obj = Record<string, unknown>;
const obj = (value: unknown): Obj => (value && typeof value === 'object' && !Array.isArray(value) ? (value as Obj) : {});
const str = (value: unknown): string | null => (typeof value === 'string' && value.length > 0 ? value : null);
const int = (value: unknown): number | null => (Number.isSafeInteger(value) ? (value as number) : null);
const ignored = (note: string): FinanceWebhookOutcome => ({ outcome: 'ignored', note });

/**
 * One handler per provider, dispatching on the event type. Outcomes come only from here (never
 * from a client); every branch is idempotent, so the inbox may run an event again. A throw asks
 * the inbox to retry; a payload we cannot use is answered "ignored" with the reason.
 */
export function createWebhookHandlers(deps: { payments: PaymentsService; logger: Logger }): Record<'stripe' | 'razorpay' | 'payu', FinanceWebhookHandler> {
  const { payments } = deps;

  const stripe: FinanceWebhookHandler = async (event) => {
    const object = obj(obj(obj(event.payload).data).object);
    const type = event.type;
    if (type === 'payment_intent.succeeded' || type === 'payment_intent.payment_failed' || type === 'payment_intent.canceled') {
      const ref = str(object.id);
      if (!ref) return ignored('no PaymentIntent id');
      if (type === 'payment_intent.succeeded') {
        const amount = int(object.amount_received) ?? int(object.amount);
        const currency = str(object.currency);
        if (amount === null || !currency) return ignored('no amount or currency');
        return payments.succeeded({ provider: 'stripe', providerRef: ref, paymentId: str(obj(object.metadata).paymentId), providerPaymentId: str(object.latest_charge), amount, currency, eventId: event.eventId });
      }
      const reason = str(obj(object.last_payment_error).message) ?? str(object.cancellation_reason);
      return payments.failed({ provider: 'stripe', providerRef: ref, paymentId: str(obj(object.metadata).paymentId), reason, cancelled: type === 'payment_intent.canceled' });
    }
    if (type === 'charge.dispute.created') {
      const ref = str(object.payment_intent);
      const id = str(object.id);
      const amount = int(object.amount);
      const currency = str(object.currency);
      if (!ref || !id || amount === null || !currency) return ignored('dispute without payment_intent, id, amount or currency');
      return payments.disputeOpened({ provider: 'stripe', providerRef: ref, chargeId: str(object.charge), disputeId: id, amount, currency, reason: str(object.reason) });
    }
    if (type === 'charge.dispute.closed') {
      const id = str(object.id);
      if (!id) return ignored('dispute without id');
      const status = str(object.status);
      if (status !== 'won' && status !== 'lost') return ignored(`dispute closed as ${status ?? 'unknown'}`);
      return payments.disputeClosed({ provider: 'stripe', disputeId: id, won: status === 'won' });
    }
    return ignored(`finance does not act on ${type}`);
  };

  const razorpay: FinanceWebhookHandler = async (event) => {
    const body = obj(event.payload);
    const type = str(body.event) ?? event.type;
    const payment = obj(obj(obj(body.payload).payment).entity);
    const orderRef = str(payment.order_id);
    if (type === 'payment.captured' || type === 'order.paid') {
      const amount = int(payment.amount);
      const currency = str(payment.currency);
      if (!orderRef || amount === null || !currency) return ignored('payment without order_id, amount or currency');
      return payments.succeeded({ provider: 'razorpay', providerRef: orderRef, providerPaymentId: str(payment.id), amount, currency, eventId: event.eventId });
    }
    if (type === 'payment.failed') {
      if (!orderRef) return ignored('payment without order_id');
      return payments.failed({ provider: 'razorpay', providerRef: orderRef, reason: str(payment.error_description) });
    }
    const dispute = obj(obj(obj(body.payload).dispute).entity);
    const disputeId = str(dispute.id);
    if (type === 'payment.dispute.created') {
      const amount = int(dispute.amount);
      const currency = str(dispute.currency) ?? str(payment.currency);
      if (!orderRef || !disputeId || amount === null || !currency) return ignored('dispute without order, id, amount or currency');
      return payments.disputeOpened({ provider: 'razorpay', providerRef: orderRef, disputeId, amount, currency, reason: str(dispute.reason_code) });
    }
    if (type === 'payment.dispute.won' || type === 'payment.dispute.lost') {
      if (!disputeId) return ignored('dispute without id');
      return payments.disputeClosed({ provider: 'razorpay', disputeId, won: type === 'payment.dispute.won' });
    }
    return ignored(`finance does not act on ${type}`);
  };

  const payu: FinanceWebhookHandler = async (event) => {
    const fields = obj(event.payload);
    const txnid = str(fields.txnid);
    const status = str(fields.status)?.toLowerCase() ?? null;
    if (!txnid || !status) return ignored('no txnid or status');
    const found = await payments.findByRef('payu', txnid);
    if (!found) return ignored('no payment for this txnid');
    if (status === 'success') {
      const amount = fromMajorText(str(fields.amount) ?? '', found.currency);
      return payments.succeeded({ provider: 'payu', providerRef: txnid, providerPaymentId: str(fields.mihpayid), amount: amount ?? -1, currency: found.currency, eventId: event.eventId });
    }
    if (status === 'failure' || status === 'failed') {
      return payments.failed({ provider: 'payu', providerRef: txnid, reason: str(fields.error_Message) ?? str(fields.field9) });
    }
    return ignored(`PayU status ${status}`);
  };

  return { stripe, razorpay, payu } satisfies Record<Provider, FinanceWebhookHandler>;
}
