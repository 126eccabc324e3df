import { blankHeifMetadata } from '../../src/modules/uploads/heif-metadata';
import { fixture } from './media';

describe('HEIF metadata blanking', () => {
  it('leaves a HEIF without Exif or XMP byte for byte as it was', async () => {
    const plain = await fixture('photo.heic');
    const copy = Buffer.from(plain);
    expect(blankHeifMetadata(copy)).toBe(0);
    expect(copy.equals(plain)).toBe(true);
  });

  it('zeroes exactly the Exif item of a HEIF that has one', async () => {
    const original = await fixture('photo-gps.heic');
    const copy = Buffer.from(original);
    const blanked = blankHeifMetadata(copy);
    expect(blanked).toBeGreaterThan(300);
    let changed = 0;
    for (let i = 0; i < copy.length; i += 1) if (copy[i] !== original[i]) changed += 1;
    expect(changed).toBeGreaterThan(0);
    expect(changed).toBeLessThanOrEqual(blanked);
  });

  it('throws on a container whose boxes run past the end, rather than guessing', async () => {
    const original = await fixture('photo-gps.heic');
    expect(() => blankHeifMetadata(Buffer.from(original.subarray(0, 200)))).toThrow();
  });
});
