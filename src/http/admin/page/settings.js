'use strict';
// Pengaturan: the shop's settings as a labelled form (only what changed is sent, after a
// confirmation listing it), and the audit trail of admin changes.

/** How each known setting is edited; a key the API adds later shows as a text field. */
const SETTING_FIELDS = {
  shop_name: { type: 'text' },
  welcome_message: { type: 'textarea' },
  admin_numbers: { type: 'text', inputmode: 'tel' },
  purchases_per_minute: { type: 'number', min: 1, max: 600 },
  price_minimum: { type: 'money' },
  price_change_confirm_percent: { type: 'number', min: 1, max: 1000 },
  price_confirm_window_secs: { type: 'number', min: 1 },
  refund_watch_percent: { type: 'number', min: 1, max: 100 },
  stock_alert_threshold: { type: 'number', min: 0 },
  daily_summary_hour: { type: 'hour' },
};
const AUDIT_PAGE = 50;
/** Most audit rows the page asks for (the API's list limit); the trail has no cursor. */
const AUDIT_SHOWN_MAX = 500;
let loadedSettings = {};
let auditLimit = AUDIT_PAGE;

/** A setting's value as its field shows it (a list, such as the admin numbers, comma-separated). */
function settingText(key, value) {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.join(', ');
  return SETTING_FIELDS[key]?.type === 'money' ? rp(value).replace(/^Rp/, '') : String(value);
}

function settingControl(key, value) {
  const spec = SETTING_FIELDS[key] || { type: 'text' };
  const props = { id: 'setting-' + key, dataset: { key } };
  if (spec.type === 'textarea') return h('textarea', { ...props, rows: 3, value: settingText(key, value) });
  if (spec.type === 'hour') {
    const select = h('select', props, value === null ? h('option', { value: '', text: t('settings.off') }) : null,
      Array.from({ length: 24 }, (_, hour) => h('option', { value: String(hour), text: `${pad2(hour)}:00 WIB` })));
    select.value = value === null ? '' : String(value);
    return select;
  }
  return h('input', { ...props, value: settingText(key, value),
    inputmode: spec.type === 'number' ? 'numeric' : spec.type === 'money' ? 'decimal' : spec.inputmode,
    type: spec.type === 'number' ? 'number' : 'text', min: spec.min, max: spec.max });
}

async function loadSettings() {
  loadedSettings = await api('GET', '/settings');
  $('shop-name').textContent = loadedSettings.shop_name || 'Warung';
  const known = Object.keys(SETTING_FIELDS).filter((k) => k in loadedSettings);
  const others = Object.keys(loadedSettings).filter((k) => !(k in SETTING_FIELDS));
  $('settings-form').replaceChildren(
    ...[...known, ...others].map((key) => {
      const control = settingControl(key, loadedSettings[key]);
      const hint = t('setting.' + key + '.hint', null, '');
      return h('div', {}, h('label', { for: control.id, text: t('setting.' + key, null, key) }), control,
        hint ? h('div', { class: 'muted', text: hint }) : null);
    }),
    h('button', { type: 'submit', id: 'save-settings', class: 'primary more', text: t('app.save') }));
}

/** The settings that differ from what was loaded, as the API takes them; refuses a bad value. */
function changedSettings() {
  const change = {}, lines = [];
  for (const control of $('settings-form').querySelectorAll('[data-key]')) {
    const key = control.dataset.key, spec = SETTING_FIELDS[key] || { type: 'text' };
    const before = loadedSettings[key], text = control.value.trim();
    let value = spec.type === 'textarea' ? control.value : text;
    if (spec.type === 'money') {
      value = parseRupiah(text);
      if (value === null) throw new InputError(t('settings.bad', { name: t('setting.' + key, null, key), text }), 'bad_setting');
      if (cents(value) === cents(before)) continue;
    } else if (spec.type === 'number' || spec.type === 'hour') {
      if (text === '' && (before === null || before === undefined)) continue;
      if (!/^\d+$/.test(text)) throw new InputError(t('settings.bad', { name: t('setting.' + key, null, key), text }), 'bad_setting');
      value = Number(text);
      if (value === Number(before)) continue;
    } else if (value === settingText(key, before)) {
      continue;
    }
    change[key] = value;
    lines.push(t('settings.change_line', { name: t('setting.' + key, null, key),
      from: spec.type === 'money' ? rp(before) : settingText(key, before),
      to: spec.type === 'money' ? rp(value) : String(value) }));
  }
  return { change, lines };
}

async function saveSettings() {
  const { change, lines } = changedSettings();
  if (!lines.length) return say(t('settings.nothing'));
  if (!(await ask(t('settings.confirm', { changes: lines.join('; ') })))) return;
  const done = await api('PUT', '/settings', change);
  say(t('settings.saved', { count: done.changed.length }));
  await loadSettings();
}

function showSettingsPane(audit) {
  $('tab-shop-settings').setAttribute('aria-pressed', String(!audit));
  $('tab-audit').setAttribute('aria-pressed', String(audit));
  $('settings-form').hidden = audit;
  $('audit-pane').hidden = !audit;
  return audit ? loadAudit(false) : loadSettings();
}

/** "set_price:member" -> "Ubah harga (member)". */
function actionText(action) {
  const [base, detail] = action.split(':');
  const text = t('action.' + base, null, base);
  return detail ? `${text} (${t('buyer.' + detail, null, detail)})` : text;
}

async function loadAudit(more) {
  auditLimit = more ? Math.min(AUDIT_SHOWN_MAX, auditLimit * 2) : AUDIT_PAGE;
  const query = new URLSearchParams({ limit: String(auditLimit) });
  if ($('audit-subject').value.trim()) query.set('subject', $('audit-subject').value.trim());
  const data = await api('GET', '/audit?' + query);
  const list = $('audit-list');
  list.replaceChildren(...data.audit.map((a) => h('div', { class: 'row', dataset: { action: a.action, subject: a.subject } },
    h('div', { class: 'line' }, h('b', { text: actionText(a.action) }), h('span', { class: 'muted', text: a.admin })),
    h('div', { text: `${a.subject}: ${a.before || '—'} → ${a.after || '—'}` }),
    h('div', { class: 'meta', text: [a.reason, wib(a.at_ms)].filter(Boolean).join(' · ') }))));
  if (!data.audit.length) list.append(h('p', { class: 'empty', text: t('app.nothing') }));
  $('audit-more').hidden = data.audit.length < auditLimit || auditLimit >= AUDIT_SHOWN_MAX;
}

$('settings-form').addEventListener('submit', (e) => { e.preventDefault(); run(saveSettings, $('save-settings')); });
$('tab-shop-settings').addEventListener('click', (e) => run(() => showSettingsPane(false), e.currentTarget));
$('tab-audit').addEventListener('click', (e) => run(() => showSettingsPane(true), e.currentTarget));
$('audit-filter').addEventListener('submit', (e) => { e.preventDefault(); run(() => loadAudit(false), $('audit-search')); });
$('audit-more').addEventListener('click', (e) => run(() => loadAudit(true), e.currentTarget));
