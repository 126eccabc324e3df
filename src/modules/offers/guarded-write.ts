import type { Connection, Model, Types } from 'mongoose';
import type { Locks } from '../../platform/locks';
import { isDuplicateKey } from '../../platform/mongo';

interface Versioned {
  _id: Types.ObjectId;
  version: number;
}

/** One transition of a versioned document: the fields it sets and at most one array element it appends. */
export interface Step {
  action: string;
  actorId: string | null;
  set: Record<string, unknown>;
  push?: { field: string; value: unknown };
}

interface ClaimDoc {
  /** `<documentId>:v<version it moves from>`: the step from a version can be claimed once. */
  _id: string;
  documentId: string;
  fromVersion: number;
  action: string;
  actorId: string | null;
  at: Date;
  set: Record<string, unknown>;
  push: { field: string; value: unknown } | null;
}

export interface Transitioned<D> {
  before: D;
  after: D;
  step: Step | null;
}

/**
 * Guarded transitions of a state machine on FerretDB 1.24, where updates are read-modify-write
 * without isolation (a version check in the filter lets several writers through). Two exact
 * mechanisms instead:
 * - the document's lock (src/platform/locks.ts) serialises check-and-write, so `decide` always
 *   sees the state the write will replace;
 * - a claim document whose unique `_id` is `<id>:v<version>` is inserted before the write, holding
 *   the step itself: a version can be left once, even if a frozen holder's lease was overtaken.
 * The claim is the decision. A writer that dies between the claim and the document write leaves
 * a claim whose step is applied by the next writer that runs into it (roll forward), so the
 * document never stays behind its decided state.
 */
export function createGuardedWrites<D extends Versioned>(options: {
  model: Model<D>;
  mongo: Connection;
  claimsCollection: string;
  lockPrefix: string;
  locks: Locks;
  clock: () => Date;
}) {
  const { model, locks, clock } = options;
  const claims = options.mongo.collection<ClaimDoc>(options.claimsCollection);

  function applyLocal(current: D, step: Pick<Step, 'set' | 'push'>): D {
    const next: Record<string, unknown> = { ...current, ...step.set };
    if (step.push) {
      const list = (current as unknown as Record<string, unknown[]>)[step.push.field] ?? [];
      next[step.push.field] = [...list, step.push.value];
    }
    return next as D;
  }

  async function write(id: Types.ObjectId, step: Pick<Step, 'set' | 'push'>): Promise<void> {
    const update: Record<string, unknown> = { $set: step.set };
    if (step.push) update.$push = { [step.push.field]: step.push.value };
    await model.updateOne({ _id: id }, update as never);
  }

  /** Applies a claimed step the document has not received yet (its writer died or failed after claiming). */
  async function rollForward(current: D): Promise<D> {
    let doc = current;
    for (let i = 0; i < 3; i += 1) {
      const claim = await claims.findOne({ _id: `${String(doc._id)}:v${doc.version}` });
      if (!claim) return doc;
      const step = { set: claim.set, push: claim.push ?? undefined };
      await write(doc._id, step);
      doc = applyLocal(doc, step);
    }
    return doc;
  }

  return {
    /**
     * Runs `decide` on the current document under its lock and writes the step it returns (null:
     * nothing to do). `decide` throws to refuse. `lost(current)` builds the error for a writer whose
     * claim was already taken. Answers null when the document does not exist.
     */
    async run(id: Types.ObjectId, decide: (current: D) => Step | null, lost: (current: D) => Error): Promise<Transitioned<D> | null> {
      return locks.withLock(`${options.lockPrefix}:${String(id)}`, async () => {
        const current = await model.findById(id).lean<D>();
        if (!current) return null;
        const step = decide(current);
        if (!step) return { before: current, after: current, step: null };
        const set = { ...step.set, version: current.version + 1 };
        try {
          await claims.insertOne({
            _id: `${String(id)}:v${current.version}`,
            documentId: String(id),
            fromVersion: current.version,
            action: step.action,
            actorId: step.actorId,
            at: clock(),
            set,
            push: step.push ?? null,
          });
        } catch (err) {
          if (!isDuplicateKey(err)) throw err;
          throw lost(await rollForward(current));
        }
        await write(id, { set, push: step.push });
        return { before: current, after: applyLocal(current, { set, push: step.push }), step: { ...step, set } };
      });
    },
    rollForward,
  };
}

export type GuardedWrites<D extends Versioned> = ReturnType<typeof createGuardedWrites<D>>;
