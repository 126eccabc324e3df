import type { NotificationModels } from './notifications.model';
import { NOTIFICATION_CATEGORIES, type Channel, type NotificationCategory } from './notifications.types';
import { chosenChannels } from './plan';
import type { NotificationRecipients } from './ports';
import { notificationErrors } from './notifications.errors';

export interface PreferencesView {
  /** Every category with the channels on for it (the user's choice, or the defaults). In-app is always on. */
  categories: Record<NotificationCategory, Channel[]>;
  quietHours: { enabled: boolean; start: string; end: string; timezone: string };
  digest: boolean;
}

export interface PreferencesPatch {
  categories?: Partial<Record<NotificationCategory, Channel[]>>;
  quietHours?: { enabled?: boolean; start?: string; end?: string; timezone?: string };
  digest?: boolean;
}

/**
 * Categories × channels and quiet hours live with the user's other preferences (users module, also
 * served as /api/auth/me/preferences), so there is one record of them; the digest switch is ours.
 */
export function createPreferencesService(deps: { models: NotificationModels; recipients: NotificationRecipients; clock: () => Date }) {
  const { models, recipients } = deps;

  async function digestOn(userId: string): Promise<boolean> {
    const settings = await models.settings.findById(userId).lean();
    return settings?.digest ?? true;
  }

  async function get(userId: string): Promise<PreferencesView> {
    const recipient = await recipients.profile(userId);
    if (!recipient) throw notificationErrors.notFound();
    const categories = Object.fromEntries(NOTIFICATION_CATEGORIES.map((c) => [c, [...new Set<Channel>(['inApp', ...chosenChannels(recipient, c)])]])) as Record<
      NotificationCategory,
      Channel[]
    >;
    return {
      categories,
      quietHours: { ...recipient.quietHours, timezone: recipient.timezone },
      digest: await digestOn(userId),
    };
  }

  return {
    get,
    digestOn,

    async update(userId: string, patch: PreferencesPatch): Promise<PreferencesView> {
      const { timezone, ...quietHours } = patch.quietHours ?? {};
      const hasQuiet = Object.values(quietHours).some((v) => v !== undefined);
      if (patch.categories || hasQuiet || timezone) {
        await recipients.updatePreferences(userId, {
          ...(patch.categories ? { notifications: patch.categories } : {}),
          ...(hasQuiet ? { quietHours } : {}),
          ...(timezone ? { timezone } : {}),
        });
      }
      if (patch.digest !== undefined) {
        await models.settings.updateOne({ _id: userId }, { $set: { digest: patch.digest, updatedAt: deps.clock() } }, { upsert: true });
      }
      return get(userId);
    },
  };
}

export type PreferencesService = ReturnType<typeof createPreferencesService>;
