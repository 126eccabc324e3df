import { defineSchema } from '../../platform/http/validate';

// Any text id is looked up: an id that is malformed or unknown answers 404 alike, so a probe
// cannot tell the two apart. The type check still refuses what is not a single string.
export const uploadIdParam = defineSchema({
  id: { in: ['params'], type: 'string', isLength: { options: { min: 1, max: 64 }, errorMessage: 'id must be 1 to 64 characters' } },
});

// Checked as text: a tampered expiry or signature is refused as an invalid link (403), not as bad input.
export const signedContentSchema = defineSchema({
  id: { in: ['params'], type: 'string', isLength: { options: { min: 1, max: 64 }, errorMessage: 'id must be 1 to 64 characters' } },
  expires: { in: ['query'], type: 'string', isLength: { options: { min: 1, max: 20 }, errorMessage: 'expires must be 1 to 20 characters' } },
  signature: { in: ['query'], type: 'string', isLength: { options: { min: 1, max: 128 }, errorMessage: 'signature must be 1 to 128 characters' } },
});
