'use strict';
// Money stays a decimal string end to end: amounts are shown from their digits and summed as
// BigInt cents, never as floats. Times are shown in WIB (UTC+7) whatever the phone's timezone.

const WIB_OFFSET_MS = 7 * 3600 * 1000;
const DAY_MS = 24 * 3600 * 1000;

/** "15000.50" -> 1500050n; null when it is not a plain amount. */
function cents(amount) {
  const m = /^([+-]?)(\d+)(?:\.(\d{1,2}))?$/.exec(String(amount ?? '').trim());
  if (!m) return null;
  const value = BigInt(m[2]) * 100n + BigInt((m[3] || '0').padEnd(2, '0'));
  return m[1] === '-' ? -value : value;
}

/** 1500050n -> "15000.50" (plain, as the API reads it). */
function plain(centsValue) {
  const negative = centsValue < 0n;
  const abs = negative ? -centsValue : centsValue;
  const whole = abs / 100n, frac = abs % 100n;
  return (negative ? '-' : '') + whole.toString() + (frac ? '.' + frac.toString().padStart(2, '0') : '');
}

/** "15000.00" -> "Rp15.000", "15000.5" -> "Rp15.000,50", "-5000" -> "-Rp5.000". */
function rp(amount) {
  const value = cents(amount);
  if (value === null) return String(amount ?? '');
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const whole = (abs / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, '.');
  const frac = abs % 100n;
  return (negative ? '-' : '') + 'Rp' + whole + (frac ? ',' + frac.toString().padStart(2, '0') : '');
}

/** A signed amount with its sign always shown: "+Rp5.000", "-Rp5.000". */
function rpSigned(amount) {
  const value = cents(amount);
  return value !== null && value > 0n ? '+' + rp(amount) : rp(amount);
}

/** A short axis label for a number of Rupiah: "Rp150rb", "Rp1,2jt". */
function rpShort(value) {
  const units = [[1e12, t('unit.trillion')], [1e9, t('unit.billion')], [1e6, t('unit.million')], [1e3, t('unit.thousand')]];
  for (const [size, unit] of units) {
    if (value >= size) return 'Rp' + decimalComma(value / size) + unit;
  }
  return 'Rp' + Math.round(value);
}

function decimalComma(n) {
  const rounded = n >= 10 ? Math.round(n) : Math.round(n * 10) / 10;
  const text = String(rounded);
  return lang === 'id' ? text.replace('.', ',') : text;
}

/** What a person types as Rupiah ("15.000", "15000", "Rp 15.000,50", "15000.5") as a plain amount,
 *  or null. `signed` allows a leading + or -. */
function parseRupiah(text, signed) {
  let s = String(text ?? '').replace(/\s+/g, '').replace(/^([+-]?)rp\.?/i, '$1');
  let sign = '';
  if (/^[+-]/.test(s)) {
    if (!signed) return null;
    sign = s[0] === '-' ? '-' : '';
    s = s.slice(1);
  }
  let whole, frac = '';
  if (s.includes(',')) {
    const parts = s.split(',');
    if (parts.length !== 2) return null;
    [whole, frac] = parts;
    if (!/^\d{1,3}(\.\d{3})*$|^\d+$/.test(whole)) return null;
    whole = whole.replace(/\./g, '');
  } else if (/^\d{1,3}(\.\d{3})+$/.test(s)) {
    whole = s.replace(/\./g, '');
  } else if (/^\d+(\.\d{1,2})?$/.test(s)) {
    [whole, frac = ''] = s.split('.');
  } else {
    return null;
  }
  if (!/^\d+$/.test(whole) || !/^\d{0,2}$/.test(frac)) return null;
  const value = cents(whole + (frac ? '.' + frac : ''));
  if (value === null) return null;
  return plain(sign === '-' ? -value : value);
}

const pad2 = (n) => String(n).padStart(2, '0');

/** Unix ms -> "02/12/2026 17:05 WIB". */
function wib(ms) {
  if (ms === null || ms === undefined || ms === '') return '';
  const d = new Date(Number(ms) + WIB_OFFSET_MS);
  return `${pad2(d.getUTCDate())}/${pad2(d.getUTCMonth() + 1)}/${d.getUTCFullYear()} ` +
    `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())} WIB`;
}

/** Unix ms -> its WIB date, "2026-12-02". */
function wibIso(ms) {
  const d = new Date(Number(ms) + WIB_OFFSET_MS);
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
}

/** "2026-12-02" -> "02/12/2026"; `short` -> "02/12". */
function showDate(iso, short) {
  const [y, m, d] = String(iso).split('-');
  return short ? `${d}/${m}` : `${d}/${m}/${y}`;
}

function daysInMonth(year, month) {
  return [31, (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
}

/** A typed date ("2026-11-30", "30/11/2026" or "30-11-2026") as "2026-11-30"; null when it is no
 *  real date (31 February, month 13) or cannot be read. */
function parseDate(text) {
  const s = String(text ?? '').trim();
  let m = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(s);
  let y, mo, d;
  if (m) [y, mo, d] = [m[1], m[2], m[3]].map(Number);
  else if ((m = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(s))) [d, mo, y] = [m[1], m[2], m[3]].map(Number);
  else return null;
  if (y < 2000 || y > 2999 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return null;
  return `${y}-${pad2(mo)}-${pad2(d)}`;
}

/** Unix ms of a WIB date's midnight; `plusDays` moves it whole days. */
function wibMidnightMs(iso, plusDays = 0) {
  const [y, m, d] = iso.split('-').map(Number);
  return Date.UTC(y, m - 1, d + plusDays) - WIB_OFFSET_MS;
}

/** Today's WIB date, "2026-12-02". */
const todayWib = () => wibIso(Date.now());

/** Reads an optional date range from two inputs. Returns {from, to} (either may be null when
 *  allowed), or {error} with the message to show; nothing is called with a bad range. */
function readRange(fromInput, toInput, required) {
  const raw = [fromInput.value.trim(), toInput.value.trim()];
  const [from, to] = raw.map((v) => (v ? parseDate(v) : null));
  for (const [i, input] of [fromInput, toInput].entries()) {
    input.removeAttribute('aria-invalid');
    if ((raw[i] && !(i ? to : from)) || (required && !raw[i])) {
      input.setAttribute('aria-invalid', 'true');
      return { error: raw[i] ? t('date.bad', { text: raw[i] }) : t('date.required') };
    }
  }
  if (from && to && from > to) {
    toInput.setAttribute('aria-invalid', 'true');
    return { error: t('date.order', { from: showDate(from), to: showDate(to) }) };
  }
  return { from, to };
}
