import type { Locks } from '../../platform/locks';
import { isDuplicateKey } from '../../platform/mongo';
import { errors } from '../../platform/errors';
import type { Logger } from '../../platform/logger';
import type { AccountDoc, FinanceModels, TransferDoc, TransferKind } from './finance.model';

/**
 * The double-entry ledger (TigerBeetle's model on a document store without transactions).
 *
 * Writing a transfer, under the locks of both its accounts (taken in id order, so two writers never
 * wait on each other crosswise):
 *   1. read both accounts; the transfer's number in each is that account's `lastSeq + 1`;
 *   2. insert the immutable transfer (its `_id` is the idempotency key; `(debitAccountId, debitSeq)`
 *      and `(creditAccountId, creditSeq)` are unique, so no two transfers ever share a number);
 *   3. apply it to each account in one update that moves the balances and sets `lastSeq`.
 * A crash between 2 and 3 leaves a transfer numbered `lastSeq + 1` on an account: the next writer's
 * insert collides with it on the unique number, finds it, applies it, and tries again; the repair
 * schedule (and start-up) looks for exactly that transfer on every account. So an account is always
 * the sum of its transfers 1..lastSeq, and a committed transfer is never lost or applied twice.
 */
export interface TransferInput {
  id: string;
  kind: TransferKind;
  debitAccountId: string;
  creditAccountId: string;
  amount: number;
  currency: string;
  pending?: boolean;
  /** Resolve this pending transfer; the id must then be `resolve:<pendingId>`. */
  resolve?: { pendingId: string; as: 'post' | 'void' };
  referenceType: string;
  referenceId: string;
  actorId: string | null;
  partyIds: string[];
  dueAt?: Date | null;
  memo?: string | null;
}

export interface TransferResult {
  transfer: TransferDoc;
  /** False when the id was already written (a retry): nothing changed. */
  created: boolean;
  debit: AccountDoc;
  credit: AccountDoc;
}

/** Checked under the locks, after repair, with the accounts as they stand. Throw to refuse. */
export type TransferGuard = (state: { debit: AccountDoc; credit: AccountDoc; pending: TransferDoc | null }) => void | Promise<void>;

export interface LedgerFaults {
  /** Tests: runs after the transfer is stored and before it is applied (throw = a crash there). */
  afterInsert?: (transfer: TransferDoc) => void | Promise<void>;
}

export const resolveId = (pendingId: string) => `resolve:${pendingId}`;
export const accountLockKey = (accountId: string) => `finance:account:${accountId}`;

type Balances = Pick<AccountDoc, 'debitsPending' | 'debitsPosted' | 'creditsPending' | 'creditsPosted'>;

/** The change one transfer makes to one side of one account. */
export function effectOf(transfer: Pick<TransferDoc, 'pending' | 'resolution' | 'amount'>, side: 'debit' | 'credit'): Balances {
  const a = transfer.amount;
  const zero = { debitsPending: 0, debitsPosted: 0, creditsPending: 0, creditsPosted: 0 };
  const pendingKey = side === 'debit' ? 'debitsPending' : 'creditsPending';
  const postedKey = side === 'debit' ? 'debitsPosted' : 'creditsPosted';
  if (transfer.pending) return { ...zero, [pendingKey]: a };
  if (transfer.resolution === 'post') return { ...zero, [pendingKey]: -a, [postedKey]: a };
  if (transfer.resolution === 'void') return { ...zero, [pendingKey]: -a };
  return { ...zero, [postedKey]: a };
}

export function createLedger(deps: { models: FinanceModels; locks: Locks; clock: () => Date; logger: Logger; lockWaitMs: number; lockLeaseMs: number; faults?: LedgerFaults }) {
  const { Account, Transfer } = deps.models;

  async function withAccountLocks<T>(accountIds: string[], work: () => Promise<T>): Promise<T> {
    const keys = [...new Set(accountIds)].sort().map(accountLockKey);
    const run = (i: number): Promise<T> =>
      i >= keys.length ? work() : deps.locks.withLock(keys[i] as string, () => run(i + 1), { waitMs: deps.lockWaitMs, leaseMs: deps.lockLeaseMs });
    return run(0);
  }

  async function readAccount(id: string): Promise<AccountDoc> {
    const account = await Account.findById(id).lean<AccountDoc>();
    if (!account) throw errors.notFound('Account');
    return account;
  }

  /** Applies one side of a stored transfer to its account (the caller holds the account's lock). */
  async function applySide(account: AccountDoc, transfer: TransferDoc): Promise<AccountDoc> {
    const side = transfer.debitAccountId === account._id ? 'debit' : 'credit';
    const seq = side === 'debit' ? transfer.debitSeq : transfer.creditSeq;
    if (seq <= account.lastSeq) return account;
    if (seq !== account.lastSeq + 1) throw new Error(`Ledger: transfer ${transfer._id} is number ${seq} on ${account._id}, which stands at ${account.lastSeq}`);
    const effect = effectOf(transfer, side);
    const next: AccountDoc = {
      ...account,
      debitsPending: account.debitsPending + effect.debitsPending,
      debitsPosted: account.debitsPosted + effect.debitsPosted,
      creditsPending: account.creditsPending + effect.creditsPending,
      creditsPosted: account.creditsPosted + effect.creditsPosted,
      lastSeq: seq,
      lastTransferId: transfer._id,
      updatedAt: deps.clock(),
    };
    await Account.updateOne(
      { _id: account._id },
      {
        $set: {
          debitsPending: next.debitsPending,
          debitsPosted: next.debitsPosted,
          creditsPending: next.creditsPending,
          creditsPosted: next.creditsPosted,
          lastSeq: next.lastSeq,
          lastTransferId: next.lastTransferId,
        },
      },
    );
    return next;
  }

  /** The transfer numbered `lastSeq + 1` on this account, if one was stored but not applied. */
  async function findUnapplied(account: AccountDoc): Promise<TransferDoc | null> {
    const seq = account.lastSeq + 1;
    return (
      (await Transfer.findOne({ debitAccountId: account._id, debitSeq: seq }).lean<TransferDoc>()) ??
      (await Transfer.findOne({ creditAccountId: account._id, creditSeq: seq }).lean<TransferDoc>())
    );
  }

  /** Finishes every stored, unapplied transfer of an account (the caller holds its lock). */
  async function catchUp(account: AccountDoc): Promise<{ account: AccountDoc; repaired: number }> {
    let current = account;
    let repaired = 0;
    for (;;) {
      const transfer = await findUnapplied(current);
      if (!transfer) return { account: current, repaired };
      deps.logger.warn('Ledger: applying a transfer a crash left unapplied', { accountId: current._id, transferId: transfer._id });
      current = await applySide(current, transfer);
      repaired += 1;
    }
  }

  async function transfer(input: TransferInput, guard?: TransferGuard): Promise<TransferResult> {
    if (!Number.isSafeInteger(input.amount) || input.amount <= 0) throw errors.validation([{ field: 'amount', message: 'amount must be a positive integer' }]);
    if (input.debitAccountId === input.creditAccountId) throw new Error('Ledger: a transfer needs two accounts');
    // Both resolutions of a pending transfer share one id, so exactly one of post and void is ever stored.
    if (input.resolve && input.id !== resolveId(input.resolve.pendingId)) throw new Error('Ledger: a resolution must be keyed resolve:<pendingId>');
    return withAccountLocks([input.debitAccountId, input.creditAccountId], async () => {
      let [debit, credit] = await Promise.all([readAccount(input.debitAccountId), readAccount(input.creditAccountId)]);
      if (debit.currency !== input.currency || credit.currency !== input.currency) throw new Error('Ledger: currency mismatch');
      for (let attempt = 0; ; attempt += 1) {
        const existing = await Transfer.findById(input.id).lean<TransferDoc>();
        if (existing) {
          // A retry: make sure the first attempt was applied (it may have crashed in between).
          debit = (await catchUp(debit)).account;
          credit = (await catchUp(credit)).account;
          return { transfer: existing, created: false, debit, credit };
        }
        let pending: TransferDoc | null = null;
        if (input.resolve) {
          pending = await Transfer.findById(input.resolve.pendingId).lean<TransferDoc>();
          if (!pending || !pending.pending) throw errors.notFound('Pending transfer');
          if (pending.debitAccountId !== input.debitAccountId || pending.creditAccountId !== input.creditAccountId || pending.amount !== input.amount) {
            throw new Error(`Ledger: ${input.id} does not match the pending transfer it resolves`);
          }
        }
        if (guard) await guard({ debit, credit, pending });
        const doc: TransferDoc = {
          _id: input.id,
          kind: input.kind,
          debitAccountId: input.debitAccountId,
          creditAccountId: input.creditAccountId,
          amount: input.amount,
          currency: input.currency,
          pending: input.pending === true,
          pendingId: input.resolve?.pendingId ?? null,
          resolution: input.resolve?.as ?? null,
          debitSeq: debit.lastSeq + 1,
          creditSeq: credit.lastSeq + 1,
          referenceType: input.referenceType,
          referenceId: input.referenceId,
          actorId: input.actorId,
          partyIds: [...new Set(input.partyIds)],
          dueAt: input.dueAt ?? null,
          memo: input.memo ?? null,
          at: deps.clock(),
        };
        try {
          await Transfer.collection.insertOne(doc as never);
        } catch (err) {
          if (!isDuplicateKey(err) || attempt >= 5) throw err;
          // A number is taken: a crashed writer's transfer waits to be applied. Finish it, re-check.
          debit = (await catchUp(debit)).account;
          credit = (await catchUp(credit)).account;
          continue;
        }
        await deps.faults?.afterInsert?.(doc);
        [debit, credit] = await Promise.all([applySide(debit, doc), applySide(credit, doc)]);
        return { transfer: doc, created: true, debit, credit };
      }
    });
  }

  /** Finishes unapplied transfers on one account, under its lock. */
  async function repairAccount(accountId: string): Promise<number> {
    return withAccountLocks([accountId], async () => (await catchUp(await readAccount(accountId))).repaired);
  }

  /** Start-up and schedule: every account whose next number is already taken is caught up. */
  async function repairAll(): Promise<number> {
    let repaired = 0;
    let after = '';
    for (;;) {
      const batch = await Account.find(after ? { _id: { $gt: after } } : {}).sort({ _id: 1 }).limit(200).lean<AccountDoc[]>();
      if (batch.length === 0) return repaired;
      for (const account of batch) {
        if (await findUnapplied(account)) repaired += await repairAccount(account._id);
      }
      after = (batch[batch.length - 1] as AccountDoc)._id;
    }
  }

  /** Creates an account if it is missing (a duplicate insert means another writer created it). */
  async function ensureAccount(doc: Partial<AccountDoc> & Pick<AccountDoc, '_id' | 'kind' | 'currency'>): Promise<AccountDoc> {
    const found = await Account.findById(doc._id).lean<AccountDoc>();
    if (found) return found;
    const now = deps.clock();
    const full: AccountDoc = {
      buyerId: null,
      vendorId: null,
      provider: null,
      partyIds: [],
      limit: 0,
      creditDays: 0,
      status: 'active',
      statusReason: null,
      debitsPending: 0,
      debitsPosted: 0,
      creditsPending: 0,
      creditsPosted: 0,
      lastSeq: 0,
      lastTransferId: null,
      createdAt: now,
      updatedAt: now,
      ...doc,
    };
    try {
      await Account.collection.insertOne(full as never);
      return full;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      return readAccount(doc._id);
    }
  }

  return { transfer, repairAccount, repairAll, ensureAccount, readAccount, withAccountLocks, catchUp };
}

export type Ledger = ReturnType<typeof createLedger>;

/** Balances recomputed from transfers, per account. */
export function deriveBalances(transfers: TransferDoc[]): Map<string, Balances & { lastSeq: number }> {
  const out = new Map<string, Balances & { lastSeq: number }>();
  const add = (accountId: string, effect: Balances, seq: number) => {
    const cur = out.get(accountId) ?? { debitsPending: 0, debitsPosted: 0, creditsPending: 0, creditsPosted: 0, lastSeq: 0 };
    out.set(accountId, {
      debitsPending: cur.debitsPending + effect.debitsPending,
      debitsPosted: cur.debitsPosted + effect.debitsPosted,
      creditsPending: cur.creditsPending + effect.creditsPending,
      creditsPosted: cur.creditsPosted + effect.creditsPosted,
      lastSeq: Math.max(cur.lastSeq, seq),
    });
  };
  for (const t of transfers) {
    add(t.debitAccountId, effectOf(t, 'debit'), t.debitSeq);
    add(t.creditAccountId, effectOf(t, 'credit'), t.creditSeq);
  }
  return out;
}
