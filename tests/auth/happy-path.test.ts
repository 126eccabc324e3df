import { startTestServer, type TestServer } from '../helpers/server';
import { startMailCatcher, tokenFromMail, type MailCatcher } from '../helpers/mail-catcher';

describe('an account from register to sign-out everywhere, through a real SMTP peer', () => {
  let app: TestServer;
  let mail: MailCatcher;

  beforeAll(async () => {
    mail = await startMailCatcher();
    app = await startTestServer({ env: { SMTP_URL: mail.url, APP_URL: 'https://app.example.test/' } });
  });
  afterAll(async () => {
    await app.close();
    await mail.close();
  });

  it('registers, verifies by mail, signs in on two devices, refreshes, resets the password and signs out everywhere', async () => {
    const email = 'buyer@example.test';
    const registered = await app.api
      .post('/api/auth/register')
      .send({ email, password: 'first pass 1', name: 'Buyer', phone: '+919876543210', deviceName: 'Phone A' })
      .expect(201);
    expect(registered.body.data.user).toEqual(expect.objectContaining({ email, emailVerified: false, phone: '+919876543210' }));

    // The verification mail: HTML and text, with a link built from APP_URL.
    const verification = await mail.next(email, /confirm/i);
    expect(verification.text).toContain('https://app.example.test/verify-email?token=');
    expect(verification.html).toContain('https://app.example.test/verify-email?token=');
    const verifyToken = tokenFromMail(verification);
    await app.api.post('/api/auth/verify-email').send({ token: verifyToken }).expect(200, { data: { emailVerified: true } });
    // Single use.
    const again = await app.api.post('/api/auth/verify-email').send({ token: verifyToken }).expect(400);
    expect(again.body.error).toEqual(expect.objectContaining({ code: 'VALIDATION_FAILED', details: [expect.objectContaining({ field: 'token' })] }));

    // Second device.
    const deviceB = await app.api.post('/api/auth/login').send({ email, password: 'first pass 1', deviceName: 'Tablet B' }).expect(200);
    expect(deviceB.body.data.user.emailVerified).toBe(true);
    const sessions = await app.api.get('/api/auth/sessions').set('Authorization', `Bearer ${deviceB.body.data.accessToken}`).expect(200);
    expect(sessions.body.data.map((s: { device: { name: string } }) => s.device.name).sort()).toEqual(['Phone A', 'Tablet B']);
    expect(sessions.body.data.find((s: { current: boolean }) => s.current).device.name).toBe('Tablet B');

    // Device A refreshes repeatedly (weeks of 15-minute tokens, compressed): every token works once.
    let refreshA = registered.body.data.refreshToken as string;
    let accessA = registered.body.data.accessToken as string;
    for (let i = 0; i < 5; i += 1) {
      const res = await app.api.post('/api/auth/refresh').send({ refreshToken: refreshA }).expect(200);
      expect(res.body.data.refreshToken).not.toBe(refreshA);
      expect(res.body.data.sessionId).toBe(registered.body.data.sessionId);
      refreshA = res.body.data.refreshToken;
      accessA = res.body.data.accessToken;
    }
    await app.api.get('/api/auth/me').set('Authorization', `Bearer ${accessA}`).expect(200);

    // Forgot + reset.
    await app.api.post('/api/auth/forgot-password').send({ email }).expect(202, { data: { accepted: true } });
    const reset = await mail.next(email, /reset/i);
    expect(reset.text).toContain('https://app.example.test/reset-password?token=');
    const resetToken = tokenFromMail(reset);
    await app.api.post('/api/auth/reset-password').send({ token: resetToken, password: 'second pass 2' }).expect(200);

    // The reset revoked every session: both devices' access and refresh tokens stop working.
    const me = await app.api.get('/api/auth/me').set('Authorization', `Bearer ${accessA}`).expect(401);
    expect(me.body.error.code).toBe('UNAUTHENTICATED');
    await app.api.get('/api/auth/me').set('Authorization', `Bearer ${deviceB.body.data.accessToken}`).expect(401);
    await app.api.post('/api/auth/refresh').send({ refreshToken: refreshA }).expect(401);
    await app.api.post('/api/auth/login').send({ email, password: 'first pass 1' }).expect(401);

    // New password on two devices, then logout-all.
    const c = await app.api.post('/api/auth/login').send({ email, password: 'second pass 2' }).expect(200);
    const d = await app.api.post('/api/auth/login').send({ email, password: 'second pass 2' }).expect(200);
    await app.api.post('/api/auth/logout-all').set('Authorization', `Bearer ${c.body.data.accessToken}`).expect(204);
    for (const session of [c, d]) {
      await app.api.get('/api/auth/me').set('Authorization', `Bearer ${session.body.data.accessToken}`).expect(401);
      await app.api.post('/api/auth/refresh').send({ refreshToken: session.body.data.refreshToken }).expect(401);
    }
  });

  it('resend-verification mails a new link and the older one stops working', async () => {
    const email = 'vendor@example.test';
    await app.api.post('/api/auth/register').send({ email, password: 'vendor pass 1', name: 'Vendor', role: 'vendor' }).expect(201);
    const first = tokenFromMail(await mail.next(email, /confirm/i));
    await app.api.post('/api/auth/resend-verification').send({ email }).expect(202, { data: { accepted: true } });
    const second = tokenFromMail(await mail.next(email, /confirm/i));
    expect(second).not.toBe(first);
    await app.api.post('/api/auth/verify-email').send({ token: first }).expect(400);
    await app.api.post('/api/auth/verify-email').send({ token: second }).expect(200);
    // Unknown and already-verified addresses get the same answer and no mail.
    await app.api.post('/api/auth/resend-verification').send({ email }).expect(202, { data: { accepted: true } });
    await app.api.post('/api/auth/resend-verification').send({ email: 'nobody@example.test' }).expect(202, { data: { accepted: true } });
    await expect(mail.next(email, /confirm/i, 500)).rejects.toThrow(/No mail/);
    expect(mail.mails.some((m) => m.to.includes('nobody@example.test'))).toBe(false);
  });

  it('forgot-password answers the same for an unknown email and sends nothing', async () => {
    const res = await app.api.post('/api/auth/forgot-password').send({ email: 'ghost@example.test' }).expect(202);
    expect(res.body).toEqual({ data: { accepted: true } });
    await expect(mail.next('ghost@example.test', undefined, 500)).rejects.toThrow(/No mail/);
  });
});
