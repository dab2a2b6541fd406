#!/usr/bin/env node
// The `axon` command of package.json's "bin" (`npx axon start -c homeserver.yaml` from a project that
// depends on Axon, such as a plugin's): builds dist/ (scripts/build.mjs, only what changed) and runs the
// compiled CLI exactly as `npm start` does — the environment, node flags and entry file are read from the
// "start" script (`node scripts/build.mjs && [VAR=value ...] exec node [flags ...] ENTRY.js start`) — with
// this command's arguments in place of `start`.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = new URL('..', import.meta.url);
const script = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')).scripts?.start ?? '';
const words = script.split('&&').at(-1).trim().split(/\s+/);
const env = {};
while (/^[A-Z_][A-Z0-9_]*=/.test(words[0] ?? '')) {
  const [name, ...value] = words.shift().split('=');
  env[name] = value.join('=');
}
// `exec` makes npm's shell become the server, so the signals npm forwards reach it (see the README's
// "Running in production"); here the server is this process's child, and the handlers below pass them on.
if (words[0] === 'exec') words.shift();
const entry = words.findIndex((w) => w.endsWith('.js'));
if (words[0] !== 'node' || entry < 1 || words.at(-1) !== 'start') {
  console.error(
    `axon: package.json "start" is not "[VAR=value ...] [exec] node [flags] ENTRY.js start": ${script}`,
  );
  process.exit(1);
}
await import('./build.mjs');
const child = spawn(
  process.execPath,
  [...words.slice(1, entry), fileURLToPath(new URL(words[entry], root)), ...process.argv.slice(2)],
  { stdio: 'inherit', env: { ...process.env, ...env } },
);
// Ctrl-C reaches the server from the terminal (one process group): forwarding it too would be a second
// SIGINT, which ends a graceful stop. SIGTERM is usually sent to this process alone: pass it on.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
