const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
/** Path segments longer than this are cut in messages, so an error never echoes a large key. */
const MAX_RENDERED_KEY = 256;

/** Renders path segments as a JSON path. Example: `['tags', 'team name', 0]` → `$.tags["team name"][0]`. */
export function formatJsonPath(segments: readonly PropertyKey[]): string {
  let path = '$';
  for (const segment of segments) path = appendJsonPath(path, segment);
  return path;
}

/** Appends one member name or array index to a JSON path. */
export function appendJsonPath(path: string, segment: PropertyKey): string {
  if (typeof segment === 'number') return `${path}[${segment}]`;
  const key = typeof segment === 'symbol' ? String(segment) : segment;
  if (IDENTIFIER.test(key)) return `${path}.${key}`;
  const shown = key.length > MAX_RENDERED_KEY ? `${key.slice(0, MAX_RENDERED_KEY)}…` : key;
  return `${path}[${JSON.stringify(shown)}]`;
}
