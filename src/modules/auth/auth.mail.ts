import type { MailMessage } from '../../platform/mail';

const escapeHtml = (value: string) =>
  value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

function layout(title: string, intro: string, action: string, link: string, outro: string): { html: string; text: string } {
  const html = `<!doctype html><html><body style="font-family:sans-serif;max-width:560px;margin:auto">
<h2>${escapeHtml(title)}</h2>
<p>${escapeHtml(intro)}</p>
<p><a href="${escapeHtml(link)}" style="display:inline-block;padding:10px 18px;background:#1a56db;color:#fff;text-decoration:none;border-radius:4px">${escapeHtml(action)}</a></p>
<p style="color:#555">If the button does not work, open this link: <br>${escapeHtml(link)}</p>
<p style="color:#555">${escapeHtml(outro)}</p>
</body></html>`;
  const text = `${title}\n\n${intro}\n\n${action}: ${link}\n\n${outro}\n`;
  return { html, text };
}

export function buildLink(appUrl: string, path: string, token: string): string {
  const url = new URL(path, appUrl.endsWith('/') ? appUrl : `${appUrl}/`);
  url.searchParams.set('token', token);
  return url.toString();
}

export function verificationMail(to: string, name: string, link: string, ttlHours: number): MailMessage {
  const body = layout(
    'Confirm your email address',
    `Hello ${name}, please confirm that this is your email address.`,
    'Confirm email',
    link,
    `The link expires in ${ttlHours} hours. If you did not create an account, ignore this email.`,
  );
  return { to, subject: 'Confirm your email address', link, ...body };
}

export function resetMail(to: string, name: string, link: string, ttlMinutes: number): MailMessage {
  const body = layout(
    'Reset your password',
    `Hello ${name}, someone (hopefully you) asked to reset the password of this account.`,
    'Choose a new password',
    link,
    `The link expires in ${ttlMinutes} minutes and works once. Resetting signs out every device. If you did not ask, ignore this email.`,
  );
  return { to, subject: 'Reset your password', link, ...body };
}
