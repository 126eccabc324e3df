import { Router, type RequestHandler } from 'express';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteInfo {
  method: HttpMethod;
  /** Express-style full path, e.g. /api/users/:id */
  path: string;
}

/**
 * An Express router that also records its routes, so the OpenAPI coverage test and the route list
 * come from the same declarations that serve traffic.
 */
export function createModuleRouter(mountPath: string) {
  const router = Router();
  const routes: RouteInfo[] = [];
  const add =
    (method: HttpMethod) =>
    (path: string, ...handlers: Array<RequestHandler | RequestHandler[]>) => {
      routes.push({ method, path: `${mountPath}${path === '/' ? '' : path}` });
      router[method](path, ...handlers.flat());
    };
  return {
    mountPath,
    router,
    routes,
    get: add('get'),
    post: add('post'),
    put: add('put'),
    patch: add('patch'),
    delete: add('delete'),
  };
}

export type ModuleRouter = ReturnType<typeof createModuleRouter>;
