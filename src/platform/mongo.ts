import mongoose, { Types, type Connection } from 'mongoose';
import type { Logger } from './logger';

/**
 * One Mongoose connection per app instance (not the global default), so two instances can run
 * side by side in one test process. bufferCommands is off: when the database is unreachable a
 * request fails fast with 503 instead of hanging in Mongoose's buffer.
 */
export async function connectMongo(
  options: { uri: string; poolSize: number; serverSelectionTimeoutMs: number; dbName?: string },
  logger: Logger,
): Promise<Connection> {
  const connection = mongoose.createConnection(options.uri, {
    dbName: options.dbName,
    maxPoolSize: options.poolSize,
    serverSelectionTimeoutMS: options.serverSelectionTimeoutMs,
    connectTimeoutMS: 10_000,
    socketTimeoutMS: 45_000,
    heartbeatFrequencyMS: 2_000,
    bufferCommands: false,
    // FerretDB speaks the wire protocol but not every server command Mongoose may try on its own;
    // indexes are created explicitly by each model's ensureIndexes at start (see docs/architecture.md).
    autoIndex: false,
    autoCreate: false,
  });
  connection.on('disconnected', () => logger.warn('MongoDB disconnected'));
  connection.on('reconnected', () => logger.info('MongoDB reconnected'));
  await connection.asPromise();
  logger.info('MongoDB connected', { db: connection.name });
  return connection;
}

export async function pingMongo(connection: Connection): Promise<void> {
  const db = connection.db;
  if (!db) throw new Error('MongoDB connection is not open');
  await db.admin().command({ ping: 1 }, { timeoutMS: 2_000 });
}

/** Creates every registered model's indexes; called once at start. */
export async function syncIndexes(connection: Connection): Promise<void> {
  for (const model of Object.values(connection.models)) {
    await model.createCollection().catch((err: { codeName?: string }) => {
      if (err.codeName !== 'NamespaceExists') throw err;
    });
    await model.createIndexes();
  }
}

/**
 * True when a write lost against a unique index (MongoDB and FerretDB both answer code 11000).
 * The project leans on this for exactness: claims, sequence numbers, idempotency keys and locks
 * are inserts of a unique key, and the duplicate-key error means "someone else has it".
 */
export function isDuplicateKey(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 11000;
}

/**
 * A client-sent id as an ObjectId, or null. Only the 24-hex form counts: Types.ObjectId.isValid
 * also accepts any 12-character string, which no id of ours ever is.
 */
export function parseObjectId(id: unknown): Types.ObjectId | null {
  return typeof id === 'string' && /^[0-9a-f]{24}$/i.test(id) ? new Types.ObjectId(id) : null;
}

/**
 * A user's text as a literal inside a `$regex` (DESIGN.md: never a raw user string as a regex).
 * Anchor it (`^…`) where the field's index should bound the scan.
 */
export const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Inserts each document with its own single-document command, `concurrency` at a time, and
 * reports which were new (`true`) and which met a duplicate key (`false`), in input order; any
 * other failure is thrown. The multi-document form (`insertMany` with `ordered: false`) is
 * avoided on purpose: under load, batches that contain duplicates wedged FerretDB 1.24 (every
 * backend connection idle, no reply to anyone; docs/architecture.md, the chat send path).
 */
export async function insertEach<T>(
  insertOne: (doc: T) => Promise<unknown>,
  docs: readonly T[],
  concurrency = 16,
): Promise<boolean[]> {
  const inserted: boolean[] = new Array<boolean>(docs.length);
  for (let i = 0; i < docs.length; i += concurrency) {
    await Promise.all(
      docs.slice(i, i + concurrency).map(async (doc, j) => {
        try {
          await insertOne(doc);
          inserted[i + j] = true;
        } catch (err) {
          if (!isDuplicateKey(err)) throw err;
          inserted[i + j] = false;
        }
      }),
    );
  }
  return inserted;
}
