'use strict';
// Beranda: today, 7 and 30 days at a glance, revenue and orders per day, best sellers, stock,
// what waits for the owner; and the CSV exports.

const HOME_DAYS = 30;

async function loadHome() {
  const data = await api('GET', `/reports/overview?days=${HOME_DAYS}`);
  renderHome(data);
}

function statCard(id, title, totals) {
  return h('div', { class: 'card stat', id, dataset: { revenue: totals.revenue, orders: String(totals.orders) } },
    h('h3', { text: title }),
    h('div', { class: 'big', text: rp(totals.revenue) }),
    h('div', { class: 'sub', text: t('home.orders_units', { orders: totals.orders, units: totals.units }) }));
}

function attention(id, count, label, open) {
  return h('button', { id, type: 'button', class: count > 0 ? 'hot' : '', dataset: { count: String(count) },
    on: { click: open } }, h('b', { text: String(count) }), h('span', { text: label }));
}

function renderHome(data) {
  const body = $('home-body');
  const revenueCaption = h('p', { class: 'caption', id: 'home-revenue-caption' });
  const ordersCaption = h('p', { class: 'caption', id: 'home-orders-caption' });
  const revenueChart = h('div', { class: 'chart', id: 'home-revenue-chart' });
  const ordersChart = h('div', { class: 'chart', id: 'home-orders-chart' });
  const stockBox = h('div', { class: 'chart', id: 'home-stock-chart' });
  const best = data.best_sellers || [];
  body.replaceChildren(
    h('div', { class: 'stats', id: 'home-cards' },
      statCard('card-today', t('home.today'), data.totals.today),
      statCard('card-7d', t('home.week'), data.totals.last_7_days),
      statCard('card-30d', t('home.month'), data.totals.last_30_days)),
    h('div', { class: 'attention' },
      attention('home-awaiting', data.awaiting_payment, t('home.awaiting'),
        () => showView('orders', { state: 'awaiting_payment' })),
      attention('home-review', data.in_review, t('home.review'), () => showView('orders', { state: 'review' })),
      attention('home-refund-watch', data.refund_watch, t('home.refund_watch'),
        () => showView('customers', { watch: true }))),
    h('div', { class: 'card' }, h('h3', { text: t('home.revenue_chart', { days: data.days.length }) }),
      revenueChart, revenueCaption),
    h('div', { class: 'card' }, h('h3', { text: t('home.orders_chart', { days: data.days.length }) }),
      ordersChart, ordersCaption),
    h('div', { class: 'card' }, h('h3', { text: t('home.best') }),
      best.length
        ? h('ol', { class: 'rank list', id: 'home-best-sellers' }, best.map((b) => h('li', {},
          h('button', { type: 'button', class: 'row', dataset: { code: b.code }, on: { click: () => openProduct(b.code) } },
            h('span', { text: b.name }),
            h('div', { class: 'meta', text: `${t('home.units', { units: b.units })} · ${rp(b.revenue)}` })))))
        : h('p', { class: 'empty', id: 'home-best-sellers', text: t('home.no_sales') })),
    h('div', { class: 'card' }, h('h3', { text: t('home.stock') }), stockLegend(), stockBox));
  barChart(revenueChart, data.days.map((d) => ({ date: d.date, value: Number(d.revenue), raw: d.revenue, shown: rp(d.revenue) })),
    { axis: rpShort, kind: 'revenue', caption: revenueCaption, label: t('home.revenue_chart', { days: data.days.length }) });
  barChart(ordersChart, data.days.map((d) => ({ date: d.date, value: d.orders,
    shown: t('home.orders_units', { orders: d.orders, units: d.units }) })),
  { axis: (v) => (Number.isInteger(v) ? String(v) : ''), kind: 'orders', caption: ordersCaption,
    label: t('home.orders_chart', { days: data.days.length }) });
  if ((data.stock || []).length) stockChart(stockBox, data.stock, openProduct);
  else stockBox.replaceChildren(h('p', { class: 'empty', text: t('products.none') }));
  body.dataset.today = data.today;
  if (!$('export-from').value && !$('export-to').value) {
    $('export-from').value = showDate(data.today.slice(0, 8) + '01');
    $('export-to').value = showDate(data.today);
  }
}

/** The last CSV the page downloaded, for a test to read: {kind, name, text}. */
window.lastExport = null;

/** Most days one export covers (the API's limit). */
const EXPORT_DAYS_MAX = 366;
/** The files' names, as the engine names them: `pesanan-<from>_<to>.csv`. */
const EXPORT_FILES = { orders: 'pesanan', ledger: 'buku-saldo' };

async function exportCsv(kind) {
  const range = readRange($('export-from'), $('export-to'), true);
  if (range.error) throw new InputError(range.error, 'bad_date');
  const days = (wibMidnightMs(range.to) - wibMidnightMs(range.from)) / DAY_MS + 1;
  if (days > EXPORT_DAYS_MAX) throw new InputError(t('export.too_long', { days: EXPORT_DAYS_MAX }), 'bad_range');
  const path = `/exports/${kind}.csv?from=${range.from}&to=${range.to}`;
  const response = await request('GET', path);
  let text;
  try { text = await response.text(); } catch (error) { throw new NetworkError(String(error)); }
  const name = `${EXPORT_FILES[kind]}-${range.from}_${range.to}.csv`;
  window.lastExport = { kind, name, text };
  const link = h('a', { href: URL.createObjectURL(new Blob([text], { type: 'text/csv' })), download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60000);
  const rows = Math.max(0, text.split('\n').filter((line) => line.trim()).length - 1);
  const status = $('export-status');
  status.textContent = t('export.done', { name, rows });
  status.dataset.file = name;
  status.dataset.rows = String(rows);
  say(t('export.done', { name, rows }), 'ok');
}

$('export-orders').addEventListener('click', (e) => run(() => exportCsv('orders'), e.currentTarget));
$('export-ledger').addEventListener('click', (e) => run(() => exportCsv('ledger'), e.currentTarget));
