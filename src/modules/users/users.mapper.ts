import type { UserDoc } from './user.model';

/** The caller's own account: everything except secrets and lockout counters. */
export function toMe(user: UserDoc) {
  return {
    id: String(user._id),
    email: user.email,
    phone: user.phone ?? null,
    name: user.name,
    role: user.role,
    status: user.status,
    emailVerified: user.emailVerified,
    business: toBusiness(user),
    preferences: {
      language: user.preferences?.language ?? 'en',
      timezone: user.preferences?.timezone ?? 'UTC',
      notifications: user.preferences?.notifications ?? {},
      quietHours: {
        enabled: user.preferences?.quietHours?.enabled ?? false,
        start: user.preferences?.quietHours?.start ?? '22:00',
        end: user.preferences?.quietHours?.end ?? '07:00',
      },
    },
    followersCount: user.followersCount ?? 0,
    followingCount: user.followingCount ?? 0,
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
  };
}

function toBusiness(user: UserDoc) {
  const b = user.business ?? { categories: [] };
  return {
    companyName: b.companyName ?? null,
    taxId: b.taxId ?? null,
    address: b.address
      ? {
          line1: b.address.line1 ?? null,
          line2: b.address.line2 ?? null,
          city: b.address.city ?? null,
          state: b.address.state ?? null,
          postalCode: b.address.postalCode ?? null,
          country: b.address.country ?? null,
        }
      : null,
    categories: b.categories ?? [],
    description: b.description ?? null,
    logoUploadId: b.logoUploadId ?? null,
  };
}

/** What anyone signed in may see about another user: no email, phone, tax id or preferences. */
export function toPublicProfile(user: UserDoc) {
  const business = toBusiness(user);
  return {
    id: String(user._id),
    name: user.name,
    role: user.role,
    business: {
      companyName: business.companyName,
      categories: business.categories,
      description: business.description,
      city: business.address?.city ?? null,
      country: business.address?.country ?? null,
      logoUploadId: business.logoUploadId,
    },
    followersCount: user.followersCount ?? 0,
    followingCount: user.followingCount ?? 0,
    createdAt: user.createdAt.toISOString(),
  };
}

export type MeView = ReturnType<typeof toMe>;
export type PublicProfileView = ReturnType<typeof toPublicProfile>;
