import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import type { Response as AgentResponse } from 'superagent';
import type { TestServer } from '../helpers/server';

export const FIXTURES = path.join(__dirname, '..', 'fixtures');
export const fixture = (name: string) => readFile(path.join(FIXTURES, name));

/** A real photo-like image with some detail so encoders have something to do. */
export function makeImage(width: number, height: number, format: 'jpeg' | 'png' | 'webp' = 'jpeg') {
  const image = sharp({ create: { width, height, channels: 3, background: '#2a6' } })
    .composite([
      {
        input: Buffer.from(
          `<svg width="${width}" height="${height}"><rect x="0" y="0" width="${Math.ceil(width / 3)}" height="${height}" fill="#d22"/></svg>`,
        ),
      },
    ])
    .toFormat(format);
  return image.toBuffer();
}

/** A JPEG as a phone writes it: sideways pixels with EXIF orientation 6 and a GPS position. */
export function makePhoneJpeg(width: number, height: number) {
  return sharp({ create: { width, height, channels: 3, background: '#36c' } })
    .jpeg()
    .withExif({
      IFD0: { Make: 'TestPhone', Model: 'Secret Model X' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 2400/100', GPSLongitudeRef: 'E', GPSLongitude: '2/1 21/1 300/100' },
    })
    .withMetadata({ orientation: 6 })
    .toBuffer();
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/**
 * A decompression bomb: a tiny PNG whose header claims 30000 x 30000 pixels (900 MP, ~2.7 GB
 * decoded). The IDAT holds a few rows only; a decoder that trusts the header allocates it all.
 */
export function makePngBomb(side = 30_000): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(side, 0);
  header.writeUInt32BE(side, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // truecolour
  const rows = deflateSync(Buffer.alloc((side * 3 + 1) * 4));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', rows),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A storage root of the test's own, so "nothing left behind" can be checked by listing it. */
export const tempUploadDir = () => mkdtemp(path.join(tmpdir(), 'uploads-test-'));

/** Every file under a directory, recursively (relative paths). */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)));
}

export async function uploadFile(
  app: TestServer,
  token: string,
  kind: 'image' | 'document' | 'voice',
  content: Buffer,
  fileName: string,
  contentType = 'application/octet-stream',
) {
  return app.api
    .post(`/api/upload/${kind}`)
    .set('Authorization', `Bearer ${token}`)
    .attach('file', content, { filename: fileName, contentType });
}

/** Reads a binary response body as a Buffer whatever its Content-Type. */
export function binary(res: AgentResponse, callback: (err: Error | null, body: Buffer) => void) {
  const stream = res as unknown as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.on('end', () => callback(null, Buffer.concat(chunks)));
  stream.on('error', (err: Error) => callback(err, Buffer.alloc(0)));
}
