import type { RequestHandler } from 'express';
import type { AppContext } from '../../platform/context';
import type { Role } from '../../platform/auth-context';
import type { AppModule } from '../../platform/module';
import { createSystemService } from './system.service';
import { createSystemRouter } from './system.routes';
import { registerSystemEvents } from './system.socket';
import { sweepSequenceClaims } from '../../platform/sequences';

const SEQUENCE_SWEEP_EVERY_MS = 10 * 60_000;

export function createSystemModule(deps: {
  ctx: AppContext;
  openSockets: () => number;
  isShuttingDown: () => boolean;
  auth: { requireAuth: RequestHandler; requireRole: (...roles: Role[]) => RequestHandler };
}): AppModule {
  const service = createSystemService(deps);
  const { ctx } = deps;
  // Platform upkeep: sequence_claims would otherwise grow by one document per message forever.
  ctx.jobs.schedule('sequence-claims-sweep', { everyMs: SEQUENCE_SWEEP_EVERY_MS }, async ({ now }) => {
    const { deleted } = await sweepSequenceClaims(ctx.mongo, { now });
    if (deleted > 0) ctx.logger.info('Swept sequence claims', { deleted });
  });
  return {
    name: 'system',
    http: createSystemRouter(service, deps.auth.requireRole('admin', 'super_admin')),
    onSocket: (socket) => registerSystemEvents(socket, deps.ctx.logger, deps.ctx.clock),
  };
}
