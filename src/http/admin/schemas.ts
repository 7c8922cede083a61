/**
 * Operator-defined SCIM extension schemas (RFC 7643 §3.3, §7), mounted inside the admin API
 * (/api/server/v1, after its authentication and JSON body parser):
 *
 *   POST   /scim2/schemas          create: { id, name, description?, resourceType: User|Group, required?, attributes }
 *   GET    /scim2/schemas          list
 *   GET    /scim2/schemas/{urn}    one
 *   DELETE /scim2/schemas/{urn}    remove (values stored on resources are no longer served)
 *
 * A new schema shows in /scim2/Schemas and /scim2/ResourceTypes of this process at once, and of the other api
 * processes within the registry's cache time (SCHEMA_CACHE_TTL_MS). Errors are JSON { code, message, details? }.
 *
 * @example
 *   curl -u admin:<pw> -H 'Content-Type: application/json' http://localhost:8080/api/server/v1/scim2/schemas -d '{
 *     "id": "urn:example:params:scim:schemas:extension:acme:2.0:User", "name": "AcmeUser", "resourceType": "User",
 *     "attributes": [{ "name": "badge", "type": "integer" },
 *                    { "name": "level", "type": "string", "canonicalValues": ["Bronze", "Gold"] }] }'
 */
import { Router, type NextFunction, type Request, type Response } from 'express';
import { AdminError } from '../../provisioning/connectors.js';
import type { SchemaRegistry } from '../../scim/schema-registry.js';

export function schemasAdminRouter(registry: SchemaRegistry): Router {
  const router = Router();

  router.post('/scim2/schemas', async (req, res) => {
    const created = await registry.createExtension(req.body);
    res.status(201).location(`${req.baseUrl}/scim2/schemas/${encodeURIComponent(created.id)}`).json(created);
  });
  router.get('/scim2/schemas', async (_req, res) => {
    res.json(await registry.listExtensions());
  });
  router.get('/scim2/schemas/:urn', async (req, res) => {
    res.json(await registry.getExtension(req.params.urn));
  });
  router.delete('/scim2/schemas/:urn', async (req, res) => {
    await registry.deleteExtension(req.params.urn);
    res.status(204).end();
  });

  // Its own rendering of AdminError, so the router answers the same wherever it is mounted; anything else goes
  // on to the enclosing error handler.
  router.use('/scim2/schemas', (err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (err instanceof AdminError) {
      res.status(err.status).json({ code: err.code, message: err.message, ...(err.details.length > 0 && { details: err.details }) });
      return;
    }
    next(err);
  });
  return router;
}
