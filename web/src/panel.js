// microvet/panel: `<microvet-panel>`, a framework-free custom element that vets a micro-app
// manifest live, as the citizen developer types, with the same WebAssembly component the
// server runs. Drop it into any builder page:
//
//   <microvet-panel></microvet-panel>
//   <script type="module">
//     import 'microvet/panel';
//     document.querySelector('microvet-panel').manifestObject = form.toObject();
//   </script>
//
// Fixes are applied by the component (`applyFix`: the manifest's text edited at the fixed
// node's span, comments and layout kept), the same code `microvet fix` runs. The module also
// exports `parseYaml`, the small reader a builder's form needs to show the YAML text as
// fields on every keystroke (the component stays the one real parser), and `pointerTokens`.

import { MicrovetError, load, utcDay } from './index.js';

export { MicrovetError };

// =======================================================================================
// JSON Pointer (RFC 6901)
// =======================================================================================

/** `/client/redirect_uris/0` → `['client', 'redirect_uris', '0']`. */
export function pointerTokens(pointer) {
  if (pointer === '') return [];
  if (typeof pointer !== 'string' || !pointer.startsWith('/')) {
    throw new TypeError(`microvet: \`${String(pointer)}\` is not a JSON pointer (it must start with \`/\`)`);
  }
  return pointer.slice(1).split('/').map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~'));
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
/** `o[k] = v` that also works for a key named `__proto__`. */
const put = (o, k, v) => Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
const clone = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));

// =======================================================================================
// YAML subset reader (for a form: data only)
// =======================================================================================
// Block maps and lists, one-line flow collections, plain/single/double-quoted scalars,
// comments. Not supported (it throws YamlSubsetError; the component still vets such text):
// anchors, aliases, tags, block scalars (| >), multi-line flow collections or plain scalars,
// complex keys, several documents.

/** The text uses YAML the panel's small reader does not handle (the component may still accept it). */
export class YamlSubsetError extends Error {
  constructor(message, line) {
    super(line ? `${message} (line ${line})` : message);
    this.name = 'YamlSubsetError';
    this.line = line;
  }
}

/** Where the comment starts in `raw` (or its length): `#` at the start or after a space, outside quotes. */
function commentAt(raw) {
  let quote = '';
  let prev = ' ';
  let lastSig = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (quote) {
      if (quote === '"' && c === '\\') {
        i++;
      } else if (c === quote) {
        if (quote === "'" && raw[i + 1] === "'") i++;
        else quote = '';
      }
      prev = c;
      continue;
    }
    if ((c === '"' || c === "'") && (lastSig === '' || ((prev === ' ' || prev === '\t' || '[{,'.includes(prev)) && ':-[{,'.includes(lastSig)) || '[{,'.includes(prev))) {
      quote = c;
    } else if (c === '#' && (prev === ' ' || prev === '\t' || i === 0)) {
      return i;
    }
    if (c !== ' ' && c !== '\t') lastSig = c;
    prev = c;
  }
  return raw.length;
}

function scanLines(text) {
  const lines = [];
  let pos = 0;
  let no = 0;
  let started = false;
  while (pos < text.length) {
    no++;
    let nl = text.indexOf('\n', pos);
    const next = nl < 0 ? text.length : nl + 1;
    if (nl < 0) nl = text.length;
    let raw = text.slice(pos, nl);
    if (raw.endsWith('\r')) raw = raw.slice(0, -1);
    const indent = raw.length - raw.replace(/^ +/, '').length;
    const body = raw.slice(indent, indent + commentAt(raw.slice(indent))).replace(/[ \t]+$/, '');
    if (body !== '') {
      if (body.startsWith('\t') || /^ *\t/.test(raw)) throw new YamlSubsetError('tabs in indentation', no);
      if (body === '---' && !started) {
        started = true;
      } else if (body === '...' || body.startsWith('--- ') || body === '---' || body.startsWith('%')) {
        if (body === '...') break;
        throw new YamlSubsetError('several documents or directives', no);
      } else {
        started = true;
        lines.push({ no, indent, content: body });
      }
    }
    pos = next;
  }
  return lines;
}

const isSeqItem = (c) => c === '-' || c.startsWith('- ');

/** `key: rest` → {key, colon (index after `:`), rest index}, or null. */
function mapKey(c) {
  let key;
  let i;
  if (c[0] === '"' || c[0] === "'") {
    const q = readQuoted(c, 0);
    if (q === null) return null;
    key = q.value;
    i = q.end;
    while (c[i] === ' ') i++;
    if (c[i] !== ':' || (i + 1 < c.length && c[i + 1] !== ' ')) return null;
  } else {
    if (/^[[{?&*!|>%@`]/.test(c) || isSeqItem(c)) return null;
    let j = c.indexOf(':');
    while (j >= 0 && j + 1 < c.length && c[j + 1] !== ' ') j = c.indexOf(':', j + 1);
    if (j <= 0) return null;
    key = c.slice(0, j).replace(/[ \t]+$/, '');
    if (key === '' || key.includes(' #')) return null;
    i = j;
  }
  let r = i + 1;
  while (c[r] === ' ' || c[r] === '\t') r++;
  return { key, colon: i + 1, rest: r };
}

/** A quoted scalar starting at `s[i]`: {value, end} or null. */
function readQuoted(s, i) {
  const q = s[i];
  if (q === "'") {
    let j = i + 1;
    let out = '';
    for (;;) {
      const k = s.indexOf("'", j);
      if (k < 0) return null;
      out += s.slice(j, k);
      if (s[k + 1] === "'") {
        out += "'";
        j = k + 2;
      } else {
        return { value: out, end: k + 1 };
      }
    }
  }
  let j = i + 1;
  while (j < s.length && s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
  if (j >= s.length) return null;
  const raw = s.slice(i, j + 1);
  try {
    return { value: JSON.parse(raw.replaceAll('\\/', '/').replaceAll("\\'", "'")), end: j + 1 };
  } catch {
    throw new YamlSubsetError('a double-quoted escape the panel cannot read');
  }
}

/** Resolve a plain scalar with the YAML 1.2 core schema (what the component's parser does). */
function resolvePlain(s) {
  if (s === '' || s === '~' || /^(?:null|Null|NULL)$/.test(s)) return null;
  if (/^(?:true|True|TRUE)$/.test(s)) return true;
  if (/^(?:false|False|FALSE)$/.test(s)) return false;
  if (/^[-+]?[0-9]+$/.test(s)) return Number(s);
  if (/^0x[0-9a-fA-F]+$/.test(s)) return Number.parseInt(s.slice(2), 16);
  if (/^0o[0-7]+$/.test(s)) return Number.parseInt(s.slice(2), 8);
  if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/.test(s)) return Number(s);
  if (/^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$/.test(s)) throw new YamlSubsetError('`.inf`/`.nan` have no JSON value');
  return s;
}

/** One flow node or scalar in `s` from `i`. */
function readFlow(s, i, inFlow, line) {
  while (s[i] === ' ' || s[i] === '\t') i++;
  const c = s[i];
  if (c === '[' || c === '{') {
    const seq = c === '[';
    const node = seq ? { kind: 'seq', items: [] } : { kind: 'map', entries: [] };
    i++;
    for (;;) {
      while (s[i] === ' ') i++;
      if (s[i] === (seq ? ']' : '}')) {
        return { node, end: i + 1 };
      }
      if (i >= s.length) throw new YamlSubsetError('a flow collection that does not close on its line', line);
      if (seq) {
        const r = readFlow(s, i, true, line);
        node.items.push({ node: r.node });
        i = r.end;
      } else {
        let key;
        if (s[i] === '"' || s[i] === "'") {
          const q = readQuoted(s, i);
          if (q === null) throw new YamlSubsetError('an unterminated quoted key', line);
          key = q.value;
          i = q.end;
        } else {
          const m = /^[^,:[\]{}]+/.exec(s.slice(i));
          if (!m) throw new YamlSubsetError('a flow mapping key the panel cannot read', line);
          key = m[0].trim();
          i += m[0].length;
        }
        while (s[i] === ' ') i++;
        if (s[i] !== ':') throw new YamlSubsetError('a flow mapping entry without `:`', line);
        i++;
        if (node.entries.some((e) => e.key === key)) throw new YamlSubsetError(`duplicate key \`${key}\``, line);
        let r;
        while (s[i] === ' ') i++;
        if (s[i] === ',' || s[i] === '}') r = { node: { kind: 'scalar', value: null }, end: i };
        else r = readFlow(s, i, true, line);
        node.entries.push({ key, node: r.node });
        i = r.end;
      }
      while (s[i] === ' ') i++;
      if (s[i] === ',') i++;
      else if (s[i] !== (seq ? ']' : '}')) throw new YamlSubsetError('a flow collection the panel cannot read', line);
    }
  }
  if (c === '"' || c === "'") {
    const q = readQuoted(s, i);
    if (q === null) throw new YamlSubsetError('an unterminated quoted string', line);
    return { node: { kind: 'scalar', value: q.value }, end: q.end };
  }
  if (c !== undefined && '&*!|>%@`'.includes(c)) throw new YamlSubsetError(`\`${c}\` (anchors, aliases, tags and block scalars are not supported)`, line);
  let j = i;
  if (inFlow) {
    while (j < s.length && !',[]{}'.includes(s[j]) && !(s[j] === ':' && (s[j + 1] === ' ' || s[j + 1] === undefined || ',[]{}'.includes(s[j + 1])))) j++;
  } else {
    j = s.length;
    if (s.slice(i).includes(': ')) throw new YamlSubsetError('a `: ` inside a plain value (quote it)', line);
  }
  const text = s.slice(i, j).replace(/[ \t]+$/, '');
  return { node: { kind: 'scalar', value: resolvePlain(text) }, end: j };
}

function inlineNode(L, offset) {
  const s = L.content;
  const r = readFlow(s, offset, false, L.no);
  let k = r.end;
  while (s[k] === ' ') k++;
  if (k < s.length) throw new YamlSubsetError('text after a value', L.no);
  return r.node;
}

function parseNode(cx, indent) {
  const L = cx.lines[cx.i];
  if (isSeqItem(L.content)) return parseSeq(cx, indent);
  if (mapKey(L.content) !== null) return parseMap(cx, indent);
  cx.i++;
  return inlineNode(L, 0);
}

function nullNode() {
  return { kind: 'scalar', value: null };
}

/** The value of `key:` with nothing after the colon: a deeper block, a list at the same indent, or null. */
function blockValue(cx, L, indent) {
  const N = cx.lines[cx.i];
  if (N && (N.indent > indent || (N.indent === indent && isSeqItem(N.content) && L.kind !== 'seq'))) {
    const node = parseNode(cx, N.indent);
    return node;
  }
  return nullNode();
}

function parseMap(cx, indent) {
  const node = { kind: 'map', entries: [] };
  while (cx.i < cx.lines.length) {
    const L = cx.lines[cx.i];
    if (L.indent < indent) break;
    if (L.indent > indent) throw new YamlSubsetError('unexpected indentation', L.no);
    const k = mapKey(L.content);
    if (k === null) {
      if (isSeqItem(L.content)) break;
      throw new YamlSubsetError('expected `key: value`', L.no);
    }
    if (node.entries.some((e) => e.key === k.key)) throw new YamlSubsetError(`duplicate key \`${k.key}\``, L.no);
    const entry = { key: k.key };
    cx.i++;
    if (k.rest >= L.content.length) entry.node = blockValue(cx, { kind: 'map' }, indent);
    else entry.node = inlineNode(L, k.rest);
    node.entries.push(entry);
  }
  return node;
}

function parseSeq(cx, indent) {
  const node = { kind: 'seq', items: [] };
  while (cx.i < cx.lines.length) {
    const L = cx.lines[cx.i];
    if (L.indent < indent || !isSeqItem(L.content)) {
      if (L.indent > indent) throw new YamlSubsetError('unexpected indentation', L.no);
      break;
    }
    if (L.indent > indent) throw new YamlSubsetError('unexpected indentation', L.no);
    const item = {};
    let off = 1;
    while (L.content[off] === ' ') off++;
    if (off >= L.content.length) {
      cx.i++;
      item.node = blockValue(cx, { kind: 'seq' }, indent);
    } else {
      const rest = L.content.slice(off);
      if (isSeqItem(rest) || mapKey(rest) !== null) {
        // `- key: value` / `- - x`: the rest of the line starts a block at its own column.
        cx.lines[cx.i] = { ...L, indent: L.indent + off, content: rest };
        item.node = parseNode(cx, L.indent + off);
      } else {
        cx.i++;
        item.node = inlineNode(L, off);
      }
    }
    node.items.push(item);
  }
  return node;
}

/** The positioned tree of `text` (null document → a null scalar). */
function parseTree(text) {
  const lines = scanLines(text);
  if (lines.length === 0) return nullNode();
  const cx = { lines, i: 0 };
  const root = parseNode(cx, lines[0].indent);
  if (cx.i < lines.length) throw new YamlSubsetError('unexpected content', lines[cx.i].no);
  return root;
}

function plain(node) {
  if (node.kind === 'seq') return node.items.map((it) => plain(it.node));
  if (node.kind === 'map') {
    const o = {};
    for (const e of node.entries) put(o, e.key, plain(e.node));
    return o;
  }
  return node.value;
}

/**
 * Read YAML (the subset manifests use) or JSON into plain data.
 * @throws {YamlSubsetError} for YAML the small reader does not handle
 */
export function parseYaml(text) {
  // A leading byte order mark is not content (the component strips it too).
  const t = String(text).replace(/^\uFEFF/, '');
  if (/^\s*[[{]/.test(t)) {
    try {
      return JSON.parse(t);
    } catch {
      // YAML flow on one line, or invalid: fall through.
    }
  }
  return plain(parseTree(t));
}

// =======================================================================================
// One component per page
// =======================================================================================

/** @type {WeakMap<object, Map<string, import('./index.js').Policy>>} */
const policies = new WeakMap();
let firstVerdictMarked = false;
let loadMarked = false;
/** Errors that came from the policy or the waivers text rather than the manifest: what to call them. */
const settingsErrors = new WeakMap();
/** The engine every panel uses unless it was given its own (`useEngine`, `panel.engine`). */
let pageEngine = null;

/**
 * The page's microvet instance for panels with these loading options: `load()` shares one
 * instance per core module URL (one download, one compile), and makes a new one if it ever
 * trapped.
 */
function component(options) {
  if (!loadMarked && typeof performance !== 'undefined' && performance.mark) {
    loadMarked = true;
    performance.mark('microvet-panel:load-start');
  }
  const p = load(options);
  p.then(
    () => {
      if (typeof performance !== 'undefined' && performance.mark && performance.getEntriesByName('microvet-panel:loaded').length === 0) {
        performance.mark('microvet-panel:loaded');
      }
    },
    () => {},
  );
  return p;
}

/** A host-given engine; null when there is none or it trapped (a failed one rejects: its error is shown). */
async function given(engine) {
  if (engine === null) return null;
  const mv = await engine;
  return mv !== null && typeof mv === 'object' && !mv.trapped ? mv : null;
}

/**
 * Every panel on the page (that was not given its own `engine`, nor a `wasm-url` /
 * `component-url`) uses this engine: an
 * instance from `load()`, or the promise of one. The host loads once (with its
 * `wasmUrl`, say) and shares it with its own code and the panels. `null` goes back to
 * each panel loading by its `wasm-url` / `component-url` attributes.
 * @param {import('./index.js').Microvet | Promise<import('./index.js').Microvet> | null} engine
 */
export function useEngine(engine) {
  pageEngine = engine === null || engine === undefined ? null : Promise.resolve(engine);
  for (const panel of livePanels) panel.rescheduleForEngine();
}
/** Panels currently in a document (to vet again when the page's engine changes). */
const livePanels = new Set();

/**
 * Apply one JSON Patch operation (a finding's fix, or a form's edit) to a manifest's text
 * with the page's component: the text is edited at the span of the node it names, comments
 * and layout kept (`Microvet.applyFix`). Throws `MicrovetError` when it does not apply.
 * @param {string} text
 * @param {{op: string, path: string, value?: unknown}} patch
 */
export async function applyFix(text, patch) {
  // The page's engine when the host shared one (`useEngine`), else the default load.
  const mv = (pageEngine !== null ? await given(pageEngine) : null) ?? (await component());
  return mv.applyFix(text, patch);
}

/** Note where an error came from (`Policy error`, `Waivers error`), to say so when it is shown. */
function settingsError(e, what) {
  if (e !== null && typeof e === 'object') settingsErrors.set(e, what);
  return e;
}

/**
 * Parsed policies, per instance, policy text (the built-in one under '') and waivers text
 * (a policy `withWaivers` them, when there are some).
 */
function policyFor(mv, text, waivers) {
  let cache = policies.get(mv);
  if (cache === undefined) {
    cache = new Map();
    policies.set(mv, cache);
  }
  const cached = (key, make) => {
    let p = cache.get(key);
    // A page may dispose the handle it got from `mv.policy()`, which is this one for the
    // built-in policy: take a new one then.
    if (p === undefined || p.disposed) {
      p = make();
      if (cache.size >= 8) cache.delete(cache.keys().next().value);
      cache.set(key, p);
    }
    return p;
  };
  const key = JSON.stringify([text ?? '']);
  let base;
  try {
    base = cached(key, () => (text === undefined || text === null || text === '' ? mv.policy() : mv.policy(text)));
  } catch (e) {
    throw settingsError(e, 'Policy error');
  }
  if (waivers === undefined || waivers === null || waivers === '') return base;
  try {
    return cached(JSON.stringify([text ?? '', waivers]), () => base.withWaivers(waivers));
  } catch (e) {
    throw settingsError(e, 'Waivers error');
  }
}

// =======================================================================================
// <microvet-panel>
// =======================================================================================

const DECISIONS = {
  approve: { label: 'Approve', icon: '✓' },
  'approve-with-controls': { label: 'Approve with controls', icon: '✓' },
  remediate: { label: 'Remediate', icon: '!' },
  reject: { label: 'Reject', icon: '✕' },
};
/** Severity icons, most severe first (the label is the capitalised name). */
const SEVERITY = { critical: '◆', high: '▲', medium: '●', low: '○', info: 'i' };
/** `data_access` → `Data access`. */
const label = (name) => name.charAt(0).toUpperCase() + name.slice(1).replaceAll('_', ' ');
/** Field names whose label is not just `label(name)`. */
const FIELD_LABELS = {
  '': 'Manifest',
  retention_days: 'Retention',
  oauth_scopes: 'OAuth scopes',
  expiry_days: 'Expiry',
  third_party_deps: 'Third-party dependencies',
  client: 'OAuth client',
};

/** Names inside a field whose label is not just `label(name)`. */
const SUB_LABELS = {
  redirect_uris: 'Redirect URIs',
  grant_types: 'Grant types',
  response_types: 'Response types',
  token_endpoint_auth_method: 'Auth method',
  code_challenge_method: 'PKCE method',
  refresh_token_ttl_days: 'Refresh token lifetime',
  refresh_token_rotation: 'Refresh token rotation',
  application_type: 'Application type',
  audit_log: 'Audit log',
  contact: 'On-call contact',
  dpa: 'DPA',
  jwks_uri: 'JWKS URI',
  client_uri: 'Client URI',
  logo_uri: 'Logo URI',
};
/** Controls in plain words (the control's ID stays beside it). */
const CONTROL_LABELS = {
  client_ttl_days: 'Client expires after (days)',
  recertify_every_days: 'Owner re-approves every (days)',
  dlp_required: 'Data-loss prevention scanning on',
  pkce_required: 'PKCE required',
  refresh_token: 'Refresh tokens',
  audit_logging: 'Audit logging',
  security_review: 'Security review',
  vendor_review: 'Vendor review',
};

/** The decisions under which a host may publish. */
export const PUBLISHABLE = Object.freeze(['approve', 'approve-with-controls']);

const CSS = `
:host { display: block; box-sizing: border-box; height: 100%; min-height: 540px; color: #1f2328;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  --mv-border: #d0d7de; --mv-muted: #57606a; --mv-focus: #0969da; --mv-surface: #ffffff; --mv-sunken: #f6f8fa;
  --mv-radius: 8px; --mv-rows: 3; container-type: inline-size; }
:host([hidden]) { display: none; }
*, *::before, *::after { box-sizing: border-box; }
.panel { display: grid; grid-template-columns: minmax(0, 1fr); grid-template-rows: auto auto minmax(0, 1fr) auto auto auto auto; height: 100%;
  background: var(--mv-surface); border: 1px solid var(--mv-border); border-radius: var(--mv-radius); overflow: hidden; }
h3, h4, p, ul, ol, dl, dd { margin: 0; padding: 0; }
ul, ol { list-style: none; }
code, .mono { font-family: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace; font-size: 0.86em; }
code { background: rgba(175, 184, 193, 0.25); border-radius: 4px; padding: 0 0.25em; overflow-wrap: anywhere; }
button { font: inherit; cursor: pointer; border-radius: 6px; border: 1px solid #8c959f; background: #f6f8fa; color: #1f2328;
  padding: 0.2rem 0.6rem; line-height: 1.4; }
button:hover { background: #eaeef2; }
button:disabled { cursor: default; color: #57606a; background: #f6f8fa; }
button:focus-visible, [tabindex]:focus-visible { outline: 3px solid var(--mv-focus); outline-offset: 2px; }
.sr { position: absolute; width: 1px; height: 1px; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
.head { padding: 0.8rem 1rem 0.55rem; border-bottom: 1px solid var(--mv-border); height: 7.1rem; }
.head-row { display: flex; align-items: center; gap: 0.75rem; height: 2.6rem; }
.badge { display: inline-flex; align-items: center; gap: 0.45rem; height: 2.3rem; padding: 0 0.85rem; border-radius: 999px;
  font-weight: 650; font-size: 1rem; white-space: nowrap; border: 1px solid transparent; background: #eaeef2; color: #424a53; }
.badge-icon { display: inline-grid; place-items: center; width: 1.35rem; height: 1.35rem; border-radius: 50%; font-size: 0.8rem;
  background: currentColor; }
.badge-icon > span { color: #fff; }
.badge[data-decision="approve"] { background: #dafbe1; color: #116329; border-color: #4ac26b; }
.badge[data-decision="approve-with-controls"] { background: #ddf4ff; color: #0a3069; border-color: #54aeff; }
.badge[data-decision="remediate"] { background: #fff1e5; color: #8a3300; border-color: #fb8f44; }
.badge[data-decision="reject"] { background: #ffebe9; color: #a40e26; border-color: #ff8182; }
.badge[data-decision="error"] { background: #ffebe9; color: #a40e26; border-color: #ff8182; }
.score { margin-left: auto; text-align: right; min-width: 6.5rem; }
.score-num { font-size: 1.6rem; font-weight: 700; font-variant-numeric: tabular-nums; }
.score-max { color: var(--mv-muted); font-size: 0.85rem; }
.tier { display: block; font-size: 0.78rem; color: var(--mv-muted); text-transform: uppercase; letter-spacing: 0.04em; margin-top: -0.2rem; }
.meter { height: 0.5rem; margin: 0.45rem 0 0.4rem; border-radius: 999px; background: #eaeef2; overflow: hidden; display: flex; }
.meter > span { height: 100%; }
.summary { font-size: 0.84rem; color: #1f2328; height: 2.5em; line-height: 1.25em; overflow: hidden; display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; }
.summary[data-error] { color: #a40e26; display: block; overflow: auto; }
.retry { margin-left: 0.5rem; font-size: 0.8rem; padding: 0 0.5rem; }
/* While the input cannot be vetted, what is shown is the last verdict: dim it. */
.panel[data-stale] :is(.meter, .risk, .findings-section, .waived-section, .controls) { opacity: 0.45; filter: grayscale(0.6); }
.tally { display: inline-flex; align-items: center; gap: 0.25rem; margin-right: 0.7rem; white-space: nowrap; font-variant-numeric: tabular-nums; }
.tally[data-severity="critical"], .tally[data-severity="high"] { color: #a40e26; font-weight: 650; }
.tally[data-severity="medium"] { color: #6c4400; }
.tally[data-severity="low"] { color: #0a3069; }
.tally[data-severity="info"] { color: var(--mv-muted); }
.tally.fixable { color: #116329; }
.tally.waived-tally { color: var(--mv-muted); }
.section { padding: 0.6rem 1rem; border-bottom: 1px solid var(--mv-border); display: flex; flex-direction: column; min-height: 0; min-width: 0; }
.section-title { font-size: 0.78rem; font-weight: 650; text-transform: uppercase; letter-spacing: 0.05em; color: var(--mv-muted);
  display: flex; align-items: baseline; gap: 0.4rem; height: 1.4rem; flex: none; }
.count { font-variant-numeric: tabular-nums; }
.scroll { overflow: auto; min-height: 0; flex: 1 1 auto;
  /* Shadows at the top/bottom edge only while there is more to scroll to. */
  background: linear-gradient(#fff 30%, rgba(255, 255, 255, 0)) center top / 100% 1.2rem no-repeat local,
    linear-gradient(rgba(255, 255, 255, 0), #fff 70%) center bottom / 100% 1.2rem no-repeat local,
    radial-gradient(farthest-side at 50% 0, rgba(31, 35, 40, 0.16), transparent) center top / 100% 0.5rem no-repeat scroll,
    radial-gradient(farthest-side at 50% 100%, rgba(31, 35, 40, 0.16), transparent) center bottom / 100% 0.5rem no-repeat scroll; }
/* Risk factors and controls: one line each, a whole number of rows visible. */
.risk, .controls { height: calc(2.6rem + var(--mv-rows) * 1.5rem); }
.factors li { display: grid; grid-template-columns: 0.6rem 2.2rem minmax(0, 1fr); gap: 0.45rem; align-items: baseline; min-height: 1.5rem;
  padding: 0.1rem 0; font-size: 0.86rem; line-height: 1.3; }
.swatch { width: 0.6rem; height: 0.6rem; border-radius: 2px; }
.factor-text { overflow-wrap: anywhere; }
.pts { font-variant-numeric: tabular-nums; font-weight: 650; text-align: right; }
.factor-name { font-weight: 600; }
.factor-reason { color: var(--mv-muted); }
.findings { padding-bottom: 0.4rem; }
.group + .group { margin-top: 0.55rem; }
.group-title { font-size: 0.9rem; font-weight: 650; display: flex; gap: 0.4rem; align-items: baseline; padding: 0.15rem 0; }
.group-title .path { color: var(--mv-muted); font-weight: 400; }
.finding { border: 1px solid var(--mv-border); border-left-width: 4px; border-radius: 6px; padding: 0.45rem 0.6rem; margin-top: 0.35rem; background: #fff; }
.finding[data-severity="critical"] { border-left-color: #a40e26; }
.finding[data-severity="high"] { border-left-color: #bc4c00; }
.finding[data-severity="medium"] { border-left-color: #9a6700; }
.finding[data-severity="low"] { border-left-color: #0969da; }
.finding[data-severity="info"] { border-left-color: #6e7781; }
.f-top { display: flex; align-items: center; gap: 0.45rem; flex-wrap: wrap; min-height: 1.8rem; }
.sev { display: inline-flex; align-items: center; gap: 0.25rem; font-size: 0.75rem; font-weight: 700; padding: 0.05rem 0.45rem; border-radius: 999px; }
.sev[data-severity="critical"] { background: #a40e26; color: #fff; }
.sev[data-severity="high"] { background: #bc4c00; color: #fff; }
.sev[data-severity="medium"] { background: #fff8c5; color: #6c4400; box-shadow: inset 0 0 0 1px #d4a72c; }
.sev[data-severity="low"] { background: #ddf4ff; color: #0a3069; box-shadow: inset 0 0 0 1px #54aeff; }
.sev[data-severity="info"] { background: #eaeef2; color: #424a53; box-shadow: inset 0 0 0 1px #afb8c1; }
.rule { font-size: 0.74rem; color: var(--mv-muted); }
.loc { font-size: 0.78rem; padding: 0 0.4rem; background: transparent; border-color: transparent; color: #0550ae; text-decoration: underline; }
.loc:hover { background: #ddf4ff; }
.fix { flex: none; font-weight: 600; background: #1f883d; border-color: #1a7f37; color: #fff; padding: 0.1rem 0.6rem; }
.fix:hover { background: #1a7f37; }
.msg { margin-top: 0.2rem; overflow-wrap: anywhere; }
.fix-row { display: flex; align-items: center; justify-content: space-between; gap: 0.6rem; margin-top: 0.3rem; }
.fix-desc { font-size: 0.82rem; color: var(--mv-muted); min-width: 0; overflow-wrap: anywhere; }
.fix-error { margin-top: 0.2rem; font-size: 0.82rem; color: #a40e26; }
.empty { color: var(--mv-muted); font-size: 0.9rem; padding: 0.4rem 0; }
/* Waived findings: a fixed height (one item in sight, the rest scrolls), set apart from the findings. */
.waived-section { height: calc(2.6rem + var(--mv-rows) * 2.2rem); }
.section[hidden] { display: none; }
.waived-hint { text-transform: none; letter-spacing: 0; font-weight: 400; }
.waived-note { font-size: 0.8rem; color: var(--mv-muted); padding: 0.3rem 0 0.2rem; }
.waived .empty { padding: 0.2rem 0 0; }
.waived-item { border: 1px dashed #8c959f; border-left: 4px solid #8c959f; border-radius: 6px; padding: 0.4rem 0.6rem; margin-top: 0.35rem; background: var(--mv-sunken); }
.waiver { margin-top: 0.25rem; font-size: 0.82rem; overflow-wrap: anywhere; }
.waiver-id { font-weight: 650; }
.waiver-reason { font-size: 0.82rem; color: var(--mv-muted); overflow-wrap: anywhere; }
.control { min-height: 1.5rem; padding: 0.1rem 0; font-size: 0.86rem; line-height: 1.3; overflow-wrap: anywhere; }
.control > dt, .control > dd { display: inline; }
.control-name { font-weight: 600; }
.control-id { color: var(--mv-muted); font-size: 0.74rem; }
.controls-note { color: var(--mv-muted); font-size: 0.86rem; padding: 0.2rem 0; }
.control-value { font-variant-numeric: tabular-nums; font-weight: 600; }
.control-reason { color: var(--mv-muted); }
.pkce { min-height: 7.5rem; }
.pkce .section-title { justify-content: space-between; flex-wrap: wrap; height: auto; min-height: 1.4rem; row-gap: 0.3rem; }
.pkce .generate { font-size: 0.8rem; padding: 0.05rem 0.6rem; text-transform: none; letter-spacing: 0; font-weight: 600; color: #1f2328; }
.pkce-out { display: grid; grid-template-columns: 4.6rem minmax(0, 1fr) auto; gap: 0.3rem 0.5rem; align-items: center; margin-top: 0.35rem; font-size: 0.84rem; }
.pkce-out dt { color: var(--mv-muted); }
.pkce-out dd { min-width: 0; }
.pkce-value { display: block; background: var(--mv-sunken); border: 1px solid var(--mv-border); border-radius: 6px; padding: 0.1rem 0.4rem;
  overflow-wrap: anywhere; word-break: break-all; }
.pkce-value.verifier { height: 2.75em; line-height: 1.25em; overflow: hidden; }
.pkce-value.one { min-height: 1.6em; }
.copy { font-size: 0.78rem; min-width: 4.4rem; padding: 0.05rem 0.5rem; }
.method { color: var(--mv-muted); font-size: 0.8rem; text-transform: none; letter-spacing: 0; font-weight: 400; }
@container (max-width: 26rem) {
  .head { padding-left: 0.75rem; padding-right: 0.75rem; }
  .head-row { gap: 0.5rem; }
  .badge { font-size: 0.9rem; padding: 0 0.6rem; gap: 0.35rem; }
  .score { min-width: 0; }
  .score-num { font-size: 1.35rem; }
}
.foot { padding: 0.35rem 1rem; font-size: 0.75rem; color: var(--mv-muted); min-height: 1.9rem; overflow-wrap: anywhere;
  background: var(--mv-sunken); }
`;

let sheet = null;
function styles(root) {
  const doc = root.ownerDocument ?? document;
  const CSSStyleSheetCtor = doc.defaultView?.CSSStyleSheet;
  if (CSSStyleSheetCtor && 'adoptedStyleSheets' in root && 'replaceSync' in CSSStyleSheetCtor.prototype) {
    // Constructed stylesheets: no inline <style>, so the panel works under `style-src 'self'`.
    if (sheet === null) {
      sheet = new CSSStyleSheetCtor();
      sheet.replaceSync(CSS);
    }
    root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
    return;
  }
  const style = doc.createElement('style');
  style.textContent = CSS;
  root.append(style);
}

/** `h('li', {class: 'x', dataset: {a: '1'}}, 'text', child)`. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

/** Message text with `backticked` parts as <code>. */
function rich(text) {
  return String(text)
    .split('`')
    .map((part, i) => (i % 2 === 1 ? h('code', {}, part) : part));
}

function fieldOf(path) {
  const t = path === '' ? [] : pointerTokens(path);
  return t[0] ?? '';
}

/** `/client/redirect_uris/0` → `OAuth client › Redirect URIs › item 1`: where, in the form's words. */
function plainPath(path) {
  const tokens = path === '' ? [] : pointerTokens(path);
  if (tokens.length === 0) return 'the manifest as a whole';
  return tokens
    .map((t, i) => {
      if (/^[0-9]+$/.test(t)) return `item ${Number(t) + 1}`;
      if (i === 0) return Object.hasOwn(FIELD_LABELS, t) ? FIELD_LABELS[t] : label(t);
      return Object.hasOwn(SUB_LABELS, t) ? SUB_LABELS[t] : label(t);
    })
    .join(' › ');
}

function displayPath(path) {
  let out = '';
  for (const t of path === '' ? [] : pointerTokens(path)) {
    if (/^[0-9]+$/.test(t)) out += `[${t}]`;
    else out += (out ? '.' : '') + t;
  }
  return out;
}

function formatValue(v) {
  if (Array.isArray(v)) return v.map(formatValue).join(', ');
  if (isObject(v)) return Object.entries(v).map(([k, x]) => `${k}: ${formatValue(x)}`).join(', ');
  return String(v);
}

const FACTOR_COLORS = ['#0969da', '#8250df', '#bf3989', '#bc4c00', '#1a7f37', '#9a6700', '#0a3069', '#6e7781'];

const HostElement = globalThis.HTMLElement ?? class {};

/**
 * `<microvet-panel manifest="…" policy="…" waivers="…" debounce="150">`: live vetting for a
 * builder, on the page's current day (UTC: the day waivers are checked against).
 *
 * Events (all bubble and cross shadow roots): `microvet-verdict` (detail: the verdict),
 * `microvet-error` (detail: the MicrovetError, or the Error that stopped the component
 * from loading), `microvet-fix` (detail: {patch, finding, manifest, manifestObject}),
 * `microvet-locate` (detail: {path, line, rule}).
 */
export class MicrovetPanel extends HostElement {
  static observedAttributes = ['manifest', 'policy', 'waivers', 'debounce', 'wasm-url', 'component-url'];

  #text = '';
  #object = undefined;
  #hasInput = false;
  #policyText = undefined;
  #waiversText = undefined;
  #debounce = 150;
  #timer = undefined;
  #running = false;
  #again = false;
  #waiters = [];
  #last = null;
  #verdict = null;
  #error = null;
  #shown = {};
  #ui;
  #engine = null;

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    styles(root);
    this.#ui = this.#skeleton();
    root.append(this.#ui.panel);
    // Properties a host set before this element was upgraded shadow the accessors: re-set them.
    for (const prop of ['engine', 'debounce', 'policy', 'waivers', 'manifestObject', 'manifest']) {
      if (Object.hasOwn(this, prop)) {
        const v = this[prop];
        delete this[prop];
        this[prop] = v;
      }
    }
  }

  // -- properties ------------------------------------------------------------------------

  /** The manifest as YAML (or JSON) text. Setting it vets (debounced). */
  get manifest() {
    return this.#text;
  }

  set manifest(text) {
    const t = text === null || text === undefined ? '' : String(text);
    this.#hasInput = true;
    if (t === this.#text && this.#object === undefined) return;
    this.#text = t;
    this.#object = undefined;
    this.#schedule();
  }

  /**
   * The manifest as an object (set by the host page; the panel vets it as JSON text, which
   * the component reads as it reads YAML). When the manifest was given as text, the getter
   * reads it back with `parseYaml` (null if it cannot).
   */
  get manifestObject() {
    if (this.#object !== undefined) return clone(this.#object);
    try {
      return parseYaml(this.#text);
    } catch {
      return null;
    }
  }

  set manifestObject(obj) {
    const o = obj === undefined ? null : clone(obj);
    const t = `${JSON.stringify(o, null, 2)}\n`;
    this.#hasInput = true;
    this.#object = o;
    if (t === this.#text) return;
    this.#text = t;
    this.#schedule();
  }

  /** Policy YAML text; empty or unset means the built-in default policy. */
  get policy() {
    return this.#policyText ?? '';
  }

  set policy(text) {
    const t = text === null || text === undefined || text === '' ? undefined : String(text);
    if (t === this.#policyText) return;
    this.#policyText = t;
    this.#schedule();
  }

  /**
   * A waivers file's text (`waivers: [...]`, YAML or JSON): exceptions approved for one
   * finding of one exact manifest, added to the policy's own. Empty or unset: the policy's
   * waivers only. Waivers apply on the page's current day (UTC).
   */
  get waivers() {
    return this.#waiversText ?? '';
  }

  set waivers(text) {
    const t = text === null || text === undefined || text === '' ? undefined : String(text);
    if (t === this.#waiversText) return;
    this.#waiversText = t;
    this.#schedule();
  }

  /** Milliseconds to wait after the last change before vetting (default 150). */
  get debounce() {
    return this.#debounce;
  }

  set debounce(ms) {
    const n = Number(ms);
    this.#debounce = Number.isFinite(n) && n >= 0 ? n : 150;
  }

  /** The last verdict (null before the first, or while the input cannot be vetted). */
  get verdict() {
    return this.#error === null ? this.#verdict : null;
  }

  /** Why the current input cannot be vetted, or null. */
  get error() {
    return this.#error;
  }

  /** The current decision, `'error'` when the input cannot be vetted, or null before the first vet. */
  get decision() {
    if (this.#error !== null) return 'error';
    return this.#verdict?.decision ?? null;
  }

  /** Whether the host may publish: the decision is approve or approve-with-controls. */
  get publishable() {
    return this.#error === null && this.#verdict !== null && PUBLISHABLE.includes(this.#verdict.decision);
  }

  /**
   * The microvet instance this panel vets with: one the host loaded (a `Microvet` or its
   * promise) shares that instance; unset, the page's (`useEngine`), else `load()` with this
   * panel's `wasm-url` / `component-url`. Reading it gives the promise of the instance.
   */
  get engine() {
    return this.#component();
  }

  set engine(mv) {
    this.#engine = mv === null || mv === undefined ? null : Promise.resolve(mv);
    this.rescheduleForEngine();
  }

  /** @internal Vet again with a new engine (when one was vetted with already). */
  rescheduleForEngine() {
    if (this.#last !== null || this.#error !== null) {
      this.#last = null;
      this.#schedule();
    }
  }

  /** `load()` options from the `wasm-url` / `component-url` attributes. */
  #loadOptions() {
    const wasmUrl = this.getAttribute('wasm-url');
    const componentUrl = this.getAttribute('component-url');
    return { ...(wasmUrl ? { wasmUrl } : {}), ...(componentUrl ? { componentUrl } : {}) };
  }

  /**
   * The instance to vet with: the panel's own engine; else, when the panel says where its wasm
   * is (`wasm-url` / `component-url`), the shared `load()` instance for that URL; else the
   * page's (`useEngine`); else the shared default `load()` one.
   */
  async #component() {
    const own = await given(this.#engine);
    if (own !== null) return own;
    const options = this.#loadOptions();
    if (Object.keys(options).length === 0) {
      const page = await given(pageEngine);
      if (page !== null) return page;
    }
    return component(options);
  }

  // -- lifecycle -------------------------------------------------------------------------

  connectedCallback() {
    livePanels.add(this);
    // Start the download and compile now, before there is a manifest to vet.
    const loading = this.#component();
    loading.then(
      () => {
        if (this.#error === null || this.#error instanceof MicrovetError) this.#ui.generate.disabled = false;
      },
      () => {},
    );
    if (this.#hasInput) this.#schedule();
    else loading.catch((e) => this.#fail(e));
  }

  disconnectedCallback() {
    livePanels.delete(this);
    clearTimeout(this.#timer);
  }

  attributeChangedCallback(name, _old, v) {
    if (name === 'manifest') {
      if (v !== null) this.manifest = v;
    } else if (name === 'policy') this.policy = v;
    else if (name === 'waivers') this.waivers = v;
    else if (name === 'debounce') this.debounce = v ?? 150;
    else if (_old !== v) this.rescheduleForEngine();
  }

  // -- actions ---------------------------------------------------------------------------

  /** Vet now (skipping the debounce); resolves with the verdict, rejects with the error. */
  vet() {
    clearTimeout(this.#timer);
    this.#hasInput = true;
    const done = new Promise((resolve) => this.#waiters.push(resolve));
    this.#run();
    return done.then(() => {
      if (this.#error !== null) throw this.#error;
      return this.#verdict;
    });
  }

  /**
   * Apply a fix (a JSON Patch operation) to the manifest the panel holds, with the
   * component's `applyFix` (the text edited at the fixed node's span: comments and layout
   * kept, JSON stays JSON), emit `microvet-fix`, and vet again. Resolves with the new
   * verdict; rejects with an `Error` when the fix does not apply to the current text.
   * @param {{op: string, path: string, value?: unknown}} fix
   * @param {object} [finding] the finding it fixes (passed on in the event)
   */
  async applyFix(fix, finding = null) {
    const patch = { op: fix.op, path: fix.path };
    if (fix.value !== undefined) patch.value = fix.value;
    const mv = await this.#component();
    let text;
    try {
      text = mv.applyFix(this.#text, patch);
    } catch (e) {
      // Not a verdict's error: the fix does not apply to the text as it is now.
      throw new Error(e.message, { cause: e });
    }
    this.#text = text;
    if (this.#object !== undefined) this.#object = JSON.parse(text);
    this.#emit('microvet-fix', {
      patch: { ...patch, ...(fix.description ? { description: fix.description } : {}) },
      finding,
      manifest: this.#text,
      manifestObject: this.#object === undefined ? null : clone(this.#object),
    });
    return this.vet();
  }

  /** A fresh PKCE pair (S256), also shown in the panel. */
  async generatePkce(length = 64) {
    const mv = await this.#component();
    const pair = mv.pkce.generate(length);
    this.#showPkce(pair);
    return pair;
  }

  // -- vetting ---------------------------------------------------------------------------

  #schedule() {
    clearTimeout(this.#timer);
    if (!this.isConnected) return;
    const first = this.#verdict === null && this.#error === null;
    this.#timer = setTimeout(() => this.#run(), first ? 0 : this.#debounce);
  }

  /** Vet until the input stops changing; never two vets at once (changes meanwhile coalesce). */
  async #run() {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    try {
      do {
        this.#again = false;
        await this.#vetOnce();
      } while (this.#again);
    } finally {
      this.#running = false;
      for (const resolve of this.#waiters.splice(0)) resolve();
    }
  }

  async #vetOnce() {
    let mv;
    try {
      mv = await this.#component();
    } catch (e) {
      this.#fail(e);
      return;
    }
    const text = this.#text;
    const policyText = this.#policyText;
    const waiversText = this.#waiversText;
    // The page's current day: a waiver applies through its last day, so the next day vets again.
    const today = utcDay();
    const last = this.#last;
    if (last !== null && last.text === text && last.policy === policyText && last.waivers === waiversText && last.today === today && last.mv === mv) return;
    this.#last = { text, policy: policyText, waivers: waiversText, today, mv };
    let policy;
    try {
      policy = policyFor(mv, policyText, waiversText);
    } catch (e) {
      if (!(e instanceof MicrovetError)) this.#last = null;
      this.#fail(e);
      return;
    }
    let verdict;
    const t0 = performance.now();
    try {
      verdict = policy.vet(text, { today });
    } catch (e) {
      if (!(e instanceof MicrovetError)) this.#last = null;
      this.#fail(e);
      return;
    }
    const ms = performance.now() - t0;
    this.#verdict = verdict;
    this.#error = null;
    this.#render(verdict, ms, policy.name);
    if (!firstVerdictMarked && typeof performance.mark === 'function') {
      firstVerdictMarked = true;
      performance.mark('microvet-panel:first-verdict');
    }
    this.#emit('microvet-verdict', verdict);
  }

  #fail(error) {
    this.#error = error;
    this.#renderError(error);
    this.#emit('microvet-error', error);
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  // -- rendering -------------------------------------------------------------------------

  #skeleton() {
    const badgeIcon = h('span', { class: 'badge-icon', 'aria-hidden': 'true' }, h('span', {}, '…'));
    const badgeText = h('span', { class: 'badge-text' }, 'Loading engine…');
    const badge = h('div', { class: 'badge', part: 'badge', dataset: { decision: 'pending' } }, badgeIcon, badgeText);
    const scoreNum = h('span', { class: 'score-num' }, '–');
    const tier = h('span', { class: 'tier' }, 'risk');
    const score = h('div', { class: 'score', part: 'score' }, scoreNum, h('span', { class: 'score-max' }, ' / 100'), tier);
    const meter = h('div', { class: 'meter', 'aria-hidden': 'true' });
    // What screen readers hear (politely, only when it changes); the summary is what sighted users see.
    const status = h('p', { class: 'sr', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' }, 'Loading the vetting engine…');
    const summary = h('p', { class: 'summary', 'aria-hidden': 'true' }, 'Loading the vetting engine…');
    // Shown only when the component could not be loaded (a network error, a 404): load again.
    const retry = h('button', { type: 'button', class: 'retry', part: 'retry', hidden: true, onclick: () => this.#retry() }, 'Retry');
    const head = h('header', { class: 'head', part: 'head' }, h('div', { class: 'head-row' }, badge, retry, score), meter, summary, status);

    const factorsCount = h('span', { class: 'count' });
    const factors = h('ol', { class: 'factors scroll', tabindex: '0', 'aria-label': 'Risk factors' });
    const risk = h('section', { class: 'section risk', part: 'risk', 'aria-labelledby': 'mv-risk-title' },
      h('h3', { class: 'section-title', id: 'mv-risk-title' }, 'Risk factors', factorsCount), factors);

    const findingsCount = h('span', { class: 'count' });
    const findings = h('div', { class: 'findings scroll', tabindex: '-1', 'aria-labelledby': 'mv-findings-title' });
    const findingsSection = h('section', { class: 'section findings-section', part: 'findings', 'aria-labelledby': 'mv-findings-title' },
      h('h3', { class: 'section-title', id: 'mv-findings-title' }, 'Findings', findingsCount), findings);

    // Shown when the panel has waivers, or the verdict lists waived findings (the policy's own waivers).
    const waivedCount = h('span', { class: 'count' });
    const waived = h('ul', { class: 'waived' });
    const waivedSection = h('section', { class: 'section waived-section', part: 'waived', hidden: true, 'aria-labelledby': 'mv-waived-title' },
      h('h3', { class: 'section-title', id: 'mv-waived-title' }, 'Waived', waivedCount, h('span', { class: 'waived-hint' }, '· not counted in the decision')),
      h('div', { class: 'scroll', tabindex: '0', 'aria-labelledby': 'mv-waived-title' }, waived,
        h('p', { class: 'waived-note' }, 'A waiver is an exception approved for this exact manifest until its expiry date: any edit to the manifest ends it.')));

    const controlsCount = h('span', { class: 'count' });
    const controls = h('dl', { class: 'scroll', tabindex: '0', 'aria-label': 'Controls' });
    const controlsSection = h('section', { class: 'section controls', part: 'controls', 'aria-labelledby': 'mv-controls-title' },
      h('h3', { class: 'section-title', id: 'mv-controls-title' }, 'Controls', controlsCount), controls);

    const verifier = h('code', { class: 'pkce-value verifier', id: 'mv-verifier' }, '—');
    const challenge = h('code', { class: 'pkce-value one', id: 'mv-challenge' }, '—');
    const method = h('span', { id: 'mv-method' }, '—');
    const copy = (what, el) =>
      h('button', { type: 'button', class: 'copy', disabled: true, 'aria-label': `Copy ${what}`, dataset: { copy: what }, onclick: (e) => this.#copy(e.currentTarget, el) }, 'Copy');
    const copyVerifier = copy('verifier', verifier);
    const copyChallenge = copy('challenge', challenge);
    // Enabled once the engine is loaded (it makes the pair).
    const generate = h('button', { type: 'button', class: 'generate', part: 'pkce-generate', disabled: true, onclick: () => this.generatePkce().catch((e) => this.#fail(e)) }, 'Generate PKCE pair');
    const pkce = h('section', { class: 'section pkce', part: 'pkce', 'aria-labelledby': 'mv-pkce-title' },
      h('div', { class: 'section-title' }, h('h3', { id: 'mv-pkce-title', class: 'section-title' }, 'PKCE test pair ', h('span', { class: 'method' }, 'method ', method)), generate),
      h('dl', { class: 'pkce-out', 'aria-live': 'polite' },
        h('dt', {}, 'Verifier'), h('dd', {}, verifier), h('dd', {}, copyVerifier),
        h('dt', {}, 'Challenge'), h('dd', {}, challenge), h('dd', {}, copyChallenge)));

    const foot = h('footer', { class: 'foot', part: 'footer' }, '\u00a0');
    const panel = h('div', { class: 'panel', part: 'panel', role: 'region', 'aria-label': 'microvet policy check' },
      head, risk, findingsSection, waivedSection, controlsSection, pkce, foot);
    return {
      panel, badge, badgeIcon, badgeText, scoreNum, tier, meter, status, summary, factors, factorsCount, findings, findingsCount,
      waived, waivedCount, waivedSection, controls, controlsCount, verifier, challenge, method, copyVerifier, copyChallenge, generate, foot, retry,
    };
  }

  /** Set text only when it changed (no needless DOM writes or screen-reader announcements). */
  #set(el, text) {
    if (el.textContent !== text) el.textContent = text;
  }

  #render(v, ms, policyName) {
    const ui = this.#ui;
    const d = DECISIONS[v.decision] ?? { label: v.decision, icon: '?' };
    ui.badge.dataset.decision = v.decision;
    this.#set(ui.badgeText, d.label);
    this.#set(ui.badgeIcon.firstChild, d.icon);
    this.#set(ui.scoreNum, String(v.risk.score));
    this.#set(ui.tier, `${v.risk.tier} risk`);
    this.setAttribute('decision', v.decision);
    const n = v.findings.length;
    const fixes = v.findings.filter((f) => f.fix).length;
    const waived = v.waived ?? [];
    delete ui.summary.dataset.error;
    delete ui.panel.dataset.stale;
    ui.generate.disabled = false;
    ui.retry.hidden = true;
    for (const b of ui.findings.querySelectorAll('button.fix')) b.disabled = false;
    this.#summary(v.findings, waived.length);
    this.#set(ui.status,
      `${d.label}. Risk ${v.risk.score} of 100 (${v.risk.tier}). ${n === 0 ? 'No findings' : `${n} finding${n === 1 ? '' : 's'}`}` +
      `${fixes ? `, ${fixes} with a one-click fix` : ''}` +
      `${waived.length ? `; ${waived.length} waived (not counted)` : ''}; ${v.controls.length} control${v.controls.length === 1 ? '' : 's'}.`);

    const sig = (x) => JSON.stringify(x);
    const shown = this.#shown;
    if (shown.factors !== sig(v.risk.factors)) {
      shown.factors = sig(v.risk.factors);
      this.#renderFactors(v.risk);
    }
    if (shown.findings !== sig(v.findings)) {
      shown.findings = sig(v.findings);
      this.#renderFindings(v.findings);
    }
    if (shown.waived !== sig([this.#waiversText !== undefined, waived])) {
      shown.waived = sig([this.#waiversText !== undefined, waived]);
      this.#renderWaived(waived);
    }
    if (shown.controls !== sig([v.decision, v.controls])) {
      shown.controls = sig([v.decision, v.controls]);
      this.#renderControls(v.controls, v.decision);
    }
    this.#set(ui.foot, `${v.engine} · ${policyName} policy · vetted in ${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms · manifest ${v.manifest_sha256.slice(0, 12)}`);
    ui.foot.title = `manifest sha256 ${v.manifest_sha256}\npolicy sha256 ${v.policy_sha256}`;
  }

  /** Findings per severity, how many have a one-click fix, and how many are waived. */
  #summary(findings, waived) {
    const key = JSON.stringify([findings.map((f) => [f.severity, Boolean(f.fix)]), waived]);
    if (this.#shown.summary === key) return;
    this.#shown.summary = key;
    const parts = [];
    for (const sev of Object.keys(SEVERITY)) {
      const n = findings.filter((f) => f.severity === sev).length;
      if (n) parts.push(h('span', { class: 'tally', dataset: { severity: sev } }, h('span', { 'aria-hidden': 'true' }, SEVERITY[sev]), `${n} ${sev}`));
    }
    const fixable = findings.filter((f) => f.fix).length;
    if (fixable) parts.push(h('span', { class: 'tally fixable' }, `${fixable} one-click fix${fixable === 1 ? '' : 'es'}`));
    if (parts.length === 0) parts.push(h('span', { class: 'tally' }, '✓ No findings'));
    if (waived) parts.push(h('span', { class: 'tally waived-tally' }, `${waived} waived`));
    this.#ui.summary.replaceChildren(...parts);
  }

  #renderFactors(risk) {
    const ui = this.#ui;
    // Largest contribution first (ties keep the engine's order): the +88 is never sixth.
    risk = { ...risk, factors: risk.factors.map((f, i) => ({ f, i })).sort((a, b) => b.f.points - a.f.points || a.i - b.i).map((x) => x.f) };
    const total = Math.max(100, risk.factors.reduce((a, f) => a + f.points, 0));
    ui.meter.replaceChildren(...risk.factors.map((f, i) => {
      const s = h('span');
      s.style.width = `${(100 * f.points) / total}%`;
      s.style.background = FACTOR_COLORS[i % FACTOR_COLORS.length];
      return s;
    }));
    this.#set(ui.factorsCount, `${risk.factors.length}`);
    if (risk.factors.length === 0) {
      ui.factors.replaceChildren(h('li', { class: 'empty' }, 'No risk factors.'));
      return;
    }
    ui.factors.replaceChildren(...risk.factors.map((f, i) => {
      const sw = h('span', { class: 'swatch', 'aria-hidden': 'true' });
      sw.style.background = FACTOR_COLORS[i % FACTOR_COLORS.length];
      return h('li', { dataset: { factor: f.factor } }, sw, h('span', { class: 'pts' }, `+${f.points}`),
        h('span', { class: 'factor-text' }, h('span', { class: 'factor-name' }, f.factor.replaceAll('-', ' ')), h('span', { class: 'factor-reason' }, ` — ${f.reason}`)));
    }));
  }

  #renderFindings(findings) {
    const ui = this.#ui;
    const hadFocus = this.shadowRoot.activeElement;
    this.#set(ui.findingsCount, `${findings.length}`);
    if (findings.length === 0) {
      ui.findings.replaceChildren(h('p', { class: 'empty' }, '✓ No findings.'));
      return;
    }
    const groups = new Map();
    for (const f of findings) {
      const key = fieldOf(f.path);
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(f);
    }
    const sections = [];
    let gi = 0;
    for (const [field, list] of groups) {
      const id = `mv-group-${gi++}`;
      sections.push(h('section', { class: 'group', 'aria-labelledby': id, dataset: { field } },
        h('h4', { class: 'group-title', id, title: field ? `manifest field ${field}` : null }, Object.hasOwn(FIELD_LABELS, field) ? FIELD_LABELS[field] : label(field),
          h('span', { class: 'path' }, `· ${list.length}`)),
        h('ul', {}, list.map((f) => this.#finding(f)))));
    }
    ui.findings.replaceChildren(...sections);
    if (hadFocus && !this.shadowRoot.activeElement) ui.findings.focus({ preventScroll: true });
  }

  /** A finding's first row: severity, where (a button that asks the host to show it), rule. */
  #findingTop(f) {
    const icon = SEVERITY[f.severity] ?? '?';
    const where = plainPath(f.path);
    return h('div', { class: 'f-top' },
      h('span', { class: 'sev', dataset: { severity: f.severity } }, h('span', { 'aria-hidden': 'true' }, icon), label(f.severity)),
      h('button', {
        type: 'button', class: 'loc',
        'aria-label': `Show ${where}${f.line ? `, line ${f.line}` : ''}`,
        onclick: () => this.#emit('microvet-locate', { path: f.path, line: f.line ?? null, rule: f.rule }),
      }, f.line ? `${where} · line ${f.line}` : where),
      h('span', { class: 'rule mono', title: `rule ${f.rule}; at ${displayPath(f.path) || '(the manifest)'}` }, f.rule));
  }

  #finding(f) {
    const item = h('li', { class: 'finding', dataset: { severity: f.severity, rule: f.rule, path: f.path } }, this.#findingTop(f), h('p', { class: 'msg' }, ...rich(f.message)));
    if (f.fix) {
      const err = h('p', { class: 'fix-error', role: 'alert', hidden: true });
      const button = h('button', {
        type: 'button', class: 'fix', 'aria-label': `Apply fix: ${f.fix.description}`,
        onclick: (ev) => {
          // Keyboard users land on the next fix (same position in the new list), else on the list.
          const index = [...this.#ui.findings.querySelectorAll('button.fix')].indexOf(ev.currentTarget);
          this.applyFix(f.fix, f).then(
            () => {
              const fixes = this.#ui.findings.querySelectorAll('button.fix');
              (fixes[Math.min(index, fixes.length - 1)] ?? this.#ui.findings).focus({ preventScroll: true });
            },
            (e) => {
              if (e instanceof MicrovetError) return;
              err.hidden = false;
              err.textContent = `could not apply the fix here: ${e.message}`;
            },
          );
        },
      }, 'Apply fix');
      item.append(h('div', { class: 'fix-row' }, h('p', { class: 'fix-desc' }, 'Fix: ', ...rich(f.fix.description)), button), err);
    }
    return item;
  }

  /** Waived findings, each with its waiver: who approved it, why, and until when. */
  #renderWaived(waived) {
    const ui = this.#ui;
    ui.waivedSection.hidden = this.#waiversText === undefined && waived.length === 0;
    this.#set(ui.waivedCount, `${waived.length}`);
    if (waived.length === 0) {
      ui.waived.replaceChildren(h('li', { class: 'empty' }, 'No finding is waived for this manifest.'));
      return;
    }
    ui.waived.replaceChildren(...waived.map((w) =>
      h('li', { class: 'waived-item', dataset: { severity: w.severity, rule: w.rule, path: w.path, waiver: w.waiver.id } },
        this.#findingTop(w),
        h('p', { class: 'msg' }, ...rich(w.message)),
        h('p', { class: 'waiver' },
          h('span', { class: 'waiver-id mono' }, `Waiver ${w.waiver.id}`),
          ` · approved by ${w.waiver.approved_by} · valid through ${w.waiver.expires}`),
        h('p', { class: 'waiver-reason' }, 'Reason: ', ...rich(w.waiver.reason)))));
  }

  #renderControls(controls, decision) {
    const ui = this.#ui;
    this.#set(ui.controlsCount, `${controls.length}`);
    if (!PUBLISHABLE.includes(decision)) {
      // Controls come with an approval: an app that cannot be approved yet gets none.
      ui.controls.replaceChildren(h('div', { class: 'controls-note' },
        controls.length
          ? `None yet: ${controls.length === 1 ? 'a control applies' : `${controls.length} controls apply`} once the findings above are fixed and the app is approved.`
          : 'None yet: controls are set when the app is approved.'));
      return;
    }
    if (controls.length === 0) {
      ui.controls.replaceChildren(h('div', { class: 'empty' }, 'No controls required.'));
      return;
    }
    ui.controls.replaceChildren(...controls.map((c) =>
      h('div', { class: 'control', dataset: { control: c.control } },
        h('dt', { class: 'control-name' }, Object.hasOwn(CONTROL_LABELS, c.control) ? CONTROL_LABELS[c.control] : label(c.control)), ' ',
        h('dd', { class: 'control-value' }, `${formatValue(c.value)} `),
        h('dd', { class: 'control-id mono' }, `(${c.control})`),
        h('dd', { class: 'control-reason' }, ` — ${c.reason}`))));
  }

  #renderError(e) {
    const ui = this.#ui;
    ui.badge.dataset.decision = 'error';
    this.#set(ui.badgeText, e instanceof MicrovetError ? 'Cannot vet' : 'Engine unavailable');
    // The input cannot be vetted: the engine works (PKCE too). The engine failed: offer Retry.
    const engineFailed = !(e instanceof MicrovetError);
    ui.retry.hidden = !engineFailed;
    ui.generate.disabled = engineFailed;
    this.#set(ui.badgeIcon.firstChild, '✕');
    this.#set(ui.scoreNum, '–');
    this.#set(ui.tier, 'not vetted');
    ui.panel.dataset.stale = '';
    for (const b of ui.findings.querySelectorAll('button.fix')) b.disabled = true;
    this.setAttribute('decision', 'error');
    ui.summary.dataset.error = '';
    this.#shown.summary = null;
    const at = e.line ? ` (line ${e.line}${e.column ? `:${e.column}` : ''})` : '';
    const what = settingsErrors.get(e) ?? (e instanceof MicrovetError ? 'Cannot vet' : 'Could not load the policy check (Retry)');
    this.#set(ui.status, `${what}${at}: ${e.message}${e.help ? ` — ${e.help}` : ''}`);
    this.#set(ui.summary, ui.status.textContent);
  }

  /** Load the engine again (a failed load is not cached) and vet. */
  #retry() {
    this.#ui.retry.hidden = true;
    this.#set(this.#ui.badgeText, 'Loading engine…');
    this.#last = null;
    this.#error = null;
    if (this.#hasInput) {
      this.vet().catch(() => {});
    } else {
      this.#component().then(
        () => {
          this.#ui.generate.disabled = false;
          this.#ui.panel.removeAttribute('data-stale');
          this.#set(this.#ui.badgeText, 'Ready');
        },
        (err) => this.#fail(err),
      );
    }
  }

  #showPkce(pair) {
    const ui = this.#ui;
    ui.verifier.textContent = pair.verifier;
    ui.challenge.textContent = pair.challenge;
    ui.method.textContent = pair.method;
    ui.copyVerifier.disabled = false;
    ui.copyChallenge.disabled = false;
  }

  async #copy(button, el) {
    const text = el.textContent;
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      const range = document.createRange();
      range.selectNodeContents(el);
      const sel = this.shadowRoot.getSelection?.() ?? getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      document.execCommand?.('copy');
    }
    button.textContent = 'Copied';
    setTimeout(() => {
      button.textContent = 'Copy';
    }, 1500);
  }
}

/** Register `<microvet-panel>` (done on import in browsers; safe to call again). */
export function define(name = 'microvet-panel') {
  if (typeof customElements === 'undefined') return;
  if (!customElements.get(name)) customElements.define(name, name === 'microvet-panel' ? MicrovetPanel : class extends MicrovetPanel {});
}

define();
