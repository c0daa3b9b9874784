'use strict';
// Produk: the list, a product's sheet (name, prices, on sale, restock, price requests, stock
// movements) and a new product.

/** References of changes asked but not yet answered, by what they change: a retry after a
 *  failed call reuses the reference, so the engine applies the change once. */
const pendingReferences = new Map();
function referenceFor(key, prefix) {
  if (!pendingReferences.has(key)) pendingReferences.set(key, newReference(prefix));
  return pendingReferences.get(key);
}

async function loadProducts() {
  const data = await api('GET', '/products');
  const list = $('product-list');
  list.replaceChildren(...data.products.map(productRow));
  if (!data.products.length) list.append(h('p', { class: 'empty', text: t('products.none') }));
  list.dataset.count = String(data.products.length);
}

function productRow(p) {
  return h('button', { type: 'button', class: 'row', dataset: { code: p.code, available: String(p.available),
    active: String(p.active) }, on: { click: () => openProduct(p.code) } },
  h('div', { class: 'line' }, h('b', { text: p.name }), h('span', { text: rp(p.price) })),
  h('div', { class: 'meta' }, `${p.code} · ${t('kind.' + p.kind)} · `,
    t('products.counts', { available: p.available, reserved: p.reserved, sold: p.sold }), ' ',
    h('span', { class: 'badge ' + (p.active ? 'on' : 'off'), text: p.active ? t('products.on') : t('products.off') })));
}

function movementText(m) {
  const step = t(`move.${m.from}.${m.to}`, null, '') || `${t('stock.' + m.from)} → ${t('stock.' + m.to)}`;
  return `${m.quantity} · ${step}` + (m.reason ? ` (${t('reason.' + m.reason, null, m.reason)})` : '');
}

function timeline(id, entries) {
  if (!entries.length) return h('p', { class: 'empty', id, text: t('app.nothing') });
  return h('ol', { class: 'timeline', id }, entries.map((e) => h('li', { dataset: e.data || {} },
    h('span', { class: 'when', text: wib(e.at) + (e.actor ? ' · ' + e.actor : '') }), e.text)));
}

/** A price request; `buttonId` names its confirm button (the one just asked for). */
function priceRequestBox(request, product, buttonId) {
  const pending = request.status === 'pending';
  const from = request.from_price ?? product.price;
  return h('div', { class: pending ? 'pending-box' : 'card', dataset: { request: request.id, status: request.status } },
    h('div', { text: t('price.request_line', { tier: t('tier.' + request.tier), from: rp(from), to: rp(request.to_price) }) }),
    h('div', { class: 'muted', text: t('price.request_meta', { who: request.requested_by, at: wib(request.requested_at),
      until: wib(request.expires_at), status: t('request.' + request.status) }) }),
    request.reason ? h('div', { class: 'muted', text: request.reason }) : null,
    pending ? h('button', { type: 'button', class: 'primary confirm-request', id: buttonId,
      dataset: { request: request.id },
      text: t('price.confirm_button', { to: rp(request.to_price) }),
      on: { click: (e) => run(() => confirmPriceRequest(request, product), e.currentTarget) } }) : null);
}

async function openProduct(code) {
  const p = await run(() => api('GET', `/products/${enc(code)}`));
  if (!p) return;
  const counted = p.kind === 'counted';
  const name = h('input', { id: 'product-name', value: p.name, maxlength: 80 });
  const member = h('input', { id: 'price-member', inputmode: 'decimal', value: rp(p.price).slice(2) });
  const reseller = h('input', { id: 'price-reseller', inputmode: 'decimal',
    value: p.reseller_price ? rp(p.reseller_price).slice(2) : '', placeholder: t('price.same_as_member') });
  const reason = h('input', { id: 'price-reason', placeholder: t('app.optional') });
  const active = h('input', { id: 'product-active', type: 'checkbox', checked: p.active });
  const stock = counted
    ? h('input', { id: 'restock-count', type: 'number', inputmode: 'numeric', min: 1, step: 1 })
    : h('textarea', { id: 'restock-items', rows: 5, placeholder: t('restock.items_hint') });
  const pendingBox = h('div', { id: 'price-pending' });
  const setButton = (id, tier, input) => h('button', { type: 'button', id, class: 'primary', text: t('price.set'),
    on: { click: (e) => run(() => setPrice(p, tier, input, reason), e.currentTarget) } });
  openSheet(p.name, 'product',
    h('dl', { class: 'facts card', id: 'product-facts', dataset: { code: p.code, available: String(p.available) } },
      [[t('products.code'), p.code], [t('products.kind'), t('kind.' + p.kind)], [t('tier.member'), rp(p.price)],
        [t('tier.reseller'), p.reseller_price ? rp(p.reseller_price) : t('price.same_as_member')],
        [t('stock.available'), p.available], [t('stock.reserved'), p.reserved], [t('stock.sold'), p.sold],
        [t('stock.received'), p.received]].map(([k, v]) => [h('dt', { text: k }), h('dd', { text: String(v) })])),
    h('div', { class: 'card' }, h('label', { class: 'check' }, active, t('products.on_sale'))),
    h('div', { class: 'card' }, h('h3', { text: t('price.title') }),
      h('div', { class: 'inline' }, field(t('tier.member'), member), setButton('set-price-member', 'member', member)),
      h('div', { class: 'inline' }, field(t('tier.reseller'), reseller), setButton('set-price-reseller', 'reseller', reseller)),
      field(t('price.reason'), reason), pendingBox),
    h('div', { class: 'card' }, h('h3', { text: counted ? t('restock.title_count') : t('restock.title_items') }),
      field(counted ? t('restock.count') : t('restock.items'), stock),
      h('button', { type: 'button', id: 'restock', class: 'primary more', text: t('restock.button'),
        on: { click: (e) => run(() => restock(p, stock), e.currentTarget) } })),
    h('div', { class: 'card' }, h('h3', { text: t('products.name') }),
      h('div', { class: 'inline' }, field(t('products.name'), name), h('button', { type: 'button', id: 'rename',
        text: t('app.save'), on: { click: (e) => run(() => editProduct(p, { name: name.value.trim() }), e.currentTarget) } }))),
    h('div', { class: 'card' }, h('h3', { text: t('price.requests') }),
      p.price_requests.length
        ? h('div', { class: 'list', id: 'product-price-requests' }, p.price_requests.map((r) => priceRequestBox(r, p)))
        : h('p', { class: 'empty', id: 'product-price-requests', text: t('app.nothing') })),
    h('div', { class: 'card' }, h('h3', { text: t('products.movements') }),
      timeline('product-movements', p.stock_movements.map((m) => ({ at: m.at_ms, actor: m.actor, text: movementText(m) })))));
  active.addEventListener('change', async () => {
    const wanted = active.checked;
    const done = await run(async () => { await editProduct(p, { active: wanted }); return true; });
    if (!done) active.checked = !wanted;
  });
}

async function editProduct(p, change) {
  if (change.name !== undefined && !change.name) throw new InputError(t('products.name_required'));
  const now = await api('PATCH', `/products/${enc(p.code)}`, change);
  if (change.active !== undefined) say(now.active ? t('products.put_on_sale', { name: now.name }) : t('products.taken_off', { name: now.name }));
  else say(t('products.renamed', { name: now.name }));
  loadProducts().catch(fail);
  await openProduct(p.code);
}

async function setPrice(p, tier, input, reasonInput) {
  const price = parseRupiah(input.value);
  if (price === null || cents(price) <= 0n) throw new InputError(t('price.bad', { text: input.value }), 'bad_price');
  const current = tier === 'reseller' && p.reseller_price ? p.reseller_price : p.price;
  if (cents(price) === cents(current) && (tier === 'member' || p.reseller_price)) return say(t('price.unchanged'));
  const yes = await ask(t('price.confirm', { name: p.name, from: rp(current), to: rp(price), tier: t('buyer.' + tier) }));
  if (!yes) return;
  const reason = reasonInput.value.trim();
  const { status, data } = await api('PUT', `/products/${enc(p.code)}/price`, { price, tier, reason }, { withStatus: true });
  if (status === 202) {
    const box = $('price-pending');
    box.replaceChildren(h('p', { text: t('price.pending') }), priceRequestBox(data.request, p, 'confirm-price-request'));
    box.scrollIntoView({ block: 'nearest' });
    return say(t('price.pending'), 'ok', 'pending_confirmation');
  }
  say(t('price.applied', { name: p.name, to: rp(data.price), tier: t('buyer.' + tier) }));
  loadProducts().catch(fail);
  await openProduct(p.code);
}

async function confirmPriceRequest(request, p) {
  const from = request.from_price ?? p.price;
  const yes = await ask(t('price.confirm', { name: p.name, from: rp(from), to: rp(request.to_price), tier: t('buyer.' + request.tier) }));
  if (!yes) return;
  await api('POST', `/price-requests/${enc(request.id)}/confirm`);
  say(t('price.applied', { name: p.name, to: rp(request.to_price), tier: t('buyer.' + request.tier) }));
  loadProducts().catch(fail);
  await openProduct(p.code);
}

async function restock(p, input) {
  let question, call, key;
  if (p.kind === 'counted') {
    const count = Number(input.value);
    if (!/^\d+$/.test(input.value.trim()) || count < 1) throw new InputError(t('restock.bad_count'), 'bad_count');
    question = t('restock.confirm_count', { count, name: p.name });
    key = `stock:${p.code}:count:${count}`;
    call = (reference) => api('POST', `/products/${enc(p.code)}/stock`, { reference, count });
  } else {
    const items = input.value.split('\n').map((line) => line.trim()).filter(Boolean);
    if (!items.length) throw new InputError(t('restock.no_items'), 'bad_stock');
    question = t('restock.confirm_items', { count: items.length, name: p.name });
    key = `stock:${p.code}:items:${items.join('\n')}`;
    call = (reference) => api('POST', `/products/${enc(p.code)}/stock/upload?reference=${enc(reference)}`,
      items.join('\n'), { text: true });
  }
  if (!(await ask(question))) return;
  const added = await call(referenceFor(key, 'stock'));
  pendingReferences.delete(key);
  say(t('restock.done', { added: added.added, name: p.name, available: added.available }));
  loadProducts().catch(fail);
  await openProduct(p.code);
}

function openNewProduct() {
  const code = h('input', { id: 'new-code', autocapitalize: 'none', maxlength: 32, placeholder: 'viu1b' });
  const name = h('input', { id: 'new-name', maxlength: 80 });
  const price = h('input', { id: 'new-price', inputmode: 'decimal', placeholder: '15.000' });
  const counted = h('input', { id: 'new-counted', type: 'checkbox' });
  openSheet(t('products.new_title'), 'new-product', h('form', { class: 'card', id: 'new-product-form',
    on: { submit: (e) => { e.preventDefault(); run(() => createProduct(code, name, price, counted), $('create-product')); } } },
  field(t('products.code_hint'), code), field(t('products.name'), name), field(t('tier.member'), price),
  h('label', { class: 'check' }, counted, t('products.counted')),
  h('p', { class: 'muted', text: t('products.counted_hint') }),
  h('button', { type: 'submit', id: 'create-product', class: 'primary more', text: t('products.create') })));
}

async function createProduct(code, name, price, counted) {
  const amount = parseRupiah(price.value);
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(code.value.trim())) throw new InputError(t('products.bad_code'), 'bad_code');
  if (!name.value.trim()) throw new InputError(t('products.name_required'), 'bad_name');
  if (amount === null || cents(amount) <= 0n) throw new InputError(t('price.bad', { text: price.value }), 'bad_price');
  const made = await api('POST', '/products', { code: code.value.trim(), name: name.value.trim(), price: amount,
    counted: counted.checked });
  say(t('products.created', { name: name.value.trim() }));
  loadProducts().catch(fail);
  await openProduct(made.code);
}

$('new-product').addEventListener('click', openNewProduct);
$('reload-products').addEventListener('click', (e) => run(loadProducts, e.currentTarget));
