import type { RequestHandler } from 'express';
import { getAuth } from '../../platform/auth-context';
import { createModuleRouter } from '../../platform/http/router';
import { withInput } from '../../platform/http/validate';
import type { AiService } from './ai.service';
import * as s from './ai.schemas';

export function createAiRouter(ai: AiService, requireAuth: RequestHandler) {
  const routes = createModuleRouter('/api/ai');

  routes.post('/translations', requireAuth, withInput(s.translationBody, ['body'], async (input, res) => {
    res.status(202).json({ data: await ai.startTranslation(getAuth(res).userId, input.messageId, input.targetLanguage) });
  }));

  routes.post('/catalogue-extractions', requireAuth, withInput(s.catalogueExtractionBody, ['body'], async (input, res) => {
    res.status(202).json({ data: await ai.startCatalogueExtraction(getAuth(res).userId, input.uploadId) });
  }));

  routes.get('/tasks/:id', requireAuth, withInput(s.taskIdParam, ['params'], async (input, res) => {
    res.json({ data: await ai.get(input.id, getAuth(res).userId) });
  }));

  return routes;
}
