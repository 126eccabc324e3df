import type { Mailer } from '../../../platform/mail';
import { renderNotificationEmail } from '../templates/email';
import { PermanentChannelError, type ChannelSender } from './types';

/** nodemailer's error for an SMTP reply; 5xx is a rejection that retrying will not change. */
function smtpCode(err: unknown): number | null {
  const code = (err as { responseCode?: unknown } | null)?.responseCode;
  return typeof code === 'number' ? code : null;
}

/**
 * Email through the platform's mailer (nodemailer over SMTP_URL). Without SMTP_URL the channel is
 * not configured: deliveries are suppressed rather than written to the log.
 */
export function createEmailChannel(deps: { mailer: Mailer | null; appUrl: string }): ChannelSender {
  return {
    channel: 'email',
    configured: deps.mailer !== null,
    async send({ notification, recipient }) {
      if (!deps.mailer) return { status: 'suppressed', reason: 'channel not configured' };
      const mail = renderNotificationEmail(notification, recipient, deps.appUrl);
      try {
        await deps.mailer.send({ to: recipient.email, subject: mail.subject, text: mail.text, html: mail.html });
      } catch (err) {
        const code = smtpCode(err);
        const message = err instanceof Error ? err.message : String(err);
        if (code !== null && code >= 500) throw new PermanentChannelError(`SMTP rejected the message (${code}): ${message.slice(0, 200)}`);
        throw err;
      }
      return { status: 'sent' };
    },
    close: () => deps.mailer?.close(),
  };
}
