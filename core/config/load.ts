/**
 * Reads homeserver.yaml with the `yaml` package and keeps, for every key path, the line it sits on,
 * so that a validation error can name the key, the file and the line.
 */
import { readFile } from 'node:fs/promises';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { BootError } from '../errors.js';

export type ConfigPath = readonly (string | number)[];

export interface LoadedConfig {
  /** The parsed YAML as plain data. */
  readonly data: Record<string, unknown>;
  /** The file it came from, or `<inline>` for a config given as an object (tests). */
  readonly file: string;
  /** 1-based line of the node at `path`, or of its nearest ancestor that has one. */
  lineOf(path: ConfigPath): number | undefined;
}

export async function loadConfigFile(file: string): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new BootError(
      'AXON_ERR_CONFIG_NOT_FOUND',
      `cannot read config file ${file}: ${(err as Error).message}`,
    );
  }
  return parseConfigText(text, file);
}

export function parseConfigText(text: string, file: string): LoadedConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new BootError(
      'AXON_ERR_CONFIG_INVALID',
      `${file} is not valid YAML`,
      doc.errors.map((e) => `${file}:${e.linePos?.[0]?.line ?? '?'}: ${e.message.split('\n')[0]}`),
    );
  }
  const data: unknown = doc.toJS() ?? {};
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new BootError('AXON_ERR_CONFIG_INVALID', `${file}: the top level must be a mapping of keys`);
  }
  const lines = new Map<string, number>();
  const walk = (node: Node | null | undefined, path: (string | number)[]): void => {
    if (!node) return;
    if (node.range) lines.set(JSON.stringify(path), lineCounter.linePos(node.range[0]).line);
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const childPath = [...path, key];
        if (isScalar(pair.key) && pair.key.range) {
          lines.set(JSON.stringify(childPath), lineCounter.linePos(pair.key.range[0]).line);
        }
        walk(pair.value as Node | null, childPath);
        // Prefer the key's own line for the path over its value's.
        if (isScalar(pair.key) && pair.key.range) {
          lines.set(JSON.stringify(childPath), lineCounter.linePos(pair.key.range[0]).line);
        }
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item as Node, [...path, i]));
    }
  };
  walk(doc.contents, []);
  return { data: data as Record<string, unknown>, file, lineOf: (path) => nearestLine(lines, path) };
}

/** A config given as an object (tests, generated configs) has no lines. */
export function inlineConfig(data: Record<string, unknown>): LoadedConfig {
  return { data, file: '<inline>', lineOf: () => undefined };
}

function nearestLine(lines: Map<string, number>, path: ConfigPath): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const line = lines.get(JSON.stringify(path.slice(0, n)));
    if (line !== undefined) return line;
  }
  return undefined;
}
