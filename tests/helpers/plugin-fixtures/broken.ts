/** Fixture: a plugin whose module throws while it is imported. */
import { definePlugin } from '../../../core/index.js';

if (process.env['AXON_FIXTURE_NEVER_SET'] === undefined) {
  throw new Error('broken fixture: this module fails while importing');
}

export default definePlugin({ name: 'broken', apiVersion: 1, register() {} });
