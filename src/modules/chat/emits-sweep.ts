import type { Collection } from 'mongodb';
import type { ChatModels, EmitDoc } from './chat.model';

/** The UTC day an emit claim was made, stored on it so a sweep deletes a whole day by one indexed equality. */
export const emitDay = (at: Date) => at.toISOString().slice(0, 10);

const DAY_MS = 86_400_000;
const STATE_ID = 'chat_message_emits';

interface SweepState {
  _id: string;
  /** Every claim of this day and before is gone. */
  through: string;
}

/**
 * Deletes emit claims (`chat_message_emits`) older than the retention: a retry that late is
 * answered from the stored message and, finding no claim, emits it once more (clients apply
 * messages by id, so a duplicate live event is harmless; what the claim prevents is a duplicate
 * within the window where retries really happen). Runs on a job schedule.
 *
 * FerretDB 1.24 pushes only equality down to SQL, so each day is one `deleteMany({ day })` served
 * by the index on `day`. The first run (no state yet) deletes by `at < cutoff`, which reads the
 * whole collection once and also covers claims stored before they carried a day; later runs go
 * day by day from where the state document says the last one stopped.
 */
export async function sweepMessageEmits(models: Pick<ChatModels, 'Emit'>, options: { now: Date; retentionMs: number }): Promise<{ deleted: number; through: string }> {
  const emits = models.Emit.collection as unknown as Collection<EmitDoc>;
  const states = models.Emit.db.collection<SweepState>('chat_sweeps');
  const cutoff = new Date(options.now.getTime() - options.retentionMs);
  // Days strictly before the cutoff's day hold only claims older than the cutoff.
  const lastWholeDay = emitDay(new Date(Date.parse(`${emitDay(cutoff)}T00:00:00.000Z`) - DAY_MS));
  const state = await states.findOne({ _id: STATE_ID });
  let deleted = 0;
  if (!state) {
    deleted += (await emits.deleteMany({ at: { $lt: cutoff } })).deletedCount;
  } else {
    for (let day = Date.parse(`${state.through}T00:00:00.000Z`) + DAY_MS; emitDay(new Date(day)) <= lastWholeDay; day += DAY_MS) {
      deleted += (await emits.deleteMany({ day: emitDay(new Date(day)) })).deletedCount;
    }
  }
  if (!state || state.through < lastWholeDay) {
    await states.updateOne({ _id: STATE_ID }, { $set: { through: lastWholeDay } }, { upsert: true }).catch((err: unknown) => {
      // Two first runs at once: the other's upsert won, with the same value.
      if ((err as { code?: number }).code !== 11000) throw err;
    });
  }
  return { deleted, through: lastWholeDay };
}
