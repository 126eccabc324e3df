import type { Socket } from 'socket.io';
import type { ModuleRouter } from './http/router';

/** The shape every business module presents to the composition root. */
export interface AppModule {
  name: string;
  http?: ModuleRouter;
  /** Registers the module's socket events on a freshly connected, authenticated socket. */
  onSocket?(socket: Socket): void;
  /** The one module that owns identity verifies the handshake (sets socket.data). */
  authenticateSocket?(socket: Socket): Promise<void>;
  /** Background work (sweepers); stopped on shutdown. */
  start?(): Promise<void> | void;
  stop?(): Promise<void> | void;
}
