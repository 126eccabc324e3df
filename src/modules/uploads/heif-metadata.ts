import { readFile, writeFile } from 'node:fs/promises';

/**
 * HEIC metadata removal without decoding. The bundled libvips cannot decode HEVC, so a HEIC photo
 * is stored as received; its Exif (GPS included) and XMP live in separate "items" of the
 * ISO-BMFF container, located by the `iloc` box. Overwriting those items' bytes with zeros keeps
 * every offset valid (the picture still decodes) while nothing of the metadata survives.
 */

interface Box {
  type: string;
  /** Offset of the box's payload (after size and type). */
  start: number;
  end: number;
}

class Reader {
  constructor(
    private readonly buf: Buffer,
    public pos: number,
  ) {}
  u8() {
    return this.buf.readUInt8(this.pos++);
  }
  u16() {
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  u32() {
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  /** An unsigned integer of 0, 4 or 8 bytes, as iloc's field sizes allow. */
  uint(size: number): number {
    if (size === 0) return 0;
    if (size === 4) return this.u32();
    if (size === 8) {
      const v = this.buf.readBigUInt64BE(this.pos);
      this.pos += 8;
      return Number(v);
    }
    throw new Error(`unsupported field size ${size}`);
  }
  cstring(): string {
    const end = this.buf.indexOf(0, this.pos);
    const value = this.buf.toString('latin1', this.pos, end < 0 ? this.buf.length : end);
    this.pos = end < 0 ? this.buf.length : end + 1;
    return value;
  }
}

function children(buf: Buffer, start: number, end: number): Box[] {
  const boxes: Box[] = [];
  let pos = start;
  while (pos + 8 <= end) {
    let size = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    let header = 8;
    if (size === 1) {
      size = Number(buf.readBigUInt64BE(pos + 8));
      header = 16;
    } else if (size === 0) {
      size = end - pos;
    }
    if (size < header || pos + size > end) throw new Error('malformed box');
    boxes.push({ type, start: pos + header, end: pos + size });
    pos += size;
  }
  return boxes;
}

/** Item ids of Exif and XMP items, from `iinf`'s `infe` entries (versions 2 and 3). */
function metadataItemIds(buf: Buffer, iinf: Box): Set<number> {
  const version = buf.readUInt8(iinf.start);
  const entriesStart = iinf.start + 4 + (version === 0 ? 2 : 4);
  const ids = new Set<number>();
  for (const infe of children(buf, entriesStart, iinf.end)) {
    if (infe.type !== 'infe') continue;
    const r = new Reader(buf, infe.start);
    const infeVersion = r.u8();
    r.pos += 3;
    if (infeVersion < 2) continue;
    const itemId = infeVersion === 2 ? r.u16() : r.u32();
    r.u16(); // item_protection_index
    const itemType = buf.toString('latin1', r.pos, r.pos + 4);
    r.pos += 4;
    r.cstring(); // item_name
    const contentType = itemType === 'mime' ? r.cstring() : '';
    if (itemType === 'Exif' || (itemType === 'mime' && /xmp|rdf\+xml/i.test(contentType))) ids.add(itemId);
  }
  return ids;
}

/** File ranges of the given items, from `iloc` (construction method 0: file; 1: inside `idat`). */
function itemRanges(buf: Buffer, iloc: Box, ids: Set<number>, idat: Box | undefined): Array<[number, number]> {
  const r = new Reader(buf, iloc.start);
  const version = r.u8();
  r.pos += 3;
  const sizes = r.u16();
  const offsetSize = sizes >> 12;
  const lengthSize = (sizes >> 8) & 0xf;
  const baseOffsetSize = (sizes >> 4) & 0xf;
  const indexSize = version >= 1 ? sizes & 0xf : 0;
  const itemCount = version < 2 ? r.u16() : r.u32();
  const ranges: Array<[number, number]> = [];
  for (let i = 0; i < itemCount; i += 1) {
    const itemId = version < 2 ? r.u16() : r.u32();
    const constructionMethod = version >= 1 ? r.u16() & 0xf : 0;
    r.u16(); // data_reference_index
    const baseOffset = r.uint(baseOffsetSize);
    const extentCount = r.u16();
    for (let e = 0; e < extentCount; e += 1) {
      r.uint(indexSize);
      const offset = r.uint(offsetSize);
      const length = r.uint(lengthSize);
      if (!ids.has(itemId)) continue;
      const origin = constructionMethod === 1 ? (idat?.start ?? -1) : constructionMethod === 0 ? 0 : -1;
      if (origin < 0) throw new Error('unsupported item construction');
      const from = origin + baseOffset + offset;
      // A zero length means "to the end of the file" (or of idat).
      const to = length === 0 ? (constructionMethod === 1 ? (idat as Box).end : buf.length) : from + length;
      if (from < 0 || to > buf.length || from > to) throw new Error('item outside the file');
      ranges.push([from, to]);
    }
  }
  return ranges;
}

/** Zeroes every Exif and XMP item in a HEIF buffer; returns how many bytes were blanked. */
export function blankHeifMetadata(buf: Buffer): number {
  const meta = children(buf, 0, buf.length).find((box) => box.type === 'meta');
  if (!meta) return 0;
  const inner = children(buf, meta.start + 4, meta.end);
  const iinf = inner.find((box) => box.type === 'iinf');
  const iloc = inner.find((box) => box.type === 'iloc');
  if (!iinf || !iloc) return 0;
  const ids = metadataItemIds(buf, iinf);
  if (ids.size === 0) return 0;
  let blanked = 0;
  for (const [from, to] of itemRanges(buf, iloc, ids, inner.find((box) => box.type === 'idat'))) {
    buf.fill(0, from, to);
    blanked += to - from;
  }
  return blanked;
}

/** The file-based form used on staged uploads; a container it cannot parse is refused as corrupt. */
export async function blankHeifMetadataFile(path: string): Promise<number> {
  const buf = await readFile(path);
  const blanked = blankHeifMetadata(buf);
  if (blanked > 0) await writeFile(path, buf);
  return blanked;
}
