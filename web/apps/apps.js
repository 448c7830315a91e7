// The inventory page of `microvet serve` (GET /apps): asks for an API token (kept in
// sessionStorage, so only this tab has it), fetches GET /v1/apps, and shows a table with a
// status filter, a 90-day timeline (plain SVG) of client expiries and recertification
// dates, and for one app (#app=NAME) its verdict and events from GET /v1/apps/NAME. The
// "Clients at the identity provider" section posts an IdP export to POST /v1/discover and
// lists the clients under their label (drifted, unvetted, ownerless, built-in, approved).
// Every value from the server is inserted as text, never as HTML.

const KEY = 'microvet.apiToken';
const DAY_MS = 86_400_000;
const WINDOW_DAYS = 90;
const SVG = 'http://www.w3.org/2000/svg';

const $ = (sel) => document.querySelector(sel);
let apps = [];

function token() {
  return sessionStorage.getItem(KEY) || '';
}

function say(text, ok = false) {
  const m = $('#message');
  m.textContent = text;
  m.className = ok ? 'ok' : '';
}

async function api(path, init = {}) {
  const res = await fetch(path, {
    ...init,
    headers: { authorization: `Bearer ${token()}`, ...(init.headers ?? {}) },
    cache: 'no-store',
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    const message = body?.error?.message || `HTTP ${res.status}`;
    throw new Error(res.status === 401 ? `the token was refused: ${message}` : message);
  }
  return body;
}

function day(iso) {
  return iso ? iso.slice(0, 10) : '—';
}

function cell(tr, text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  tr.append(td);
  return td;
}

function renderTable() {
  const filter = $('#status-filter').value;
  const shown = apps.filter((a) => !filter || a.status === filter);
  const body = $('#apps tbody');
  body.replaceChildren();
  for (const a of shown) {
    const tr = document.createElement('tr');
    tr.dataset.name = a.name;
    const name = cell(tr, '');
    const link = document.createElement('a');
    link.href = `#app=${encodeURIComponent(a.name)}`;
    link.textContent = a.name;
    name.append(link);
    const status = cell(tr, '');
    const badge = document.createElement('span');
    badge.className = `status ${a.status}`;
    badge.textContent = a.status;
    status.append(badge);
    cell(tr, a.owner);
    cell(tr, a.decision);
    cell(tr, String(a.score), 'num');
    cell(tr, day(a.expires_at));
    cell(tr, day(a.recertify_by));
    body.append(tr);
  }
  $('#count').textContent = `${shown.length} of ${apps.length} app${apps.length === 1 ? '' : 's'}`;
  renderTimeline(shown);
}

function svg(tag, attrs, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** Expiries (circles) and recertify-by dates (squares) of live apps in the next 90 days. */
function renderTimeline(list) {
  const chart = $('#timeline');
  const title = chart.querySelector('title');
  chart.replaceChildren(title);
  const [left, right, axisY] = [20, 940, 95];
  const start = Date.now();
  const x = (t) => left + ((t - start) / (WINDOW_DAYS * DAY_MS)) * (right - left);
  chart.append(svg('line', { class: 'axis', x1: left, y1: axisY, x2: right, y2: axisY }));
  for (let d = 0; d <= WINDOW_DAYS; d += 15) {
    const t = start + d * DAY_MS;
    chart.append(svg('line', { class: 'axis', x1: x(t), y1: axisY, x2: x(t), y2: axisY + 4 }));
    chart.append(svg('text', { class: 'tick', x: x(t), y: axisY + 16, 'text-anchor': 'middle' }, d === 0 ? 'today' : `+${d}d`));
  }
  let row = 0;
  for (const a of list) {
    if (!['active', 'due', 'pending'].includes(a.status)) continue;
    const marks = [
      ['expiry', Date.parse(a.expires_at), 'expires'],
      ['recertify', Date.parse(a.recertify_by), 'recertify by'],
    ].filter(([, t]) => t >= start && t <= start + WINDOW_DAYS * DAY_MS);
    if (marks.length === 0) continue;
    const y = 14 + (row % 5) * 15;
    row += 1;
    for (const [kind, t, what] of marks) {
      const shape = kind === 'expiry'
        ? svg('circle', { class: 'expiry', cx: x(t), cy: y, r: 5 })
        : svg('rect', { class: 'recertify', x: x(t) - 5, y: y - 5, width: 10, height: 10 });
      shape.dataset.app = a.name;
      shape.dataset.kind = kind;
      shape.append(svg('title', {}, `${a.name} ${what} ${day(new Date(t).toISOString())}`));
      const link = svg('a', { href: `#app=${encodeURIComponent(a.name)}` });
      link.append(shape);
      chart.append(link);
    }
    const first = Math.min(...marks.map(([, t]) => t));
    chart.append(svg('text', { class: 'label', x: Math.min(x(first) + 8, right - 80), y: y + 4 }, a.name));
  }
}

async function showDetail() {
  const m = /^#app=(.+)$/.exec(location.hash);
  const panel = $('#detail');
  if (!m || !token()) {
    panel.hidden = true;
    return;
  }
  let name;
  try {
    name = decodeURIComponent(m[1]);
  } catch {
    panel.hidden = true;
    return;
  }
  try {
    const app = await api(`/v1/apps/${encodeURIComponent(name)}`);
    $('#detail-title').textContent = app.name;
    const facts = $('#detail-facts');
    facts.replaceChildren();
    for (const [k, v] of [
      ['status', app.status], ['owner', app.owner], ['client id', app.client_id ?? '—'],
      ['policy', `${app.policy} (${app.policy_sha256.slice(0, 12)}…)`], ['decision', `${app.decision}, risk ${app.score}`],
      ['registered', app.registered_at ?? '—'], ['expires', app.expires_at], ['recertify by', app.recertify_by],
    ]) {
      const dt = document.createElement('dt');
      dt.textContent = k;
      const dd = document.createElement('dd');
      dd.textContent = v;
      facts.append(dt, dd);
    }
    const findings = $('#detail-findings');
    findings.replaceChildren();
    const list = app.verdict?.findings ?? [];
    if (list.length === 0) {
      const li = document.createElement('li');
      li.textContent = `${app.verdict?.decision ?? app.decision}: no findings`;
      findings.append(li);
    }
    for (const f of list) {
      const li = document.createElement('li');
      li.textContent = `${f.rule} (${f.severity}) ${f.path || '/'}: ${f.message}`;
      findings.append(li);
    }
    const events = $('#detail-events tbody');
    events.replaceChildren();
    for (const e of app.events) {
      const tr = document.createElement('tr');
      cell(tr, e.at);
      cell(tr, e.event);
      cell(tr, e.actor);
      cell(tr, e.detail);
      events.append(tr);
    }
    panel.hidden = false;
  } catch (e) {
    say(e.message);
  }
}

/** The labels in the order a security team reads them: what needs action first. */
const LABELS = ['drifted', 'unvetted', 'ownerless', 'built-in', 'approved'];

function renderDiscovery(report) {
  const s = report.summary;
  const errors = s.errors ? `, ${s.errors} unreadable` : '';
  $('#discover-summary').textContent =
    `${s.clients} client${s.clients === 1 ? '' : 's'}: ${LABELS.map((l) => `${s.labels[l] ?? 0} ${l}`).join(', ')}${errors}.`;
  const out = $('#discover-labels');
  out.replaceChildren();
  for (const label of LABELS) {
    const clients = report.clients.filter((c) => c.labels.includes(label));
    if (clients.length === 0) continue;
    const table = document.createElement('table');
    table.className = 'discovered';
    table.dataset.label = label;
    const caption = document.createElement('caption');
    caption.textContent = `${label} (${clients.length})`;
    const head = document.createElement('tr');
    for (const h of ['Client', 'Labels', 'Decision', 'Risk', 'Differences from the approved app']) {
      const th = document.createElement('th');
      th.scope = 'col';
      th.textContent = h;
      head.append(th);
    }
    const thead = document.createElement('thead');
    thead.append(head);
    const tbody = document.createElement('tbody');
    for (const c of clients) {
      const tr = document.createElement('tr');
      tr.dataset.client = c.client_id ?? '';
      cell(tr, c.name ? `${c.client_id} (${c.name})` : c.client_id ?? '—');
      cell(tr, c.labels.join(', '));
      cell(tr, c.decision);
      cell(tr, String(c.score), 'num');
      cell(tr, c.differences.map((d) => `${d.field} ${d.change}${d.value ? ` ${d.value}` : ''}`).join('; ') || '—');
      tbody.append(tr);
    }
    table.append(caption, thead, tbody);
    out.append(table);
  }
}

async function discover(ev) {
  ev.preventDefault();
  const file = $('#discover-file').files[0];
  if (!file) return;
  $('#discover-summary').textContent = `Vetting the clients of ${file.name}…`;
  $('#discover-labels').replaceChildren();
  try {
    const format = $('#discover-format').value;
    const report = await api(`/v1/discover?from=${encodeURIComponent(format)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: await file.text(),
    });
    renderDiscovery(report);
  } catch (e) {
    $('#discover-summary').textContent = `Discovery failed: ${e.message}`;
  }
}

async function load() {
  if (!token()) {
    $('#inventory').hidden = true;
    $('#discover').hidden = true;
    say('Paste an API token to load the inventory.', true);
    return;
  }
  try {
    apps = await api('/v1/apps');
    $('#inventory').hidden = false;
    $('#discover').hidden = false;
    say(`Loaded ${apps.length} app${apps.length === 1 ? '' : 's'}.`, true);
    renderTable();
    await showDetail();
  } catch (e) {
    $('#inventory').hidden = true;
    $('#discover').hidden = true;
    say(e.message);
  }
}

$('#token-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  sessionStorage.setItem(KEY, $('#token').value.trim());
  $('#token').value = '';
  load();
});
$('#forget').addEventListener('click', () => {
  sessionStorage.removeItem(KEY);
  apps = [];
  $('#detail').hidden = true;
  load();
});
$('#status-filter').addEventListener('change', renderTable);
$('#discover-form').addEventListener('submit', discover);
window.addEventListener('hashchange', showDetail);
load();
