'use strict';
// One dictionary per language (lang_id.js, lang_en.js); Bahasa Indonesia unless the owner chose
// English, which is remembered on this phone.

const DICT = { id: LANG_ID, en: LANG_EN };
let lang = localStorage.getItem('warung-lang') === 'en' ? 'en' : 'id';

/** The text of `key` with `{name}` filled from `vars`; `fallback` (when given) for a key no
 *  dictionary has, else the Indonesian text, else the key itself. */
function t(key, vars, fallback) {
  let text = DICT[lang][key] ?? (fallback !== undefined ? fallback : DICT.id[key] ?? key);
  if (vars) text = text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
  return text;
}

/** Puts the words of the current language into the page's fixed elements. */
function applyStatic() {
  document.documentElement.lang = lang;
  for (const e of document.querySelectorAll('[data-i18n]')) e.textContent = t(e.dataset.i18n);
  for (const e of document.querySelectorAll('[data-i18n-ph]')) e.placeholder = t(e.dataset.i18nPh);
}

function setLang(next) {
  lang = next === 'en' ? 'en' : 'id';
  localStorage.setItem('warung-lang', lang);
  applyStatic();
}
