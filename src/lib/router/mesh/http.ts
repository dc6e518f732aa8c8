import {httpError, type RouteTable} from '../http/routes.js';
import type {Mesh} from './mesh.js';

/**
 * `POST /connect` (`peer`..., `replace=true`) and `POST /forget` (`peer`...), from the query or an
 * urlencoded body, as the original: 200 with no body; for /connect a 400 lists the peers that
 * could not be used, one per line, while the good ones are still added. Both answer once the new
 * targets are saved. `replace=true` with no peer clears the targets (broken in the original).
 */
export function registerMeshRoutes(table: RouteTable, mesh: Mesh): void {
  table
    .add('POST', '/connect', async req => {
      const errors = await mesh.connect(req.form.getAll('peer'), req.form.get('replace') === 'true');
      return errors.length > 0 ? httpError(400, errors.join('\n')) : {status: 200};
    })
    .add('POST', '/forget', async req => {
      await mesh.forget(req.form.getAll('peer'));
      return {status: 200};
    });
}
