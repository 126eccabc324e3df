import nodemailer, { type Transporter } from 'nodemailer';
import type { PlatformConfig } from './config';
import type { Logger } from './logger';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
  /**
   * The one link the mail exists for. It carries a secret, so it reaches the log only in
   * development and test, when no SMTP server is configured.
   */
  link?: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
  close(): void;
}

/**
 * nodemailer over SMTP when SMTP_URL is set; otherwise (development) mails go to the log.
 */
export function createMailer(config: Pick<PlatformConfig, 'nodeEnv' | 'mail'>, logger: Logger): Mailer {
  const transport: Transporter | null = config.mail.smtpUrl
    ? nodemailer.createTransport(config.mail.smtpUrl, { from: config.mail.from })
    : null;
  return {
    async send(message) {
      if (!transport) {
        const showLink = config.nodeEnv !== 'production';
        logger.info('Mail (no SMTP_URL configured, not sent)', {
          to: message.to,
          subject: message.subject,
          ...(showLink && message.link ? { link: message.link } : {}),
        });
        return;
      }
      await transport.sendMail({
        from: config.mail.from,
        to: message.to,
        subject: message.subject,
        text: message.text,
        html: message.html,
      });
    },
    close() {
      transport?.close();
    },
  };
}
