/**
 * Mailpit, started by scripts/services.sh: an SMTP server that keeps every mail it is given and
 * serves them over an HTTP API. MAILPIT_SMTP_URL and MAILPIT_API_URL are put in the environment by
 * tests/helpers/global-setup.ts; pass MAILPIT_SMTP_URL as SMTP_URL (any or no login is accepted).
 * One Mailpit serves every test file running at once: send to a recipient of the test's own
 * (`uniqueRecipient()`) and find the mail by it; `deleteAllMessages` empties it for everyone.
 */
import { randomBytes } from 'node:crypto';

export interface MailpitAddress {
  Name: string;
  Address: string;
}

/** A message as listed by GET /api/v1/messages and /api/v1/search. */
export interface MailpitSummary {
  ID: string;
  MessageID: string;
  From: MailpitAddress;
  To: MailpitAddress[];
  Cc: MailpitAddress[] | null;
  Bcc: MailpitAddress[] | null;
  Subject: string;
  Created: string;
  Snippet: string;
}

/** A whole message, GET /api/v1/message/{ID}. */
export interface MailpitMessage {
  ID: string;
  MessageID: string;
  From: MailpitAddress;
  To: MailpitAddress[];
  Cc: MailpitAddress[] | null;
  Bcc: MailpitAddress[] | null;
  ReplyTo: MailpitAddress[] | null;
  Subject: string;
  Date: string;
  Text: string;
  HTML: string;
  Attachments: Array<{ FileName: string; ContentType: string; Size: number }>;
}

interface ApiOptions {
  /** Another Mailpit than MAILPIT_API_URL's. */
  apiUrl?: string;
}

function envUrl(name: 'MAILPIT_API_URL' | 'MAILPIT_SMTP_URL'): string {
  const url = process.env[name];
  if (!url) throw new Error(`${name} is not set: run jest (its global setup runs scripts/services.sh up) or eval "$(scripts/services.sh up)"`);
  return url;
}

export const mailpitApiUrl = (): string => envUrl('MAILPIT_API_URL');
export const mailpitSmtpUrl = (): string => envUrl('MAILPIT_SMTP_URL');

/** An address no other test sends to. */
export function uniqueRecipient(label = 'test'): string {
  return `${label}-${randomBytes(6).toString('hex')}@example.test`;
}

async function api<T>(method: 'GET' | 'DELETE', pathAndQuery: string, options: ApiOptions, body?: unknown): Promise<T> {
  const response = await fetch(new URL(pathAndQuery, options.apiUrl ?? mailpitApiUrl()), {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`Mailpit ${method} ${pathAndQuery}: ${response.status} ${text}`);
  return (response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as T;
}

/** The newest messages first. */
export async function listMessages(options: ApiOptions & { limit?: number } = {}): Promise<MailpitSummary[]> {
  const page = await api<{ messages: MailpitSummary[] }>('GET', `/api/v1/messages?limit=${options.limit ?? 50}`, options);
  return page.messages;
}

function addressedTo(message: MailpitSummary, recipient: string): boolean {
  const wanted = recipient.toLowerCase();
  return [...message.To, ...(message.Cc ?? []), ...(message.Bcc ?? [])].some((a) => a.Address.toLowerCase() === wanted);
}

/**
 * The newest mail to `recipient` (To, Cc or Bcc), waiting up to `timeoutMs` for it to arrive: a
 * mail sent by a job or after the response is not there at once. Rejects when none comes.
 */
export async function findMessageTo(recipient: string, options: ApiOptions & { timeoutMs?: number } = {}): Promise<MailpitMessage> {
  const deadline = Date.now() + (options.timeoutMs ?? 5000);
  // addressed: searches To, Cc and Bcc, as a substring; the exact address is checked here.
  const query = encodeURIComponent(`addressed:"${recipient}"`);
  for (;;) {
    const found = await api<{ messages: MailpitSummary[] }>('GET', `/api/v1/search?query=${query}&limit=50`, options);
    const summary = found.messages.find((m) => addressedTo(m, recipient));
    if (summary) return api<MailpitMessage>('GET', `/api/v1/message/${encodeURIComponent(summary.ID)}`, options);
    if (Date.now() >= deadline) throw new Error(`no mail to ${recipient} in Mailpit`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Deletes every message in this Mailpit, other test files' too. */
export async function deleteAllMessages(options: ApiOptions = {}): Promise<void> {
  await api<string>('DELETE', '/api/v1/messages', options);
}
