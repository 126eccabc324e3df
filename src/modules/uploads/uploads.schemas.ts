import { defineSchema } from '../../platform/http/validate';

// Any text id is looked up: an id that is malformed or unknown answers 404 alike, so a probe
// cannot tell the two apart. The type check still refuses what is not a single string.
export const uploadIdParam = defineSchema({
  id: { in: ['params'], type: 'string', isLength: { options: { min: 1, max: 64 }, errorMessage: 'id must be 1 to 64 characters' } },
});
