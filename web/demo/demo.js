// The "App settings" screen of a pretend no-code builder, wired to <microvet-panel>.
//
// The YAML text is the one source of truth. The form is a view of it: editing a field
// turns into a JSON Patch operation that the component applies to the YAML in place
// (`applyFix`: comments and layout kept), editing the YAML refreshes the form, and the
// panel's one-click fixes come back as `microvet-fix` events carrying the new text. No
// bundler, no network beyond this origin.
import { applyFix, parseYaml, pointerTokens, PUBLISHABLE } from '../dist/panel.js';

const EXAMPLE_URL = new URL('../../examples/hr-onboarding-helper.yaml', import.meta.url);
const GRANTS = ['authorization_code', 'refresh_token', 'client_credentials', 'implicit', 'password'];
const SEVERITY_RANK = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };

const $ = (sel, root = document) => root.querySelector(sel);
const form = $('#settings');
const yaml = $('#yaml');
const gutter = $('#gutter');
const yamlState = $('#yaml-state');
const panel = $('#panel');
const publish = $('#publish');
const publishReason = $('#publish-reason');
const toast = $('#toast');
const jump = $('#jump');
const jumpText = $('#jump-text');

/** The manifest text, and the last data the form could read from it. */
const state = { text: '', data: {}, example: '' };

// ---------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------

function get(data, path) {
  let v = data;
  for (const t of pointerTokens(path)) {
    if (v === null || typeof v !== 'object') return undefined;
    v = Array.isArray(v) ? v[Number(t)] : Object.hasOwn(v, t) ? v[t] : undefined;
  }
  return v;
}

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  el.append(...children.flat().filter((c) => c !== null && c !== undefined));
  return el;
}

/** `text with \`code\`` → nodes. */
function rich(text) {
  return String(text).split('`').map((part, i) => (i % 2 ? h('code', {}, part) : part));
}

function say(message) {
  toast.replaceChildren(...rich(message));
  toast.classList.add('show');
  clearTimeout(say.timer);
  say.timer = setTimeout(() => toast.classList.remove('show'), 3000);
}

// ---------------------------------------------------------------------------------------
// Text ⇄ form
// ---------------------------------------------------------------------------------------

/** Set the manifest text everywhere (textarea, line numbers, panel) and refresh the form. */
function setText(text, { fromYaml = false, refreshForm = true } = {}) {
  state.text = text;
  if (!fromYaml && yaml.value !== text) yaml.value = text;
  renderGutter();
  panel.manifest = text;
  try {
    state.data = parseYaml(text) ?? {};
    if (typeof state.data !== 'object' || Array.isArray(state.data)) state.data = {};
    yamlState.textContent = fromYaml ? 'Edited by hand · form updated' : 'Synced with the form';
    delete yamlState.dataset.warn;
    if (refreshForm) renderForm();
  } catch (e) {
    yamlState.textContent = `The form cannot show this YAML yet: ${e.message}`;
    yamlState.dataset.warn = '';
  }
}

/**
 * One form edit as a JSON Patch operation on the text: `undefined` removes the member,
 * a missing parent (say `instrumentation`) is created with the value inside it.
 */
let editing = Promise.resolve();
function edit(path, value, options) {
  // One at a time, each on the text the previous one left (the component is async to load).
  editing = editing.then(() => editNow(path, value, options));
  return editing;
}

async function editNow(path, value, { refreshForm = false } = {}) {
  const tokens = pointerTokens(path);
  let op;
  if (value === undefined) {
    if (get(state.data, path) === undefined) return;
    op = { op: 'remove', path };
  } else {
    // The nearest missing ancestor gets the nested value.
    let i = 1;
    while (i < tokens.length && get(state.data, `/${tokens.slice(0, i).join('/')}`) !== undefined) i++;
    if (i < tokens.length) {
      let nested = value;
      for (let j = tokens.length - 1; j >= i; j--) nested = { [tokens[j]]: nested };
      op = { op: 'add', path: `/${tokens.slice(0, i).join('/')}`, value: nested };
    } else {
      const exists = get(state.data, path) !== undefined;
      op = { op: exists ? 'replace' : 'add', path, value };
    }
  }
  let text;
  try {
    text = await applyFix(state.text, op);
  } catch (e) {
    // The YAML cannot be read right now (mid-edit by hand): it says where.
    say(`Cannot change ${path}: ${e.message}`);
    return;
  }
  setText(text, { refreshForm });
}

function readControl(el) {
  const kind = el.dataset.kind;
  if (kind === 'bool') return el.checked;
  if (kind === 'bool3') return el.value === '' ? undefined : el.value === 'true';
  if (kind === 'int') {
    if (el.value === '') return undefined;
    const n = Number(el.value);
    return Number.isInteger(n) ? n : el.value;
  }
  if (kind === 'item') return el.value;
  return el.value === '' ? undefined : el.value;
}

function writeControl(el, v) {
  if (el === document.activeElement) return;
  if (el.dataset.kind === 'bool') el.checked = v === true;
  else if (el.dataset.kind === 'bool3') el.value = v === true ? 'true' : v === false ? 'false' : '';
  else if (el.tagName === 'SELECT') {
    const s = v === undefined || v === null ? '' : String(v);
    if (![...el.options].some((o) => o.value === s)) el.append(h('option', { value: s }, s));
    el.value = s;
  } else el.value = v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
}

const asList = (v) => (Array.isArray(v) ? v : []);

function removeButton(path, label) {
  return h('button', { type: 'button', class: 'icon', 'data-remove': path, 'aria-label': label, title: label }, '✕');
}

function renderRows() {
  const d = state.data;
  const data = asList(d.data_access);
  $('#data-rows').replaceChildren(...data.map((item, i) => {
    const type = item && typeof item === 'object' ? item.type : item;
    const access = item && typeof item === 'object' ? item.access : undefined;
    const base = `/data_access/${i}`;
    const typePath = item && typeof item === 'object' ? `${base}/type` : base;
    return h('li', { class: 'row', 'data-path': base },
      h('input', { type: 'text', list: 'known-data', value: type ?? '', 'data-path': typePath, 'data-kind': 'item', 'aria-label': `Data type ${i + 1}`, spellcheck: 'false' }),
      h('select', { 'data-path': `${base}/access`, 'data-kind': 'enum', 'aria-label': `Access to data type ${i + 1}` },
        h('option', { value: '' }, 'read (default)'), h('option', { value: 'read' }, 'read'), h('option', { value: 'write' }, 'write')),
      removeButton(base, `Remove data type ${type ?? i + 1}`));
  }));
  data.forEach((item, i) => {
    const sel = $(`select[data-path="/data_access/${i}/access"]`);
    writeControl(sel, item && typeof item === 'object' ? item.access : undefined);
  });

  const list = (id, key, label, type = 'text') =>
    $(id).replaceChildren(...asList(get(d, key)).map((v, i) =>
      h('li', { class: 'row' },
        h('input', { type, value: v ?? '', 'data-path': `${key}/${i}`, 'data-kind': 'item', 'aria-label': `${label} ${i + 1}`, spellcheck: 'false' }),
        removeButton(`${key}/${i}`, `Remove ${label.toLowerCase()} ${v || i + 1}`))));
  list('#sink-rows', '/external_sinks', 'Sink');
  list('#redirect-rows', '/client/redirect_uris', 'Redirect URI', 'url');

  $('#dep-rows').replaceChildren(...asList(d.third_party_deps).map((dep, i) => {
    const base = `/third_party_deps/${i}`;
    const o = dep && typeof dep === 'object' ? dep : {};
    const dpa = h('select', { 'data-path': `${base}/dpa`, 'data-kind': 'bool3', 'aria-label': `DPA signed for dependency ${i + 1}` },
      h('option', { value: '' }, 'DPA: ?'), h('option', { value: 'true' }, 'DPA signed'), h('option', { value: 'false' }, 'No DPA'));
    dpa.value = o.dpa === true ? 'true' : o.dpa === false ? 'false' : '';
    return h('li', { class: 'row dep', 'data-path': base },
      h('input', { type: 'text', value: o.name ?? '', placeholder: 'name', 'data-path': `${base}/name`, 'data-kind': 'string', 'aria-label': `Dependency ${i + 1} name`, spellcheck: 'false' }),
      h('input', { type: 'text', value: o.vendor ?? '', placeholder: 'vendor.com', 'data-path': `${base}/vendor`, 'data-kind': 'string', 'aria-label': `Dependency ${i + 1} vendor`, spellcheck: 'false' }),
      dpa,
      removeButton(base, `Remove dependency ${o.name ?? i + 1}`));
  }));

  const scopes = asList(d.oauth_scopes);
  $('#scope-chips ul').replaceChildren(...scopes.map((s, i) =>
    h('li', { class: 'chip', 'data-path': `/oauth_scopes/${i}` }, h('span', {}, String(s)), removeButton(`/oauth_scopes/${i}`, `Remove scope ${s}`))));

  const grants = asList(get(d, '/client/grant_types'));
  const names = [...GRANTS, ...grants.filter((g) => !GRANTS.includes(g))];
  $('#grant-checks').replaceChildren(...names.map((g) => {
    const i = grants.indexOf(g);
    return h('label', { class: 'check' },
      h('input', { type: 'checkbox', value: g, checked: i >= 0, 'data-grant': '', 'data-path': i >= 0 ? `/client/grant_types/${i}` : null }), h('span', {}, g));
  }));
}

/**
 * Fill every control from `state.data`. List rows and chips are rebuilt, so a list always
 * shows exactly the manifest's items (an item removed leaves no row behind, one added by
 * Enter shows its chip); focus goes back to the control at the same path. The control
 * being typed in is left alone.
 */
function renderForm() {
  const active = document.activeElement;
  const activePath = active?.closest('.rows, .chips, .checks') ? active.dataset.path : undefined;
  renderRows();
  if (activePath && !document.activeElement?.closest('form')) {
    form.querySelector(`[data-path="${CSS.escape(activePath)}"]`)?.focus({ preventScroll: true });
  }
  for (const el of form.querySelectorAll('[data-path][data-kind]')) {
    if (!el.closest('.rows')) writeControl(el, get(state.data, el.dataset.path));
  }
  const name = get(state.data, '/name');
  $('#crumb-app').textContent = typeof name === 'string' && name ? name : 'untitled app';
  if (lastVerdict) highlight(lastVerdict);
}

// ---------------------------------------------------------------------------------------
// Form events
// ---------------------------------------------------------------------------------------

form.addEventListener('input', (e) => {
  const el = e.target;
  if (!(el instanceof HTMLElement) || !el.dataset.kind || !el.dataset.path) return;
  if (el.dataset.kind === 'bool' || el.tagName === 'SELECT') return; // handled on change
  edit(el.dataset.path, readControl(el));
});

form.addEventListener('change', (e) => {
  const el = e.target;
  if (!(el instanceof HTMLElement)) return;
  if (el.hasAttribute('data-grant')) {
    const current = asList(get(state.data, '/client/grant_types'));
    const next = el.checked ? [...current.filter((g) => g !== el.value), el.value] : current.filter((g) => g !== el.value);
    edit('/client/grant_types', next, { refreshForm: true });
    $(`#grant-checks input[value="${CSS.escape(el.value)}"]`)?.focus();
    return;
  }
  if (el.dataset.kind === 'bool' || el.tagName === 'SELECT') edit(el.dataset.path, readControl(el));
});

form.addEventListener('click', (e) => {
  const button = e.target instanceof Element ? e.target.closest('button') : null;
  if (!button) return;
  if (button.dataset.remove) {
    const list = button.closest('[data-list], .chips');
    edit(button.dataset.remove, undefined, { refreshForm: true });
    (list?.querySelector('button[data-remove]') ?? list?.parentElement?.querySelector('button.add, input'))?.focus();
  } else if (button.dataset.add) {
    const path = button.dataset.add;
    const empty = path === '/data_access' ? { type: '' } : path === '/third_party_deps' ? { name: '', vendor: '' } : '';
    if (!Array.isArray(get(state.data, path))) edit(path, [empty], { refreshForm: true });
    else edit(`${path}/-`, empty, { refreshForm: true });
    $(`[data-list="${path}"]`)?.lastElementChild?.querySelector('input')?.focus();
  }
});

$('#f-scope-new').addEventListener('keydown', (e) => {
  if (e.key !== 'Enter') return;
  e.preventDefault();
  const input = e.currentTarget;
  const scope = input.value.trim();
  if (!scope) return;
  const scopes = get(state.data, '/oauth_scopes');
  if (Array.isArray(scopes)) edit('/oauth_scopes/-', scope, { refreshForm: true });
  else edit('/oauth_scopes', [scope], { refreshForm: true });
  input.value = '';
});

// ---------------------------------------------------------------------------------------
// The YAML view
// ---------------------------------------------------------------------------------------

/**
 * Line numbers, one block per line of the text (no newlines inside them, so a marked line
 * is exactly as tall as the others); `errorLine` is marked (a syntax error the component
 * reported, see `errorLineIn`).
 */
function renderGutter(errorLine = 0) {
  const n = state.text.split('\n').length;
  const key = `${n}:${errorLine}`;
  if (gutter.dataset.key === key) return;
  gutter.dataset.key = key;
  gutter.replaceChildren(...Array.from({ length: n }, (_, i) =>
    h('span', { class: i + 1 === errorLine ? 'err' : null }, String(i + 1))));
}

/**
 * The line to mark for a syntax error: the reported one, except that an error the parser
 * only noticed at the end of the text (an unclosed bracket or quote: reported on the line
 * after the last one, or on an empty last line) is marked on the last line that has text.
 */
function errorLineIn(text, line, column) {
  const lines = text.split('\n');
  const atEnd = line > lines.length || (line === lines.length && (column ?? 1) <= 1 && lines[line - 1].trim() === '');
  if (!atEnd) return line;
  let last = lines.length;
  while (last > 1 && lines[last - 1].trim() === '') last--;
  return last;
}

yaml.addEventListener('input', () => setText(yaml.value, { fromYaml: true }));
yaml.addEventListener('scroll', () => {
  gutter.scrollTop = yaml.scrollTop;
});

function selectLine(line) {
  const lines = state.text.split('\n');
  const start = lines.slice(0, line - 1).reduce((a, l) => a + l.length + 1, 0);
  yaml.focus();
  yaml.setSelectionRange(start, start + (lines[line - 1]?.length ?? 0));
  const lh = Number.parseFloat(getComputedStyle(yaml).lineHeight) || 20;
  yaml.scrollTop = Math.max(0, (line - 4) * lh);
}

$('#reset').addEventListener('click', () => {
  setText(state.example);
  say('Back to the example manifest.');
});

// ---------------------------------------------------------------------------------------
// Findings → form fields
// ---------------------------------------------------------------------------------------

let lastVerdict = null;

/** The form control (or row, or group) a JSON pointer points at: the closest one up the path. */
function controlFor(path) {
  const tokens = path === '' ? [] : pointerTokens(path);
  for (let n = tokens.length; n > 0; n--) {
    const p = `/${tokens.slice(0, n).map((t) => t.replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`;
    const el = form.querySelector(`[data-path="${CSS.escape(p)}"]`);
    if (el) return el;
  }
  return null;
}

const hints = new Map();

function highlight(verdict) {
  for (const el of form.querySelectorAll('[data-flag]')) {
    el.removeAttribute('data-flag');
    el.removeAttribute('aria-invalid');
  }
  for (const field of form.querySelectorAll('.field[data-flag-field]')) {
    field.removeAttribute('data-flag-field');
    const hint = field.querySelector(':scope > .hint');
    if (hint && hints.has(hint)) hint.replaceChildren(...hints.get(hint));
  }
  const perField = new Map();
  // Info findings are advice, not problems: they stay in the panel, the field keeps its help.
  for (const f of (verdict?.findings ?? []).filter((x) => x.severity !== 'info')) {
    const el = controlFor(f.path);
    if (!el) continue;
    const rank = SEVERITY_RANK[f.severity] ?? 0;
    if (!el.dataset.flag || SEVERITY_RANK[el.dataset.flag] < rank) el.dataset.flag = f.severity;
    if (rank >= SEVERITY_RANK.low && /^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName)) el.setAttribute('aria-invalid', 'true');
    const field = el.closest('.field');
    if (!field) continue;
    if (!perField.has(field)) perField.set(field, []);
    perField.get(field).push(f);
  }
  // Writes first, then one layout read for all hints, then the buttons (no layout per field).
  const written = [];
  for (const [field, list] of perField) {
    const worst = list.reduce((a, f) => (SEVERITY_RANK[f.severity] > SEVERITY_RANK[a.severity] ? f : a));
    field.dataset.flagField = worst.severity;
    const hint = field.querySelector(':scope > .hint');
    if (!hint) continue;
    if (!hints.has(hint)) hints.set(hint, [...hint.childNodes]);
    hint.replaceChildren(h('span', { class: 'sev-dot', 'aria-hidden': 'true' }), ...rich(worst.message));
    hint.removeAttribute('title');
    hint.removeAttribute('data-open');
    written.push({ hint, others: list.filter((f) => f !== worst) });
    for (const el of field.querySelectorAll('input, select, textarea')) {
      const ids = new Set((el.getAttribute('aria-describedby') ?? '').split(' ').filter(Boolean));
      ids.add(hint.id);
      el.setAttribute('aria-describedby', [...ids].join(' '));
    }
  }
  // What does not fit in a hint's two lines (more findings, a long message) is a click (or
  // Enter) away, not only in a hover tooltip.
  const cut = written.filter(({ hint, others }) => others.length > 0 || hint.scrollHeight > hint.clientHeight + 1);
  for (const { hint, others } of cut) {
    const closed = others.length ? `+${others.length} more` : 'more';
    const more = h('button', { type: 'button', class: 'more', 'aria-expanded': 'false', 'data-more': '' }, closed);
    const rest = h('span', { class: 'more-list', hidden: true }, ...others.flatMap((f) => [h('br'), h('span', { class: 'sev-dot', 'aria-hidden': 'true' }), ...rich(f.message)]));
    more.addEventListener('click', () => {
      const open = more.getAttribute('aria-expanded') !== 'true';
      more.setAttribute('aria-expanded', String(open));
      more.textContent = open ? 'less' : closed;
      rest.hidden = !open;
      hint.toggleAttribute('data-open', open);
    });
    hint.append(rest, ' ', more);
  }
}

// ---------------------------------------------------------------------------------------
// The panel
// ---------------------------------------------------------------------------------------

/**
 * Why Publish is (not) enabled, in words that say what to do. A rejected app is refused as it
 * stands, not for good: every cause is a finding, and most have a one-click fix.
 */
function publishReasonFor(verdict, error = null) {
  if (verdict === null && error !== null && error.name !== 'MicrovetError') return 'Not checked: the policy check could not start (Retry in the panel)';
  if (verdict === null) return 'Not checked: the manifest has an error (see the Manifest box)';
  if (verdict.decision === 'approve') return 'Ready to publish';
  if (verdict.decision === 'approve-with-controls') return 'Ready to publish, with the listed controls';
  const blocking = verdict.findings.filter((f) => f.severity === 'critical' || f.severity === 'high');
  const list = blocking.length ? blocking : verdict.findings;
  const n = list.length;
  const fixable = list.filter((f) => f.fix).length;
  const what = `${n} ${blocking.length ? 'serious ' : ''}problem${n === 1 ? '' : 's'}`;
  const how = fixable === n ? (n === 1 ? ' (it has a one-click fix)' : ' (each has a one-click fix)') : fixable ? ` (${fixable} with a one-click fix)` : '';
  return `Not ready: fix ${what}${how}, then publish`;
}

function setPublish(verdict, decision, error = null) {
  publish.disabled = !PUBLISHABLE.includes(decision);
  publishReason.textContent = publishReasonFor(verdict, error);
  publishReason.dataset.decision = decision;
  jump.dataset.decision = decision;
  jumpText.textContent = publishReason.textContent;
}

panel.addEventListener('microvet-verdict', (e) => {
  lastVerdict = e.detail;
  renderGutter();
  setPublish(e.detail, e.detail.decision);
  highlight(e.detail);
});

panel.addEventListener('microvet-error', (e) => {
  lastVerdict = null;
  const err = e.detail;
  setPublish(null, 'error', err);
  highlight(null);
  if (err?.line) {
    const line = errorLineIn(state.text, err.line, err.column);
    yamlState.textContent = line === err.line
      ? `Error at line ${err.line}${err.column ? `:${err.column}` : ''}: ${err.message}`
      : `Error at the end of the text (after line ${line}): ${err.message}`;
    yamlState.title = err.message;
    yamlState.dataset.warn = '';
    renderGutter(line);
  }
});

panel.addEventListener('microvet-fix', (e) => {
  // The panel already applied the patch to its copy; bring the YAML view and the form along.
  setText(e.detail.manifest);
  say(`Applied: ${e.detail.patch.description ?? `${e.detail.patch.op} ${e.detail.patch.path}`}`);
});

panel.addEventListener('microvet-locate', (e) => {
  const el = controlFor(e.detail.path);
  const target = el && (/^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(el.tagName) ? el : el.querySelector('input, select, textarea, button'));
  if (target) {
    target.scrollIntoView({ block: 'center', behavior: 'smooth' });
    target.focus({ preventScroll: true });
  } else if (e.detail.line) {
    selectLine(e.detail.line);
  }
});

publish.addEventListener('click', () => {
  if (!panel.publishable) return;
  const v = panel.verdict;
  say(`Published ${get(state.data, '/name') ?? 'the app'} (demo: nothing was sent; the server vets again). Manifest ${v.manifest_sha256.slice(0, 12)}.`);
});

// ---------------------------------------------------------------------------------------
// Start: Micro Apps, Macro Risk's example manifest, byte for byte
// ---------------------------------------------------------------------------------------

async function start() {
  try {
    const res = await fetch(EXAMPLE_URL);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    state.example = await res.text();
  } catch (e) {
    state.example = 'name: my-app\nowner: me@example.com\n';
    say(`Could not load the example manifest (${e.message}); starting from a blank app.`);
  }
  setText(state.example);
}

start();
