/**
 * Fails when a config key that the kernel or a built-in module accepts is not documented in
 * homeserver.yaml.example (Synapse's check-sampleconfig idea). Run by `npm test`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TSchema } from '@sinclair/typebox';
import { KernelConfigSchema } from '../core/config/schema.js';
import { builtinModules } from '../modules/index.js';

const examplePath = fileURLToPath(new URL('../homeserver.yaml.example', import.meta.url));
const example = readFileSync(examplePath, 'utf8');

/** Every key path a schema describes, e.g. ['listeners', 'resources', 'names']. */
export function schemaKeyPaths(schema: TSchema, prefix: string[] = []): string[][] {
  const paths: string[][] = [];
  const visit = (s: TSchema, path: string[]): void => {
    for (const variant of (s['anyOf'] as TSchema[] | undefined) ?? [s]) {
      if (variant['type'] === 'array' && variant['items']) visit(variant['items'] as TSchema, path);
      const properties = variant['properties'] as Record<string, TSchema> | undefined;
      for (const [key, child] of Object.entries(properties ?? {})) {
        paths.push([...path, key]);
        visit(child, [...path, key]);
      }
    }
  };
  visit(schema, prefix);
  return paths;
}

const schemas: [string, TSchema][] = [
  ['kernel', KernelConfigSchema],
  ...builtinModules.flatMap((m) => (m.config ? [[m.name, m.config] as [string, TSchema]] : [])),
];

const missing: string[] = [];
for (const [owner, schema] of schemas) {
  for (const path of schemaKeyPaths(schema)) {
    const key = path[path.length - 1]!;
    const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    // Top-level keys start a line (optionally commented out); nested keys may be indented or list items.
    const pattern =
      path.length === 1 ? new RegExp(`^#? ?${escaped}:`, 'm') : new RegExp(`^[#\\s]*(- )?${escaped}:`, 'm');
    if (!pattern.test(example)) missing.push(`${path.join('.')} (${owner})`);
  }
}

if (missing.length > 0) {
  console.error(`homeserver.yaml.example does not document these keys:\n  ${missing.join('\n  ')}`);
  process.exit(1);
}
console.log(
  `homeserver.yaml.example documents every key of the kernel and ${schemas.length - 1} module schemas`,
);
