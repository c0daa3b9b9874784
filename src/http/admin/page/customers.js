'use strict';
// Pelanggan: the list (paged by the API's cursor), the refund watch, and a customer's sheet
// with balance, ledger, role and balance adjustment.

const CUSTOMERS_PAGE = 50;
const LEDGER_SHOWN = 50;
/** Most ledger entries one customer's sheet asks for (the API's list limit). */
const LEDGER_SHOWN_MAX = 500;
let customerNext = null;
let customerMode = 'all';

function setCustomerMode(mode) {
  customerMode = mode;
  $('customers-all').setAttribute('aria-pressed', String(mode === 'all'));
  $('customers-watch').setAttribute('aria-pressed', String(mode === 'watch'));
}

async function loadCustomers(more) {
  if (customerMode === 'watch') return loadRefundWatch();
  const query = new URLSearchParams({ limit: String(CUSTOMERS_PAGE) });
  if (more && customerNext) query.set('after', customerNext);
  const data = await api('GET', '/customers?' + query);
  const list = $('customer-list');
  if (!more) list.replaceChildren();
  list.querySelector('.empty')?.remove();
  list.append(...data.customers.map((c) => customerRow(c.id, rp(c.balance),
    `${t('role.' + c.role, null, c.role)} · ${t('customers.counts', { paid: c.orders_paid, refunded: c.orders_refunded })}`)));
  if (!list.children.length) list.append(h('p', { class: 'empty', text: t('customers.none') }));
  customerNext = data.next_after ?? null;
  $('customer-more').hidden = customerNext === null;
}

function customerRow(id, right, meta) {
  return h('button', { type: 'button', class: 'row', dataset: { customer: id }, on: { click: () => openCustomer(id) } },
    h('div', { class: 'line' }, h('b', { text: id }), h('span', { text: right })),
    h('div', { class: 'meta', text: meta }));
}

async function loadRefundWatch() {
  const data = await api('GET', '/refund-watch');
  const list = $('customer-list');
  list.replaceChildren(h('p', { class: 'muted', id: 'refund-watch-note',
    text: t('watch.note', { threshold: data.threshold_percent }) }),
  ...data.flagged.map((f) => customerRow(f.customer, `${f.refund_percent}%`,
    `${t('customers.counts', { paid: f.orders_paid, refunded: f.orders_refunded })} · ${t('customers.balance')} ${rp(f.balance)}`)));
  if (!data.flagged.length) list.append(h('p', { class: 'empty', text: t('watch.none') }));
  list.dataset.flagged = String(data.flagged.length);
  customerNext = null;
  $('customer-more').hidden = true;
}

function ledgerList(entries) {
  if (!entries.length) return h('p', { class: 'empty', id: 'customer-ledger', text: t('app.nothing') });
  return h('div', { class: 'list', id: 'customer-ledger' }, entries.map((l) => h('div', { class: 'row',
    dataset: { reference: l.reference, kind: l.kind, amount: l.amount } },
  h('div', { class: 'line' }, h('span', { text: t('ledger.' + l.kind, null, l.kind) }),
    h('span', { class: cents(l.amount) < 0n ? 'amount-minus' : 'amount-plus', text: rpSigned(l.amount) })),
  h('div', { class: 'meta', text: [t('customers.balance_after', { balance: rp(l.balance_after) }), l.reason, l.actor,
    wib(l.at_ms)].filter(Boolean).join(' · ') }))));
}

async function openCustomer(id, limit = LEDGER_SHOWN) {
  const who = String(id).trim();
  if (!who) return;
  const c = await run(() => api('GET', `/customers/${enc(who)}?limit=${limit}`));
  if (!c) return;
  const role = h('select', { id: 'customer-role' },
    ['member', 'reseller', 'admin'].map((r) => h('option', { value: r, text: t('role.' + r) })));
  role.value = c.role;
  const amount = h('input', { id: 'adjust-amount', inputmode: 'text', placeholder: t('adjust.amount_hint') });
  const reason = h('input', { id: 'adjust-reason', placeholder: t('adjust.reason_hint') });
  const more = c.ledger.length >= limit && limit < LEDGER_SHOWN_MAX
    ? h('button', { type: 'button', id: 'ledger-more', class: 'more', text: t('app.more'),
      on: { click: () => openCustomer(who, Math.min(LEDGER_SHOWN_MAX, limit * 2)) } })
    : null;
  openSheet(c.customer, 'customer',
    h('dl', { class: 'facts card', id: 'customer-facts', dataset: { customer: c.customer, balance: c.balance.balance } },
      [[t('customers.id'), c.customer], [t('customers.balance'), rp(c.balance.balance)],
        [t('customers.role'), t('role.' + c.role, null, c.role)], [t('customers.paid'), String(c.orders_paid)],
        [t('customers.refunded'), String(c.orders_refunded)]].map(([k, v]) => [h('dt', { text: k }), h('dd', { text: v })])),
    h('button', { type: 'button', id: 'customer-orders', class: 'more', text: t('customers.see_orders'),
      on: { click: () => { closeSheet(); showView('orders', { customer: c.customer }); } } }),
    h('div', { class: 'card' }, h('h3', { text: t('adjust.title') }),
      field(t('adjust.amount'), amount), field(t('adjust.reason'), reason),
      h('button', { type: 'button', id: 'adjust', class: 'primary more', text: t('adjust.button'),
        on: { click: (e) => run(() => adjustBalance(c, amount, reason), e.currentTarget) } })),
    h('div', { class: 'card' }, h('h3', { text: t('customers.role') }),
      h('div', { class: 'inline' }, field(t('customers.role'), role), h('button', { type: 'button', id: 'set-role',
        text: t('app.save'), on: { click: (e) => run(() => setRole(c, role.value), e.currentTarget) } }))),
    h('div', { class: 'card' }, h('h3', { text: t('customers.ledger') }), ledgerList(c.ledger), more));
}

async function adjustBalance(c, amountInput, reasonInput) {
  const typed = amountInput.value.trim();
  const delta = parseRupiah(/^[+-]/.test(typed) ? typed : '+' + typed, true);
  if (delta === null || cents(delta) === 0n) throw new InputError(t('adjust.bad_amount', { text: typed }), 'bad_delta');
  const reason = reasonInput.value.trim();
  if (!reason) throw new InputError(t('adjust.reason_required'), 'reason_required');
  const after = cents(c.balance.balance) + cents(delta);
  if (after < 0n) throw new InputError(t('adjust.below_zero', { balance: rp(c.balance.balance) }), 'insufficient_balance');
  const adding = cents(delta) > 0n;
  const abs = plain(adding ? cents(delta) : -cents(delta));
  const question = t(adding ? 'adjust.confirm_add' : 'adjust.confirm_take',
    { amount: rp(abs), customer: c.customer, after: rp(plain(after)) });
  if (!(await ask(question))) return;
  const key = `adjust:${c.customer}:${delta}:${reason}`;
  const done = await api('POST', `/wallets/${enc(c.customer)}/adjustments`,
    { reference: referenceFor(key, 'adj'), delta, reason });
  pendingReferences.delete(key);
  say(t('adjust.done', { customer: c.customer, balance: rp(done.balance.balance) }));
  if (!$('view-customers').hidden) loadCustomers(false).catch(fail);
  await openCustomer(c.customer);
}

async function setRole(c, role) {
  if (role === c.role) return say(t('role.unchanged'));
  if (!(await ask(t('role.confirm', { customer: c.customer, from: t('role.' + c.role), to: t('role.' + role) })))) return;
  await api('PUT', `/customers/${enc(c.customer)}/role`, { role });
  say(t('role.done', { customer: c.customer, role: t('role.' + role) }));
  await openCustomer(c.customer);
}

$('customers-all').addEventListener('click', (e) => { setCustomerMode('all'); run(() => loadCustomers(false), e.currentTarget); });
$('customers-watch').addEventListener('click', (e) => { setCustomerMode('watch'); run(() => loadCustomers(false), e.currentTarget); });
$('customer-more').addEventListener('click', (e) => run(() => loadCustomers(true), e.currentTarget));
$('customer-search-form').addEventListener('submit', (e) => {
  e.preventDefault();
  openCustomer($('customer-search').value.replace(/[\s-]/g, '').replace(/^\+/, ''));
});
