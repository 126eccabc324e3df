import { defineSchema } from '../../platform/http/validate';

export const systemPingSchema = defineSchema({
  echo: {
    type: 'string',
    optional: true,
    isString: { errorMessage: 'echo must be a string' },
    isLength: { options: { max: 200 }, errorMessage: 'echo must be at most 200 characters' },
  },
});
