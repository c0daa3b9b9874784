'use strict';
// Login, the tab bar, the language switch, and the start.

const VIEWS = ['home', 'products', 'orders', 'customers', 'settings'];
let currentView = null;

/** Shows a tab and loads what it lists; `options` carry a filter from elsewhere. */
function showView(name, options = {}) {
  if (!VIEWS.includes(name)) name = 'home';
  closeSheet();
  currentView = name;
  sessionStorage.setItem('warung-view', name);
  for (const view of VIEWS) {
    $('view-' + view).hidden = view !== name;
    const tab = $('tab-' + view);
    if (view === name) tab.setAttribute('aria-current', 'page');
    else tab.removeAttribute('aria-current');
  }
  document.body.dataset.view = name;
  document.querySelector('main').scrollTop = 0;
  const load = {
    home: loadHome,
    products: loadProducts,
    orders: () => {
      if (options.state !== undefined || options.customer !== undefined || options.product !== undefined) setOrderFilter(options);
      return loadOrders(false);
    },
    customers: () => { setCustomerMode(options.watch ? 'watch' : 'all'); return loadCustomers(false); },
    settings: () => showSettingsPane(false),
  }[name];
  return run(load).then(() => { $('view-' + name).dataset.loaded = String(Date.now()); });
}

function enterApp() {
  $('login-view').hidden = true;
  $('app').hidden = false;
  $('who').textContent = t('app.as', { name: session.name });
  $('message').hidden = true;
  api('GET', '/settings').then((s) => { $('shop-name').textContent = s.shop_name || 'Warung'; }).catch(() => {});
  return showView(sessionStorage.getItem('warung-view') || 'home');
}

function logout() {
  sessionStorage.removeItem('warung-token');
  session.token = '';
  closeSheet();
  closeConfirm(false);
  for (const id of ['home-body', 'product-list', 'order-list', 'customer-list', 'settings-form', 'audit-list']) {
    $(id).replaceChildren();
  }
  window.lastExport = null;
  $('app').hidden = true;
  $('login-view').hidden = false;
  $('token').value = '';
  $('admin-name').value = session.name;
}

$('login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const token = $('token').value.trim(), name = $('admin-name').value.trim();
  const error = $('login-error');
  error.textContent = '';
  if (!token) { error.textContent = t('login.no_token'); return; }
  if (!/^[A-Za-z0-9._@-]{1,64}$/.test(name)) { error.textContent = t('login.bad_name'); return; }
  Object.assign(session, { token, name });
  $('login').disabled = true;
  try {
    await api('GET', '/settings');
  } catch (failure) {
    session.token = '';
    error.textContent = failure instanceof NetworkError ? t('err.network')
      : failure instanceof ApiError && failure.status === 401 ? t('login.refused')
        : `${t('err.api')} ${failure.message}`;
    error.dataset.code = failure.code || 'network';
    return;
  } finally {
    $('login').disabled = false;
  }
  sessionStorage.setItem('warung-token', token);
  sessionStorage.setItem('warung-admin', name);
  enterApp();
});
$('logout').addEventListener('click', logout);

for (const view of VIEWS) $('tab-' + view).addEventListener('click', () => showView(view));

function showLangButtons() {
  for (const button of document.querySelectorAll('.lang-toggle')) {
    button.textContent = button.id === 'login-lang' ? t('lang.other_long') : t('lang.other_short');
    button.setAttribute('aria-label', t('lang.switch'));
  }
}
for (const button of document.querySelectorAll('.lang-toggle')) {
  button.addEventListener('click', () => {
    setLang(lang === 'id' ? 'en' : 'id');
    $('message').hidden = true;
    showLangButtons();
    fillStateSelect();
    if (!$('app').hidden) {
      $('who').textContent = t('app.as', { name: session.name });
      showView(currentView || 'home');
    }
  });
}

applyStatic();
showLangButtons();
fillStateSelect();
$('admin-name').value = session.name;
if (session.token) enterApp();
