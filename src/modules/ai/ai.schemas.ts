import { defineSchema } from '../../platform/http/validate';

const id = (field: string) => ({ type: 'string' as const, isMongoId: { errorMessage: `${field} must be an id` } });

/** A BCP 47 language tag, loosely: a 2–3 letter language and up to three subtags (hi, en-GB, zh-Hant-TW). */
export const LANGUAGE_TAG = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$/;

export const translationBody = defineSchema({
  messageId: id('messageId'),
  targetLanguage: {
    type: 'string',
    isLength: { options: { min: 2, max: 35 }, errorMessage: 'targetLanguage must be 2 to 35 characters' },
    matches: { options: LANGUAGE_TAG, errorMessage: 'targetLanguage must be a BCP 47 language tag such as hi or en-GB' },
  },
});

export const catalogueExtractionBody = defineSchema({
  uploadId: id('uploadId'),
});

export const taskIdParam = defineSchema({
  id: { in: ['params'], ...id('id') },
});
