/** Fixture: a plugin that imports a package which is not installed. */
// @ts-expect-error -- the package is deliberately not installed: loading this module must fail
import { nothing } from 'axon-fixture-package-that-does-not-exist';
import { definePlugin } from '../../../core/index.js';

export default definePlugin({
  name: 'missing-dependency',
  apiVersion: 1,
  register(api) {
    api.logger.info(String(nothing));
  },
});
