import { parseFile } from 'music-metadata';
import sharp from 'sharp';
import { AppError, errors } from '../../platform/errors';
import type { UploadsConfig } from './uploads.config';
import { blankHeifMetadataFile } from './heif-metadata';

export interface ProcessedImage {
  width: number;
  height: number;
  /** False when the image is stored as received, metadata blanked (HEIC: the bundled libvips cannot decode HEVC). */
  reencoded: boolean;
  hasThumbnail: boolean;
}

const corrupt = () =>
  errors.validation(
    [{ field: 'file', message: 'The image is corrupt or truncated' }],
    'The image could not be read: it is corrupt or truncated',
  );

const tooManyPixels = (max: number) =>
  errors.payloadTooLarge(`The image has too many pixels (at most ${max.toLocaleString('en')} are accepted)`);

/**
 * Re-encodes an image so nothing the client sent survives but the pixels: orientation applied,
 * every metadata block dropped (sharp writes none unless asked), the longest side capped. The
 * pixel limit is checked on the header before any decoding, so a decompression bomb costs nothing.
 */
export async function processImage(
  input: string,
  outputs: { main: string; thumbnail: string },
  mimeType: string,
  config: UploadsConfig,
): Promise<ProcessedImage> {
  let meta: sharp.Metadata;
  try {
    meta = await sharp(input, { limitInputPixels: false }).metadata();
  } catch {
    throw corrupt();
  }
  const width = meta.autoOrient?.width ?? meta.width;
  const height = meta.autoOrient?.height ?? meta.height;
  if (!width || !height) throw corrupt();
  if (width * height > config.imageMaxPixels) throw tooManyPixels(config.imageMaxPixels);

  if (mimeType === 'image/heic') {
    // Stored as received (no HEVC decoder), so its Exif/XMP items are blanked in place instead.
    try {
      await blankHeifMetadataFile(input);
    } catch {
      throw corrupt();
    }
    return { width, height, reencoded: false, hasThumbnail: false };
  }

  const side = config.imageMaxSide;
  const image = sharp(input, { limitInputPixels: config.imageMaxPixels, failOn: 'truncated' })
    .rotate()
    .resize({ width: side, height: side, fit: 'inside', withoutEnlargement: true });
  if (mimeType === 'image/png') image.png({ compressionLevel: 8 });
  else if (mimeType === 'image/webp') image.webp({ quality: 82 });
  else image.jpeg({ quality: 82, mozjpeg: true });

  try {
    const info = await image.toFile(outputs.main);
    const thumb = config.thumbnailSize;
    await sharp(outputs.main)
      .resize({ width: thumb, height: thumb, fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 70 })
      .toFile(outputs.thumbnail);
    return { width: info.width, height: info.height, reencoded: true, hasThumbnail: true };
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw corrupt();
  }
}

/**
 * Reads a voice note's duration from its container/stream headers and enforces the limit. WebM and
 * MP4 are also video containers: a file with a video track is not a voice note.
 */
export async function readVoiceDuration(input: string, config: UploadsConfig): Promise<number> {
  let seconds: number | undefined;
  let hasVideo = false;
  try {
    const metadata = await parseFile(input, { duration: true, skipCovers: true });
    seconds = metadata.format.duration;
    hasVideo = (metadata.format.trackInfo ?? []).some((track) => track.video !== undefined);
  } catch {
    seconds = undefined;
  }
  if (hasVideo) throw errors.unsupportedMediaType('A voice note must contain audio only, not video');
  if (seconds === undefined || !Number.isFinite(seconds) || seconds <= 0) {
    throw errors.validation(
      [{ field: 'file', message: 'The audio duration could not be read' }],
      'The voice note is corrupt or truncated',
    );
  }
  if (seconds > config.voiceMaxSeconds) {
    throw errors.payloadTooLarge(`The voice note is longer than ${config.voiceMaxSeconds} seconds`);
  }
  return Math.round(seconds * 1000);
}
