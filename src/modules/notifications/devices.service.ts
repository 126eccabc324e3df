import type { DevicePlatform, NotificationModels } from './notifications.model';
import { notificationErrors } from './notifications.errors';

/**
 * Push tokens. The token is the `_id`: registering one the app already has is idempotent, and a
 * token that moves to another account (sign-out, sign-in as someone else) leaves the first.
 */
export function createDevicesService(deps: { models: NotificationModels; clock: () => Date }) {
  const { models, clock } = deps;
  const view = (d: { _id: string; platform: string; appVersion: string | null; updatedAt: Date }) => ({
    token: d._id,
    platform: d.platform,
    appVersion: d.appVersion ?? null,
    updatedAt: d.updatedAt.toISOString(),
  });

  return {
    async register(userId: string, input: { token: string; platform: DevicePlatform; appVersion?: string }) {
      const now = clock();
      await models.devices.updateOne(
        { _id: input.token },
        { $set: { userId, platform: input.platform, appVersion: input.appVersion ?? null, updatedAt: now }, $setOnInsert: { createdAt: now } },
        { upsert: true },
      );
      return view({ _id: input.token, platform: input.platform, appVersion: input.appVersion ?? null, updatedAt: now });
    },

    /** Only the owner may remove a token; anyone else's (or an unknown one) is 404. */
    async unregister(userId: string, token: string): Promise<void> {
      const removed = await models.devices.deleteOne({ _id: token, userId });
      if (removed.deletedCount !== 1) throw notificationErrors.deviceNotFound();
    },

    list: (userId: string) => models.devices.find({ userId }).limit(50).lean(),
    remove: async (token: string) => {
      await models.devices.deleteOne({ _id: token });
    },
  };
}

export type DevicesService = ReturnType<typeof createDevicesService>;
