import { isQuiet, planDeliveries, quietUntil, type RecipientProfile } from '../../src/modules/notifications';

const night = { enabled: true, start: '22:00', end: '07:00' };

const recipient = (overrides: Partial<RecipientProfile> = {}): RecipientProfile => ({
  userId: 'u1',
  email: 'u1@example.test',
  emailVerified: true,
  phone: '+919876543210',
  name: 'U',
  role: 'user',
  status: 'active',
  language: 'en',
  timezone: 'Asia/Kolkata',
  notifications: {},
  quietHours: night,
  ...overrides,
});

const allConfigured = { inApp: true, push: true, email: true, sms: true };

describe('quiet hours in the user’s time zone', () => {
  it('a 23:30 Asia/Kolkata moment (18:00 UTC) is quiet until 07:00 local (01:30 UTC the next day)', () => {
    const at = new Date('2026-03-10T18:00:00.000Z');
    expect(isQuiet(at, 'Asia/Kolkata', night)).toBe(true);
    expect(quietUntil(at, 'Asia/Kolkata', night)?.toISOString()).toBe('2026-03-11T01:30:00.000Z');
  });

  it('the same instant is not quiet in London (18:00) and the window ends exactly at its end', () => {
    const at = new Date('2026-03-10T18:00:00.000Z');
    expect(isQuiet(at, 'Europe/London', night)).toBe(false);
    expect(quietUntil(at, 'Europe/London', night)).toBeNull();
    expect(isQuiet(new Date('2026-03-11T01:29:00.000Z'), 'Asia/Kolkata', night)).toBe(true);
    expect(isQuiet(new Date('2026-03-11T01:30:00.000Z'), 'Asia/Kolkata', night)).toBe(false);
  });

  it('a window within one day (13:00–14:00) and a disabled or empty window', () => {
    const lunch = { enabled: true, start: '13:00', end: '14:00' };
    expect(quietUntil(new Date('2026-03-10T08:00:00.000Z'), 'Asia/Kolkata', lunch)?.toISOString()).toBe('2026-03-10T08:30:00.000Z');
    expect(isQuiet(new Date('2026-03-10T09:00:00.000Z'), 'Asia/Kolkata', lunch)).toBe(false);
    expect(isQuiet(new Date('2026-03-10T18:00:00.000Z'), 'Asia/Kolkata', { ...night, enabled: false })).toBe(false);
    expect(isQuiet(new Date('2026-03-10T18:00:00.000Z'), 'Asia/Kolkata', { enabled: true, start: '07:00', end: '07:00' })).toBe(false);
  });

  it('ends at 07:00 local across a daylight-saving change (New York, spring forward)', () => {
    // 2026-03-08 02:00 EST → 03:00 EDT. 23:00 EST on the 7th is 04:00 UTC; 07:00 EDT on the 8th is 11:00 UTC.
    expect(quietUntil(new Date('2026-03-08T04:00:00.000Z'), 'America/New_York', night)?.toISOString()).toBe('2026-03-08T11:00:00.000Z');
  });

  it('an unknown zone is read as UTC rather than failing', () => {
    expect(quietUntil(new Date('2026-03-10T23:00:00.000Z'), 'Mars/Olympus', night)?.toISOString()).toBe('2026-03-11T07:00:00.000Z');
  });
});

describe('the delivery plan', () => {
  const at23h30Kolkata = new Date('2026-03-10T18:00:00.000Z');
  const plan = (overrides: Partial<Parameters<typeof planDeliveries>[0]> = {}) =>
    Object.fromEntries(
      planDeliveries({
        recipient: recipient(),
        category: 'finance',
        priority: 'normal',
        channels: ['inApp', 'push', 'email', 'sms'],
        configured: allConfigured,
        hasDevice: true,
        now: at23h30Kolkata,
        ...overrides,
      }).map((p) => [p.channel, p]),
    );

  it('in quiet hours: in-app at once, push, email and SMS delayed to 07:00 local — never dropped', () => {
    const p = plan();
    expect(p.inApp).toMatchObject({ status: 'delivered', notBefore: null });
    for (const channel of ['push', 'email', 'sms']) {
      expect(p[channel]).toMatchObject({ status: 'delayed', reason: 'quiet hours' });
      expect(p[channel]!.notBefore?.toISOString()).toBe('2026-03-11T01:30:00.000Z');
    }
  });

  it('critical bypasses quiet hours and opt-outs', () => {
    const p = plan({ priority: 'critical', recipient: recipient({ notifications: { finance: [] } }) });
    expect(p.inApp).toMatchObject({ status: 'delivered', notBefore: null });
    for (const channel of ['push', 'email', 'sms']) expect(p[channel]).toMatchObject({ status: 'queued', notBefore: null });
  });

  it('an opted-out channel is suppressed by preference; defaults apply to a category not chosen', () => {
    const p = plan({ recipient: recipient({ notifications: { finance: ['email'] }, quietHours: { ...night, enabled: false } }) });
    expect(p.email).toMatchObject({ status: 'queued' });
    expect(p.push).toMatchObject({ status: 'suppressed', reason: 'preference' });
    expect(p.sms).toMatchObject({ status: 'suppressed', reason: 'preference' });
    const chat = plan({ category: 'chat', recipient: recipient({ quietHours: { ...night, enabled: false } }) });
    expect(chat.push).toMatchObject({ status: 'queued' });
    expect(chat.email).toMatchObject({ status: 'suppressed', reason: 'preference' });
  });

  it('an unconfigured channel, no phone and no device are suppressed with their reasons', () => {
    const p = plan({ configured: { ...allConfigured, email: false }, hasDevice: false, recipient: recipient({ phone: null }) });
    expect(p.email).toMatchObject({ status: 'suppressed', reason: 'channel not configured' });
    expect(p.sms).toMatchObject({ status: 'suppressed', reason: 'no phone number' });
    expect(p.push).toMatchObject({ status: 'suppressed', reason: 'no device registered' });
  });
});
