// microvet for JavaScript: the microvet WebAssembly component (the same bytes the wasmtime
// host runs), transpiled by jco, behind a small typed API.
//
//   import { load } from 'microvet';
//   const mv = await load();
//   const verdict = mv.policy().vet(manifestText);
//
// No bundler, no import map, no WASI shim: the component's only import is
// `wasi:random/random`, supplied by ./random.js over `crypto.getRandomValues`.

import { instantiate } from '../dist/component/microvet.js';
import { SMALL_CORE_MODULES } from '../dist/component/small.js';
import { readLocalFile } from './read-file.js';
import { random } from './random.js';

/**
 * The component's core module, written so that bundlers (Vite, webpack, Rollup, Parcel)
 * see `new URL('literal', import.meta.url)` and emit the file beside the bundle. Without a
 * bundler it is the file `npm run build` wrote, next to src/ and dist/ alike.
 */
const DEFAULT_WASM = () => new URL('../dist/component/microvet.core.wasm', import.meta.url);
/** The file name jco gives the core module (what its glue asks `getCoreModule` for). */
const CORE_WASM = 'microvet.core.wasm';
/** The key jco's glue puts a resource's dispose function under (browsers without `Symbol.dispose` too). */
const DISPOSE = Symbol.dispose ?? Symbol.for('dispose');

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------

/**
 * Why an input could not be vetted (the WIT `error` record), as a real `Error`.
 * `toJSON()` gives `{code, message, help?, path?, line?, column?}` in exactly that key
 * order with absent fields omitted: the same bytes as the Rust side's error JSON.
 */
export class MicrovetError extends Error {
  /**
   * @param {{code: string, message: string, help?: string, path?: string,
   *          line?: number, column?: number}} record
   * @param {unknown} [cause]
   */
  constructor(record, cause) {
    super(String(record.message), cause === undefined ? undefined : { cause });
    this.name = 'MicrovetError';
    this.code = String(record.code);
    this.help = record.help ?? undefined;
    this.path = record.path ?? undefined;
    this.line = record.line ?? undefined;
    this.column = record.column ?? undefined;
  }

  toJSON() {
    /** @type {Record<string, string | number>} */
    const out = { code: this.code, message: this.message };
    if (this.help !== undefined) out.help = this.help;
    if (this.path !== undefined) out.path = this.path;
    if (this.line !== undefined) out.line = this.line;
    if (this.column !== undefined) out.column = this.column;
    return out;
  }
}

/** Whether `v` looks like the WIT `error` record. */
function isErrorRecord(v) {
  return v !== null && typeof v === 'object' && typeof v.code === 'string' && typeof v.message === 'string';
}

/**
 * Run a component call; turn jco's `ComponentError` (whose `.payload` is the WIT error
 * record) into a `MicrovetError`. Anything else escaping the component is a trap: a wasm
 * trap, or an exception thrown by an import (e.g. `crypto.getRandomValues`) through the
 * guest's frames, which skips the guest's cleanup (its shadow stack, its allocator state).
 * Such an instance is never entered again; `load()` then builds a fresh one. Arguments are
 * checked before `fn` runs, so argument errors never poison an instance.
 */
function call(state, fn) {
  if (state.trapped) {
    throw new Error('microvet: this instance trapped earlier and cannot be used; call load() again for a fresh one');
  }
  try {
    return fn();
  } catch (e) {
    if (e !== null && typeof e === 'object' && 'payload' in e && isErrorRecord(e.payload)) {
      throw new MicrovetError(e.payload, e);
    }
    state.trapped = true;
    throw e;
  }
}

// ---------------------------------------------------------------------------------------
// Argument checks (programming errors are TypeErrors/RangeErrors, like the platform's)
// ---------------------------------------------------------------------------------------

function text(name, v) {
  if (typeof v !== 'string') {
    throw new TypeError(`microvet: \`${name}\` must be a string, got ${v === null ? 'null' : typeof v}`);
  }
  return v;
}

function u32(name, v) {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw new RangeError(`microvet: \`${name}\` must be an integer in 0..=4294967295, got ${String(v)}`);
  }
  return v;
}

function strings(name, v) {
  if (!Array.isArray(v)) throw new TypeError(`microvet: \`${name}\` must be an array of strings`);
  return v.map((s, i) => text(`${name}[${i}]`, s));
}

function pairs(name, v) {
  if (v === undefined || v === null) return [];
  const entries = Array.isArray(v) ? v : Object.entries(v);
  return entries.map((e, i) => {
    if (!Array.isArray(e) || e.length !== 2) {
      throw new TypeError(`microvet: \`${name}[${i}]\` must be a [name, value] pair`);
    }
    return [text(`${name}[${i}][0]`, e[0]), text(`${name}[${i}][1]`, e[1])];
  });
}

/**
 * The UTC day of `date` (default: now, by the page's or the process's clock) as
 * `YYYY-MM-DD`: the day a vet is made on when the caller does not say, and the day of a
 * `Date` passed as `today`. Throws `RangeError` for an invalid Date or a year past 9999.
 */
export function utcDay(date = new Date()) {
  const day = Number.isNaN(date.getTime()) ? '' : date.toISOString().slice(0, 10);
  if (!/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(day)) {
    throw new RangeError(`microvet: \`today\` must be a valid Date in the years 0000..9999, got ${String(date)}`);
  }
  return day;
}

/**
 * The component's `vet-options` from a vet call's `options` (`{today?}`): `today` is a
 * `YYYY-MM-DD` string (checked by the component: `MicrovetError` code `invalid-argument`),
 * a `Date` (its UTC day), or `null` (no day: no waiver applies); absent, today in UTC.
 */
function vetOptions(options) {
  if (options === undefined) return { today: utcDay() };
  // A Date from any realm (an iframe's, a vm context's).
  const isDate = (v) => Object.prototype.toString.call(v) === '[object Date]';
  if (options === null || typeof options !== 'object' || isDate(options)) {
    const got = options === null ? 'null' : isDate(options) ? 'a Date (pass {today: date})' : typeof options;
    throw new TypeError(`microvet: \`options\` must be an object ({today?}), got ${got}`);
  }
  const today = options.today;
  if (today === undefined) return { today: utcDay() };
  if (today === null) return { today: undefined };
  if (typeof today === 'string') return { today };
  if (isDate(today)) return { today: utcDay(today) };
  throw new TypeError(`microvet: \`today\` must be a \`YYYY-MM-DD\` string, a Date or null, got ${typeof today}`);
}

/** A fix (`{op, path, value?, description?}`, the value as JSON data) as the component takes it. */
function witFix(name, f) {
  if (f === null || typeof f !== 'object') throw new TypeError(`microvet: \`${name}\` must be a fix ({op, path, value?})`);
  return {
    op: text(`${name}.op`, f.op),
    path: text(`${name}.path`, f.path),
    value: f.value === undefined ? undefined : JSON.stringify(f.value),
    description: f.description === undefined ? '' : text(`${name}.description`, f.description),
  };
}

// ---------------------------------------------------------------------------------------
// Policy
// ---------------------------------------------------------------------------------------

/** A parsed and validated policy: parse once, vet many. */
export class Policy {
  #state;
  #handle;
  #sha256;
  #name;

  /** @internal Use `microvet.policy(text?)`. */
  constructor(state, handle) {
    this.#state = state;
    this.#handle = handle;
    this.#sha256 = call(state, () => handle.sha256());
    this.#name = call(state, () => handle.name());
  }

  /** Lowercase hex sha256 of the policy text. */
  get sha256() {
    return this.#sha256;
  }

  /** The policy's name. */
  get name() {
    return this.#name;
  }

  /** Whether `dispose()` was called; a disposed policy cannot vet. */
  get disposed() {
    return this.#handle === null;
  }

  #live() {
    if (this.#handle === null) throw new Error('microvet: this policy was disposed');
    return this.#handle;
  }

  /**
   * This policy with the waivers of a waivers file (`waivers: [...]`, YAML or JSON text)
   * added after its own: a new `Policy` (this one is unchanged). Each waiver is validated as
   * the policy's are: throws `MicrovetError` (code `policy`, `path` naming the waiver, or
   * `syntax`). The new policy's `sha256` and `name` stay this policy's.
   */
  withWaivers(waivers) {
    const h = this.#live();
    const t = text('waivers', waivers);
    return new Policy(this.#state, call(this.#state, () => h.withWaivers(t)));
  }

  /**
   * The canonical verdict JSON (the exact bytes every runtime produces) for a manifest.
   * `options.today`: the day of the vet (`YYYY-MM-DD`, a `Date`, or `null` for no day, when
   * no waiver applies); absent, today in UTC. Waivers apply from their `approved_on` through
   * their `expires`.
   */
  vetJson(manifest, options) {
    const h = this.#live();
    const m = text('manifest', manifest);
    const o = vetOptions(options);
    return call(this.#state, () => h.vetKind('manifest', m, o)).json;
  }

  /** The verdict for a manifest (YAML or JSON text), parsed from the canonical JSON (`options` as `vetJson`). */
  vet(manifest, options) {
    return JSON.parse(this.vetJson(manifest, options));
  }

  /** The canonical verdict JSON for a raw RFC 7591 dynamic client registration request (`options` as `vetJson`). */
  vetDcrJson(request, options) {
    const h = this.#live();
    const t = text('request', request);
    const o = vetOptions(options);
    return call(this.#state, () => h.vetKind('dcr', t, o)).json;
  }

  /** The verdict for a raw RFC 7591 dynamic client registration request (JSON text; `options` as `vetJson`). */
  vetDcr(request, options) {
    return JSON.parse(this.vetDcrJson(request, options));
  }

  /**
   * Vet many manifests in one call across the JS/Wasm boundary; one result each, in order.
   * A manifest that cannot be vetted gives `{ok: false, error}` instead of throwing.
   * The batch is vetted on no particular day: no waiver applies (each waiver for a
   * manifest's app says so with an `MV-WAIVER-001` finding); use `vet(manifest, {today})`
   * where waivers matter.
   */
  vetBatch(manifests) {
    const h = this.#live();
    const list = strings('manifests', manifests);
    const results = call(this.#state, () => h.vetBatch(list));
    return results.map((r) =>
      r.tag === 'ok'
        ? { ok: true, verdict: JSON.parse(r.val.json) }
        : { ok: false, error: new MicrovetError(r.val) },
    );
  }

  /** Free the policy inside the component now (otherwise the garbage collector does). */
  dispose() {
    const h = this.#handle;
    this.#handle = null;
    if (h !== null && typeof h[DISPOSE] === 'function') h[DISPOSE]();
  }

  [DISPOSE]() {
    this.dispose();
  }
}

// ---------------------------------------------------------------------------------------
// The loaded component
// ---------------------------------------------------------------------------------------

class Pkce {
  #state;
  #pkce;

  constructor(state, pkce) {
    this.#state = state;
    this.#pkce = pkce;
  }

  /** A fresh verifier of `length` (43..=128) characters and its S256 challenge. */
  generate(length = 64) {
    const n = u32('length', length);
    return call(this.#state, () => this.#pkce.generate(n));
  }

  /** `count` fresh pairs in one call. */
  generateBatch(length = 64, count = 1) {
    const n = u32('length', length);
    const c = u32('count', count);
    return call(this.#state, () => this.#pkce.generateBatch(n, c));
  }

  /** The S256 challenge of a verifier (validated first). */
  challenge(verifier) {
    const v = text('verifier', verifier);
    return call(this.#state, () => this.#pkce.challenge(v));
  }

  /** Constant-time check that `challenge` is the S256 challenge of `verifier`. */
  verify(verifier, challenge) {
    const v = text('verifier', verifier);
    const c = text('challenge', challenge);
    return call(this.#state, () => this.#pkce.verify(v, c));
  }

  /** An authorization-code request URL with PKCE S256, `state` and (for openid) `nonce`. */
  authorizeUrl(request) {
    if (request === null || typeof request !== 'object') {
      throw new TypeError('microvet: authorizeUrl expects {endpoint, clientId, redirectUri, scopes?, extra?}');
    }
    const endpoint = text('endpoint', request.endpoint);
    const clientId = text('clientId', request.clientId);
    const redirectUri = text('redirectUri', request.redirectUri);
    const scopes = strings('scopes', request.scopes ?? []);
    const extra = pairs('extra', request.extra);
    const r = call(this.#state, () => this.#pkce.authorizeUrl(endpoint, clientId, redirectUri, scopes, extra));
    /** @type {{url: string, verifier: string, challenge: string, state: string, nonce?: string}} */
    const out = { url: r.url, verifier: r.verifier, challenge: r.challenge, state: r.state };
    if (r.nonce !== undefined) out.nonce = r.nonce;
    return out;
  }
}

/** One instance of the component. */
export class Microvet {
  #state;
  #exports;
  #builtin = null;
  #rules = null;

  /** @internal Use `load()`. */
  constructor(exports) {
    this.#state = { trapped: false };
    this.#exports = exports;
    /** `microvet x.y.z`. */
    this.engine = call(this.#state, () => exports.vetting.engine());
    /** PKCE (RFC 7636) helpers; only S256 is ever produced. */
    this.pkce = new Pkce(this.#state, exports.pkce);
    Object.freeze(this);
  }

  /** Whether this instance trapped (it can then never be used again; `load()` makes a new one). */
  get trapped() {
    return this.#state.trapped;
  }

  /**
   * A policy handle: the built-in default policy when `text` is omitted, else `text`
   * parsed and validated (throws `MicrovetError` with code `policy` or `syntax`).
   */
  policy(text_) {
    const P = this.#exports.vetting.Policy;
    if (text_ === undefined) {
      // A caller may have disposed the shared built-in handle: make a new one then.
      if (this.#builtin === null || this.#builtin.disposed) this.#builtin = new Policy(this.#state, call(this.#state, () => P.builtin()));
      return this.#builtin;
    }
    const t = text('policy', text_);
    return new Policy(this.#state, call(this.#state, () => P.parse(t)));
  }

  /**
   * Apply one fix (a finding's `fix`, or any JSON Patch `add` / `replace` / `remove` with a
   * JSON `value`) to a manifest (YAML or JSON text). The text is edited at the span of the
   * node the fix names: comments, layout and every other line are kept byte for byte.
   * Throws `MicrovetError` (code `invalid-argument`) when the fix does not apply.
   */
  applyFix(manifest, fix) {
    const m = text('manifest', manifest);
    const f = witFix('fix', fix);
    return call(this.#state, () => this.#exports.vetting.applyFix(m, f));
  }

  /**
   * Apply fixes as `microvet fix` does (one per path; additions and replacements first, then
   * removals from the highest index down), without vetting. Returns `{manifest, applied,
   * rewritten}`; fixes that do not apply are left out of `applied`.
   */
  applyFixes(manifest, fixes) {
    const m = text('manifest', manifest);
    if (!Array.isArray(fixes)) throw new TypeError('microvet: `fixes` must be an array of fixes');
    const list = fixes.map((f, i) => witFix(`fixes[${i}]`, f));
    const r = call(this.#state, () => this.#exports.vetting.applyFixes(m, list));
    return {
      manifest: r.manifest,
      applied: r.applied.map((f) => {
        const out = { op: f.op, path: f.path, description: f.description };
        if (f.value !== undefined) out.value = JSON.parse(f.value);
        return out;
      }),
      rewritten: r.rewritten,
    };
  }

  /** The rule catalogue (id, name, category, severity, summary, what, why, example, fix, references). */
  rules() {
    if (this.#rules === null) this.#rules = call(this.#state, () => this.#exports.vetting.rulesJson());
    return JSON.parse(this.#rules);
  }
}

// ---------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------

/** Compile the core module at `url`: streaming in browsers, from the file in Node. */
async function compileUrl(url) {
  if (url.protocol === 'file:') return WebAssembly.compile(await readLocalFile(url));
  const res = await fetch(url);
  if (!res.ok) throw new Error(`microvet: cannot fetch ${url.href}: HTTP ${res.status}`);
  const type = res.headers.get('content-type') ?? '';
  if (typeof WebAssembly.compileStreaming === 'function' && type.split(';')[0].trim() === 'application/wasm') {
    return WebAssembly.compileStreaming(res);
  }
  // Servers that do not send `application/wasm` still work, just without streaming compile.
  return WebAssembly.compile(await res.arrayBuffer());
}

/** The shared instance, per core module URL. */
const shared = new Map();
/** jco's two trampoline modules (a few hundred bytes), compiled once from the bytes the build inlined. */
let small = null;
/**
 * Compiled core modules, per URL: compile once, instantiate as often as needed. The map lives
 * on globalThis under a registered symbol because `microvet/preload` (a separate, tiny
 * module that may run before or after this one) starts compiles into it too: whichever
 * comes first fetches, the other one joins.
 */
const COMPILING = Symbol.for('microvet.compiling');

/** Start (or join) the download and compile of the core module at `url`. */
function compiled(url) {
  const modules = (globalThis[COMPILING] ??= new Map());
  const key = url.href;
  let p = modules.get(key);
  if (p === undefined || p.microvetEarly === true) {
    // A compile `microvet/preload` started: take it over; if it failed, fetch again (and report).
    p = p === undefined ? compileUrl(url) : p.catch(() => compileUrl(url));
    const mine = p;
    // A failed fetch/compile is not cached: the next load() tries again.
    mine.catch(() => {
      if (modules.get(key) === mine) modules.delete(key);
    });
    modules.set(key, mine);
  }
  return p;
}

function coreModules(url) {
  return (name) => {
    if (name === CORE_WASM) return compiled(url);
    if (small === null) small = new Map();
    let p = small.get(name);
    if (p === undefined) {
      const bytes = SMALL_CORE_MODULES[name];
      if (bytes === undefined) return Promise.reject(new Error(`microvet: the glue asked for an unknown core module \`${name}\``));
      p = WebAssembly.compile(bytes);
      small.set(name, p);
    }
    return p;
  };
}

async function instantiateFresh(url) {
  const exports = await instantiate(coreModules(url), { 'wasi:random/random': random });
  return new Microvet(exports);
}

/**
 * Where the core module is, from `load()`'s options: `wasmUrl` (the file itself, e.g. what a
 * bundler's `?url` import gives), else `componentUrl` (or its older name `baseUrl`: the
 * directory holding `microvet.core.wasm`), else the file beside the package. Relative URLs
 * are resolved against the page (`document.baseURI`), or this module outside a page.
 */
export function wasmUrlOf(options = {}) {
  // In a page, relative to the page; elsewhere (Node), relative to this module.
  const base = typeof document !== 'undefined' && typeof document.baseURI === 'string' ? document.baseURI : import.meta.url;
  if (options.wasmUrl !== undefined && options.wasmUrl !== null && options.wasmUrl !== '') {
    return new URL(String(options.wasmUrl), base);
  }
  const dir = options.componentUrl ?? options.baseUrl;
  if (dir !== undefined && dir !== null && dir !== '') {
    return new URL(CORE_WASM, new URL(String(dir).replace(/\/?$/, '/'), base));
  }
  return DEFAULT_WASM();
}

/**
 * Start downloading and compiling the core module now (say at the top of a page's script),
 * so that a later `load()` with the same options only instantiates it. Resolves when it is
 * compiled; never rejects (a failure is retried, and reported, by `load()`).
 *
 * @param {{wasmUrl?: string | URL, componentUrl?: string | URL, baseUrl?: string | URL}} [options]
 * @returns {Promise<void>}
 */
export function preload(options = {}) {
  return compiled(wasmUrlOf(options)).then(
    () => undefined,
    () => undefined,
  );
}

/**
 * Load the component. Returns the shared instance (created on first use; created again
 * if it ever trapped), or a new instance with `{fresh: true}`. `wasmUrl` (the core module
 * file) or `componentUrl` (its directory) say where `microvet.core.wasm` is served when it
 * is not beside the package (a CDN, a bundler's output directory).
 *
 * @param {{fresh?: boolean, wasmUrl?: string | URL, componentUrl?: string | URL, baseUrl?: string | URL}} [options]
 * @returns {Promise<Microvet>}
 */
export async function load(options = {}) {
  const url = wasmUrlOf(options);
  if (options.fresh) return instantiateFresh(url);
  const key = url.href;
  const existing = shared.get(key);
  if (existing !== undefined) {
    const mv = await existing.catch(() => null);
    if (mv !== null && !mv.trapped) return mv;
    if (shared.get(key) === existing) shared.delete(key);
    else return load(options);
  }
  const p = instantiateFresh(url);
  shared.set(key, p);
  p.catch(() => {
    if (shared.get(key) === p) shared.delete(key);
  });
  return p;
}
