/** Fixture: a plugin written for a plugin API version this Axon does not provide. */
import { definePlugin } from '../../../core/index.js';

export default definePlugin({ name: 'from-the-future', apiVersion: 99, register() {} });
