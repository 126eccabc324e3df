import type { QuietHours } from './quiet-hours';

/** What notifications needs to know about a person (users' directory, adapted by the composition root). */
export interface RecipientProfile {
  userId: string;
  email: string;
  emailVerified: boolean;
  phone: string | null;
  name: string;
  role: string;
  status: string;
  language: string;
  timezone: string;
  /** Channels chosen per category; a missing category means the defaults. */
  notifications: Partial<Record<string, string[]>>;
  quietHours: QuietHours;
}

export interface RecipientSegment {
  roles?: string[];
  countries?: string[];
  activeSince?: Date | null;
}

/** The users' side of notifications: read contact and preferences, write preferences, walk a segment. */
export interface NotificationRecipients {
  profile(userId: string): Promise<RecipientProfile | null>;
  updatePreferences(
    userId: string,
    patch: { timezone?: string; notifications?: Partial<Record<string, string[]>>; quietHours?: Partial<QuietHours> },
  ): Promise<void>;
  listIds(segment: RecipientSegment, afterId: string | null, limit: number): Promise<string[]>;
}

/** Chat's side (its contract): who else is in a conversation, and whether someone has a device online. */
export interface ChatPresence {
  participantIds(conversationId: string): Promise<string[]>;
  isOnline(userId: string): Promise<boolean>;
}
