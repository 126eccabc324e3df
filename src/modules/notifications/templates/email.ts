import type { NotificationDoc } from '../notifications.model';

/**
 * The notification email: one layout in HTML and plain text, with the words around the
 * notification's own title and body localised by the recipient's language (base tag: hi-IN → hi).
 */
const STRINGS = {
  en: {
    greeting: (name: string) => `Hello ${name},`,
    open: 'Open in the app',
    footer: 'You receive this email because of your notification settings. Change them in the app under Settings → Notifications.',
    digestSubject: (count: number) => `You have ${count} unread message${count === 1 ? '' : 's'}`,
    digestBody: (count: number) => `${count} message${count === 1 ? '' : 's'} arrived while you were away.`,
  },
  hi: {
    greeting: (name: string) => `नमस्ते ${name},`,
    open: 'ऐप में खोलें',
    footer: 'आपको यह ईमेल आपकी सूचना सेटिंग्स के कारण मिला है। इन्हें ऐप में सेटिंग्स → सूचनाएँ में बदलें।',
    digestSubject: (count: number) => `आपके ${count} अपठित संदेश हैं`,
    digestBody: (count: number) => `आपकी अनुपस्थिति में ${count} संदेश आए।`,
  },
} as const;

export type TemplateLanguage = keyof typeof STRINGS;

export function templateLanguage(language: string): TemplateLanguage {
  const base = language.toLowerCase().split('-')[0] ?? 'en';
  return base in STRINGS ? (base as TemplateLanguage) : 'en';
}

export function digestStrings(language: string) {
  return STRINGS[templateLanguage(language)];
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

/** The deep link as an absolute URL on the app's host; anything that is not an app path is dropped. */
export function absoluteLink(appUrl: string, link: string | undefined): string | null {
  if (!link || !link.startsWith('/') || link.startsWith('//')) return null;
  return `${appUrl.replace(/\/$/, '')}${link}`;
}

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
  link: string | null;
}

export function renderNotificationEmail(
  notification: Pick<NotificationDoc, 'title' | 'body' | 'data'>,
  recipient: { name: string; language: string },
  appUrl: string,
): RenderedEmail {
  const t = STRINGS[templateLanguage(recipient.language)];
  const link = absoluteLink(appUrl, notification.data?.link);
  const text = [t.greeting(recipient.name), '', notification.title, '', notification.body, ...(link ? ['', `${t.open}: ${link}`] : []), '', '--', t.footer].join('\n');
  const html = [
    '<!doctype html><html><body style="font-family:sans-serif;line-height:1.5">',
    `<p>${escapeHtml(t.greeting(recipient.name))}</p>`,
    `<h2>${escapeHtml(notification.title)}</h2>`,
    `<p>${escapeHtml(notification.body)}</p>`,
    link ? `<p><a href="${escapeHtml(link)}">${escapeHtml(t.open)}</a></p>` : '',
    `<hr><p style="color:#666;font-size:12px">${escapeHtml(t.footer)}</p>`,
    '</body></html>',
  ].join('');
  return { subject: notification.title, text, html, link };
}
