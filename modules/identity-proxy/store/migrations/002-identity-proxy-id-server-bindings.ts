import type { Migration } from '../../../../core/define-module.js';

/** identity_proxy_id_server_bindings: which identity server each user bound a 3PID at (to unbind it later). */
export const identityProxyIdServerBindings: Migration = {
  name: '002-identity-proxy-id-server-bindings',
  async up(knex) {
    await knex.schema.createTable('identity_proxy_id_server_bindings', (t) => {
      t.string('user_id', 255).notNullable();
      t.string('medium', 16).notNullable();
      t.string('address', 512).notNullable();
      t.string('id_server', 255).notNullable();
      t.primary(['user_id', 'medium', 'address', 'id_server']);
    });
  },
  async down(knex) {
    await knex.schema.dropTableIfExists('identity_proxy_id_server_bindings');
  },
};
