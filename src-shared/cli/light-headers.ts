// A small `Headers` (the Fetch standard's header list) for the CLI processes, installed as the
// global before the first RPC. Why: Connect builds its requests and responses with the global
// `Headers`, and Node defines that global lazily as undici's class, so the first `new Headers()`
// loads and evaluates all of undici (Node's fetch implementation): ~80-120 ms of CPU per
// `gatectl`/`gate` command here (`node -e 'new Headers()'` against `node -e 0`, Node 24), more
// than the command's own RPC. Nothing in these processes calls fetch; were it called, undici
// would still load and accept these objects as header inits (they iterate as name/value pairs).
// Semantics follow the standard where Connect and our code can see them: case-insensitive
// names, values trimmed and validated, repeated values joined with ", " (Set-Cookie kept
// apart), iteration sorted by lower-case name.

/** RFC 9110 token characters: what a field name may contain. */
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** What a field value may not contain once trimmed: NUL, CR, LF. */
const FIELD_VALUE_FORBIDDEN = /[\0\r\n]/;
/** HTTP whitespace trimmed from both ends of a value. */
const EDGE_WHITESPACE = /^[\t\n\r ]+|[\t\n\r ]+$/g;
const SET_COOKIE = 'set-cookie';

type Init =
  Iterable<readonly [string, string]> | Record<string, string> | { forEach(cb: (v: string, k: string) => void): void };

function normalizedName(name: string): string {
  const text = String(name);
  if (!FIELD_NAME.test(text)) throw new TypeError(`Headers: invalid header name ${JSON.stringify(text)}`);
  return text.toLowerCase();
}

function normalizedValue(value: string): string {
  const text = String(value).replace(EDGE_WHITESPACE, '');
  if (FIELD_VALUE_FORBIDDEN.test(text)) throw new TypeError(`Headers: invalid header value ${JSON.stringify(text)}`);
  return text;
}

export class LightHeaders {
  /** Lower-case name → its values, in the order appended. */
  readonly #fields = new Map<string, string[]>();

  constructor(init?: Init) {
    if (init === undefined || init === null) return;
    if (typeof (init as Iterable<unknown>)[Symbol.iterator] === 'function') {
      for (const pair of init as Iterable<readonly [string, string]>) {
        if (pair.length !== 2) throw new TypeError('Headers: each header init pair needs a name and a value');
        this.append(pair[0], pair[1]);
      }
    } else if (typeof init === 'object') {
      for (const [name, value] of Object.entries(init as Record<string, string>)) this.append(name, value);
    } else {
      throw new TypeError('Headers: init must be a header list, a record or pairs');
    }
  }

  append(name: string, value: string): void {
    const key = normalizedName(name);
    const values = this.#fields.get(key);
    if (values) values.push(normalizedValue(value));
    else this.#fields.set(key, [normalizedValue(value)]);
  }

  set(name: string, value: string): void {
    this.#fields.set(normalizedName(name), [normalizedValue(value)]);
  }

  delete(name: string): void {
    this.#fields.delete(normalizedName(name));
  }

  has(name: string): boolean {
    return this.#fields.has(normalizedName(name));
  }

  get(name: string): string | null {
    return this.#fields.get(normalizedName(name))?.join(', ') ?? null;
  }

  getSetCookie(): string[] {
    return [...(this.#fields.get(SET_COOKIE) ?? [])];
  }

  forEach(callback: (value: string, name: string, headers: LightHeaders) => void, thisArg?: unknown): void {
    for (const [name, value] of this) callback.call(thisArg, value, name, this);
  }

  *entries(): IterableIterator<[string, string]> {
    for (const name of [...this.#fields.keys()].sort()) {
      const values = this.#fields.get(name)!;
      if (name === SET_COOKIE) for (const value of values) yield [name, value];
      else yield [name, values.join(', ')];
    }
  }

  *keys(): IterableIterator<string> {
    for (const [name] of this.entries()) yield name;
  }

  *values(): IterableIterator<string> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  get [Symbol.toStringTag](): string {
    return 'Headers';
  }
}

/**
 * Makes LightHeaders the global `Headers` of this process. Call first thing in a CLI entry point,
 * before any RPC. By assignment: Node's lazy global has a setter that just replaces it, while
 * Object.defineProperty on it loads undici first (Node 24).
 */
export function installLightHeaders(target: { Headers?: unknown } = globalThis): void {
  target.Headers = LightHeaders;
}
