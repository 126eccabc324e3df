import nodemailer from 'nodemailer';
import { findMessageTo, listMessages, mailpitSmtpUrl, uniqueRecipient } from '../helpers/mailpit';

// A mail sent through the Mailpit that scripts/services.sh started, over real SMTP, read back from
// Mailpit's API: how a test checks the mail a feature sends (pass mailpitSmtpUrl() as SMTP_URL).
describe('Mailpit', () => {
  it('keeps a mail sent over SMTP with nodemailer and serves it from its API', async () => {
    const to = uniqueRecipient('mailpit');
    const transport = nodemailer.createTransport(mailpitSmtpUrl());
    try {
      await transport.sendMail({
        from: 'Trade <no-reply@trade.local>',
        to,
        subject: 'Your order shipped',
        text: 'Order 42 is on its way.',
        html: '<p>Order 42 is on its way.</p>',
      });
    } finally {
      transport.close();
    }

    const message = await findMessageTo(to);
    expect(message).toMatchObject({
      From: { Name: 'Trade', Address: 'no-reply@trade.local' },
      To: [{ Address: to }],
      Subject: 'Your order shipped',
      HTML: '<p>Order 42 is on its way.</p>',
    });
    expect(message.Text.trim()).toBe('Order 42 is on its way.');
    expect((await listMessages()).map((m) => m.ID)).toContain(message.ID);
  });

  it('finds only mail to the exact recipient, and says so when none comes', async () => {
    const to = uniqueRecipient('mailpit');
    await expect(findMessageTo(to, { timeoutMs: 200 })).rejects.toThrow(`no mail to ${to}`);
    // A longer address that contains this one is not a match.
    const transport = nodemailer.createTransport(mailpitSmtpUrl());
    try {
      await transport.sendMail({ from: 'no-reply@trade.local', to: `x${to}`, subject: 'not for you', text: '-' });
    } finally {
      transport.close();
    }
    expect((await findMessageTo(`x${to}`)).Subject).toBe('not for you');
    await expect(findMessageTo(to, { timeoutMs: 200 })).rejects.toThrow(`no mail to ${to}`);
  });
});
