import type { Router } from 'express';
import type { CoordinatorView } from './coordinator-view.js';
import type { Logger } from './logger.js';
import type { OperatorAccess } from './operator-access.js';
import type { CoordinatorServer } from './socket-types.js';

/** What an extension gets at start: routes (mounted before the 404), the Socket.IO server, the coordinator. */
export interface ExtensionHost {
  routes: Router;
  io: CoordinatorServer;
  coordinator: CoordinatorView;
  logger: Logger;
  /** The operator check: gate routes with `operator.requireHttp`, namespaces with `operator.requireSocket`, show ids via `operator.pseudonym`. */
  operator: OperatorAccess;
}

/** An add-on served by the coordinator on its own port (the dashboard, a demo page). */
export interface CoordinatorExtension {
  readonly name: string;
  attach(host: ExtensionHost): void | Promise<void>;
  /** Called on stop, before Socket.IO closes. */
  detach?(): void | Promise<void>;
}
