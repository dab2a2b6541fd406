#!/usr/bin/env node
// The `axon` bin (package.json "bin"): runs the entry point, modules/main.ts, which hands the kernel's
// command-line runner the built-in modules. tsx compiles it on the fly, so an installed package needs no
// build step; `npm start` runs the prebuilt dist/modules/main.js instead.
import { register } from 'tsx/esm/api';

register();
await import('../modules/main.ts');
