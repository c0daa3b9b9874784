'use strict';
// Pesanan: the list, filtered and paged by the API's cursor, and one order's sheet with its
// details, history and actions (cancel, refund, transfer received).

const ORDER_STATES = ['awaiting_payment', 'paid', 'review', 'refunded', 'pending', 'cancelled', 'expired', 'failed'];
const ORDERS_PAGE = 50;
/** The filter the list was loaded with, and the next page's `to` (null: no more). */
let orderQuery = null;
let orderNext = null;

function fillStateSelect() {
  const select = $('order-state');
  const chosen = select.value;
  select.replaceChildren(h('option', { value: '', text: t('orders.any_state') }),
    ...ORDER_STATES.map((s) => h('option', { value: s, text: t('state.' + s) })));
  select.value = chosen;
}

/** Reads the filter form; refuses a bad date before any call. */
function readOrderFilter() {
  const range = readRange($('order-from'), $('order-to'), false);
  if (range.error) throw new InputError(range.error, 'bad_date');
  const query = new URLSearchParams({ limit: String(ORDERS_PAGE) });
  if ($('order-state').value) query.set('state', $('order-state').value);
  if ($('order-customer').value.trim()) query.set('customer', $('order-customer').value.trim());
  if ($('order-product').value.trim()) query.set('product', $('order-product').value.trim().toLowerCase());
  if (range.from) query.set('from', String(wibMidnightMs(range.from)));
  if (range.to) query.set('to', String(wibMidnightMs(range.to, 1)));
  return query;
}

async function loadOrders(more) {
  if (!more) orderQuery = readOrderFilter();
  const query = new URLSearchParams(orderQuery);
  if (more) query.set('to', String(orderNext));
  const list = $('order-list');
  list.dataset.loading = 'true';
  let data;
  try { data = await api('GET', '/orders?' + query); } finally { delete list.dataset.loading; }
  if (!more) list.replaceChildren();
  list.querySelector('.empty')?.remove();
  list.append(...data.orders.map(orderRow));
  if (!list.children.length) list.append(h('p', { class: 'empty', text: t('orders.none') }));
  list.dataset.state = orderQuery.get('state') || '';
  orderNext = data.next_to ?? null;
  $('order-more').hidden = orderNext === null;
}

const isTransferAwaiting = (o) => o.state === 'awaiting_payment' && o.method === 'transfer';

function orderRow(o) {
  return h('div', { class: 'row-wrap', dataset: { order: o.order } },
    h('button', { type: 'button', class: 'row', dataset: { order: o.order, state: o.state, method: o.method },
      on: { click: () => openOrder(o.order) } },
    h('div', { class: 'line' }, h('b', { text: `${o.product} × ${o.quantity}` }), h('span', { text: rp(o.total) })),
    h('div', { class: 'meta' }, `${o.customer} · ${wib(o.created_at_ms)} · ${t('method.' + o.method, null, o.method)} `,
      h('span', { class: 'badge ' + o.state, text: t('state.' + o.state, null, o.state) }))),
    isTransferAwaiting(o)
      ? h('button', { type: 'button', class: 'primary action transfer-received', dataset: { order: o.order },
        text: t('orders.transfer_received'), on: { click: (e) => run(() => transferReceived(o), e.currentTarget) } })
      : null);
}

function orderTimeline(d) {
  const entries = [{ at: d.created_at_ms, text: t('history.created', { product: d.product, quantity: d.quantity,
    total: rp(d.total), method: t('method.' + d.method, null, d.method) }) }];
  for (const p of d.payments) {
    entries.push({ at: p.at, text: t('history.payment', { amount: rp(p.amount), outcome: t('outcome.' + p.status, null, p.status) }) });
  }
  for (const m of d.stock_movements) entries.push({ at: m.at_ms, actor: m.actor, text: movementText(m) });
  for (const l of d.ledger) {
    entries.push({ at: l.at_ms, actor: l.actor, text: t('history.ledger', { amount: rpSigned(l.amount),
      kind: t('ledger.' + l.kind), balance: rp(l.balance_after) }) + (l.reason ? ` — ${l.reason}` : '') });
  }
  if (d.updated_at_ms > d.created_at_ms) {
    entries.push({ at: d.updated_at_ms, text: t('history.state', { state: t('state.' + d.state, null, d.state) }) });
  }
  entries.sort((a, b) => a.at - b.at);
  return timeline('order-timeline', entries);
}

async function openOrder(id) {
  const d = await run(() => api('GET', `/orders/${enc(id)}`));
  if (!d) return;
  const facts = [
    [t('orders.id'), d.order],
    [t('orders.state'), h('span', { class: 'badge ' + d.state, text: t('state.' + d.state, null, d.state) })],
    [t('orders.customer'), h('button', { type: 'button', class: 'link', text: d.customer,
      on: { click: () => openCustomer(d.customer) } })],
    [t('orders.product'), h('button', { type: 'button', class: 'link', text: d.product,
      on: { click: () => openProduct(d.product) } })],
    [t('orders.quantity'), String(d.quantity)],
    [t('orders.unit_price'), rp(d.unit_price)],
    [t('orders.total'), rp(d.total)],
    [t('orders.method'), t('method.' + d.method, null, d.method)],
    [t('orders.created'), wib(d.created_at_ms)],
    [t('orders.updated'), wib(d.updated_at_ms)],
  ];
  if (d.state === 'awaiting_payment') facts.push([t('orders.expires'), wib(d.expires_at_ms)]);
  if (d.qris) facts.push([t('orders.qris'), `${rp(d.qris.gross_amount)} · ${t('qris.' + d.qris.status, null, d.qris.status)}`]);
  if (d.note) facts.push([t('orders.note'), d.note]);
  const actions = [];
  if (isTransferAwaiting(d)) {
    actions.push(h('button', { type: 'button', id: 'transfer-received', class: 'primary more',
      text: t('orders.transfer_received'), on: { click: (e) => run(() => transferReceived(d), e.currentTarget) } }));
  }
  if (d.state === 'awaiting_payment') {
    actions.push(h('button', { type: 'button', id: 'cancel-order', class: 'more', text: t('orders.cancel'),
      on: { click: (e) => run(() => cancelOrder(d), e.currentTarget) } }));
  }
  if (d.state === 'paid') {
    const reason = h('input', { id: 'refund-reason', placeholder: t('refund.reason_hint') });
    actions.push(field(t('refund.reason'), reason), h('button', { type: 'button', id: 'refund-order', class: 'danger more',
      text: t('refund.button', { amount: rp(d.total) }), on: { click: (e) => run(() => refundOrder(d, reason), e.currentTarget) } }));
  }
  openSheet(t('orders.title_one', { product: d.product, quantity: d.quantity }), 'order',
    h('dl', { class: 'facts card', id: 'order-facts', dataset: { order: d.order, state: d.state } },
      facts.map(([k, v]) => [h('dt', { text: k }), h('dd', {}, v)])),
    actions.length ? h('div', { class: 'card', id: 'order-actions' }, actions) : null,
    h('div', { class: 'card' }, h('h3', { text: t('orders.history') }), orderTimeline(d)));
}

/** After a change: the sheet shows the order as it is now, and the list too. */
async function orderChanged(id) {
  if (!$('view-orders').hidden && orderQuery) loadOrders(false).catch(fail);
  await openOrder(id);
}

async function cancelOrder(d) {
  if (!(await ask(t('cancel.confirm', { product: d.product, quantity: d.quantity, customer: d.customer })))) return;
  await api('POST', `/orders/${enc(d.order)}/cancel`);
  say(t('cancel.done'));
  await orderChanged(d.order);
}

async function refundOrder(d, reasonInput) {
  const reason = reasonInput.value.trim();
  if (!reason) {
    reasonInput.setAttribute('aria-invalid', 'true');
    reasonInput.focus();
    throw new InputError(t('refund.reason_required'), 'reason_required');
  }
  if (!(await ask(t('refund.confirm', { amount: rp(d.total), customer: d.customer }), t('refund.yes')))) return;
  const done = await api('POST', `/orders/${enc(d.order)}/refund`, { reason });
  say(t('refund.done', { amount: rp(d.total), customer: d.customer, balance: rp(done.balance.balance) }));
  await orderChanged(d.order);
}

async function transferReceived(o) {
  // The customer was asked for the total plus a unique code: that exact amount is what to look
  // for in the bank statement.
  const detail = await api('GET', `/orders/${enc(o.order)}`);
  const asked = detail.qris ? detail.qris.gross_amount : o.total;
  if (!(await ask(t('transfer.confirm', { total: rp(asked), customer: o.customer, product: o.product, quantity: o.quantity })))) return;
  const done = await api('POST', `/orders/${enc(o.order)}/transfer-received`);
  if (done.outcome === 'credited') say(t('transfer.credited', { amount: rp(done.amount), customer: o.customer }), 'ok', 'credited');
  else say(t('transfer.delivered', { product: o.product, customer: o.customer }), 'ok', done.outcome || 'delivered');
  await orderChanged(o.order);
}

/** Shows the orders tab with a filter set from elsewhere (home, a customer, a product). */
function setOrderFilter({ state = '', customer = '', product = '' } = {}) {
  $('order-state').value = state;
  $('order-customer').value = customer;
  $('order-product').value = product;
  $('order-from').value = '';
  $('order-to').value = '';
  $('order-more-filters').open = Boolean(customer || product);
}

$('order-filters').addEventListener('submit', (e) => {
  e.preventDefault();
  run(() => loadOrders(false), $('order-search'));
});
$('order-more').addEventListener('click', (e) => run(() => loadOrders(true), e.currentTarget));
$('order-state').addEventListener('change', () => run(() => loadOrders(false), $('order-search')));
