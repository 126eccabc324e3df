/**
 * Local store benchmark (figures, not a test): the median latency of single MongoDB operations on
 * chat-message documents at several collection sizes, printed side by side in one table. It runs
 * against MONGODB_URI (the local FerretDB that scripts/services.sh starts), in a database of its
 * own that it drops at the end.
 *
 *   npm run bench:store
 *   BENCH_SIZES=1000,10000 BENCH_OPS=100 npm run bench:store
 *   BENCH_CONVERSATION=100   messages per conversation (default 100)
 *   BENCH_LONG=5000          messages in the long conversation of the second table (default 5,000)
 *
 * Indexes as in DESIGN.md's measurements: unique { clientMessageId }, { conversationId, seq }; and
 * the app's page index { pageKeys, seq } (src/modules/chat/message-pages.ts), with the page-key
 * query the app runs beside the range query it replaced. The second table pages through one long
 * conversation both ways: the range query decodes the whole conversation, the window at most 96 rows.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { MongoClient, ObjectId, type Collection } from 'mongodb';
import { messagePageKeys, windowBefore } from '../src/modules/chat/message-pages';

const SIZES = (process.env.BENCH_SIZES ?? '1000,10000,100000').split(',').map(Number);
const OPS = Number(process.env.BENCH_OPS ?? 200);
const PER_CONVERSATION = Number(process.env.BENCH_CONVERSATION ?? 100);
const LONG = Number(process.env.BENCH_LONG ?? 5_000);
const WARMUP = 10;
const URI = process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27018/trade';

interface Message {
  _id: ObjectId;
  conversationId: ObjectId;
  seq: number;
  senderId: ObjectId;
  clientMessageId: string;
  type: 'text';
  text: string;
  attachments: unknown[];
  replyTo: null;
  reactions: unknown[];
  editedAt: Date | null;
  deletedAt: Date | null;
  changeSeq: number;
  pageKeys: string[];
  createdAt: Date;
  updatedAt: Date;
}

const OPERATIONS = [
  'findOne by _id',
  'findOne by unique clientMessageId',
  'find {conversationId, seq > n} sort seq limit 50',
  'the app page: find {pageKeys: window, seq < n} sort seq -1 limit 51',
  'updateOne by _id ($set)',
  'deleteOne by _id',
  'insertOne',
] as const;
type Operation = (typeof OPERATIONS)[number];

const senders = Array.from({ length: 50 }, () => new ObjectId());
const conversations: ObjectId[] = [];
let written = 0;

function pick<T>(items: T[]): T {
  return items[Math.floor(Math.random() * items.length)] as T;
}

/** The next message: conversations fill up PER_CONVERSATION messages at a time. */
function nextMessage(): Message {
  const index = written++;
  const conversation = Math.floor(index / PER_CONVERSATION);
  if (!conversations[conversation]) conversations[conversation] = new ObjectId();
  return messageAt(conversations[conversation] as ObjectId, (index % PER_CONVERSATION) + 1, index);
}

/** A message shaped as the send path stores it (numbers, page keys). */
function messageAt(conversationId: ObjectId, seq: number, index: number): Message {
  const now = new Date();
  return {
    _id: new ObjectId(),
    conversationId,
    seq,
    senderId: pick(senders),
    clientMessageId: randomBytes(12).toString('hex'),
    type: 'text',
    text: `Message ${index}: can you quote 40 cartons of the usual order, delivery before Friday?`,
    attachments: [],
    replyTo: null,
    reactions: [],
    editedAt: null,
    deletedAt: null,
    changeSeq: index,
    pageKeys: messagePageKeys(conversationId, seq),
    createdAt: now,
    updatedAt: now,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

async function timed(count: number, op: (i: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < WARMUP; i++) await op(-1 - i);
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await op(i);
    samples.push(performance.now() - start);
  }
  return median(samples);
}

async function grow(messages: Collection<Message>, live: Message[], size: number): Promise<void> {
  while (live.length < size) {
    const batch = Array.from({ length: Math.min(1000, size - live.length) }, nextMessage);
    await messages.insertMany(batch, { ordered: false });
    live.push(...batch);
  }
}

/** The query GET /api/chat/conversations/:id/messages?limit=50 runs after a cursor at `before`. */
function appPage(messages: Collection<Message>, conversationId: ObjectId, before: number) {
  const window = windowBefore(String(conversationId), before, 50);
  if (!window) throw new Error('no window for a page of 50');
  return messages.find({ pageKeys: window.key, seq: { $gt: 0, $lt: before } }).sort({ seq: -1 }).limit(51).toArray();
}

/** A 50-message page at cursors spread over one long conversation, by the range query and by the app's window. */
async function longConversation(messages: Collection<Message>): Promise<{ range: number; window: number }> {
  await messages.createIndex({ conversationId: 1, seq: 1 });
  await messages.createIndex({ pageKeys: 1, seq: 1 });
  const conversationId = new ObjectId();
  for (let seq = 1; seq <= LONG; seq += 1000) {
    await messages.insertMany(Array.from({ length: Math.min(1000, LONG - seq + 1) }, (_, i) => messageAt(conversationId, seq + i, -1)), { ordered: false });
  }
  const cursor = () => 51 + Math.floor(Math.random() * (LONG - 50));
  const ops = Math.min(OPS, 50);
  const range = await timed(ops, () => messages.find({ conversationId, seq: { $gt: 0, $lt: cursor() } }).sort({ seq: -1 }).limit(51).toArray());
  const window = await timed(ops, () => appPage(messages, conversationId, cursor()));
  return { range, window };
}

/** One round of every operation; leaves the collection at the same size. */
async function measure(messages: Collection<Message>, live: Message[]): Promise<Record<Operation, number>> {
  const result = {} as Record<Operation, number>;
  result['findOne by _id'] = await timed(OPS, () => messages.findOne({ _id: pick(live)._id }));
  result['findOne by unique clientMessageId'] = await timed(OPS, () => messages.findOne({ clientMessageId: pick(live).clientMessageId }));
  result['find {conversationId, seq > n} sort seq limit 50'] = await timed(OPS, () => {
    const m = pick(live);
    const after = Math.floor(Math.random() * Math.max(1, PER_CONVERSATION - 50));
    return messages.find({ conversationId: m.conversationId, seq: { $gt: after } }).sort({ seq: 1 }).limit(50).toArray();
  });
  result['the app page: find {pageKeys: window, seq < n} sort seq -1 limit 51'] = await timed(OPS, () => appPage(messages, pick(live).conversationId, 51 + Math.floor(Math.random() * Math.max(1, PER_CONVERSATION - 50))));
  result['updateOne by _id ($set)'] = await timed(OPS, () =>
    messages.updateOne({ _id: pick(live)._id }, { $set: { text: 'edited', editedAt: new Date(), updatedAt: new Date() } }),
  );
  // Deleted messages leave the pool; insertOne then brings the collection back to its size.
  const victims = new Set<number>();
  while (victims.size < OPS + WARMUP && victims.size < live.length) victims.add(Math.floor(Math.random() * live.length));
  const doomed = [...victims].map((i) => live[i] as Message);
  let next = 0;
  result['deleteOne by _id'] = await timed(OPS, () => messages.deleteOne({ _id: (doomed[next++] as Message)._id }));
  const gone = new Set(doomed.map((m) => m._id.toHexString()));
  const kept = live.filter((m) => !gone.has(m._id.toHexString()));
  live.length = 0;
  live.push(...kept);
  result.insertOne = await timed(OPS, async () => {
    const m = nextMessage();
    await messages.insertOne(m);
    live.push(m);
  });
  return result;
}

async function main(): Promise<void> {
  const client = await MongoClient.connect(URI, { maxPoolSize: 4 });
  const dbName = `bench_store_${randomBytes(3).toString('hex')}`;
  const db = client.db(dbName);
  try {
    const messages = db.collection<Message>('messages');
    await messages.createIndex({ clientMessageId: 1 }, { unique: true });
    await messages.createIndex({ conversationId: 1, seq: 1 });
    await messages.createIndex({ pageKeys: 1, seq: 1 });
    const live: Message[] = [];
    const columns: Array<{ size: number; result: Record<Operation, number> }> = [];
    for (const size of SIZES) {
      const started = performance.now();
      await grow(messages, live, size);
      const loaded = performance.now();
      const result = await measure(messages, live);
      console.error(
        `${size} documents: loaded in ${((loaded - started) / 1000).toFixed(1)} s, measured in ${((performance.now() - loaded) / 1000).toFixed(1)} s`,
      );
      columns.push({ size, result });
    }

    const label = (size: number) => (size >= 1000 && size % 1000 === 0 ? `${size / 1000}k docs` : `${size} docs`);
    const width = Math.max(...OPERATIONS.map((o) => o.length));
    console.log(`\nstore: ${URI.replace(/\/\/[^@/]*@/, '//')}  median of ${OPS} operations, ms; ${PER_CONVERSATION} messages per conversation\n`);
    console.log(['operation'.padEnd(width), ...columns.map((c) => label(c.size).padStart(10))].join('  '));
    for (const op of OPERATIONS) {
      console.log([op.padEnd(width), ...columns.map((c) => c.result[op].toFixed(2).padStart(10))].join('  '));
    }
    const long = await longConversation(db.collection<Message>('long_conversation'));
    console.log(`\na 50-message page at random cursors in one conversation of ${LONG} messages, median ms:`);
    console.log(`  range query {conversationId, seq < n} sort limit 51: ${long.range.toFixed(2)}`);
    console.log(`  the app's window {pageKeys, seq < n} sort limit 51:  ${long.window.toFixed(2)}`);
  } finally {
    await db.dropDatabase().catch(() => undefined);
    await client.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
