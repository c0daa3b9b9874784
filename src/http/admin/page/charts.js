'use strict';
// Charts drawn as inline SVG: a bar chart per day with axes and labels, and stock as stacked
// bars. Bar heights come from numbers; every amount shown is formatted from its string.

const CHART_W = 340;

/** The smallest "nice" number (1, 2, 2.5, 5 times a power of ten) at or above `value`. */
function niceCeil(value) {
  if (value <= 0) return 1;
  const power = Math.pow(10, Math.floor(Math.log10(value)));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/** Bars per day. `days`: [{date, value (number), shown (text)}]; `axis(v)` labels the y axis;
 *  `kind` is a class of the bars; tapping a day shows it in `caption`. */
function barChart(container, days, { axis, kind, caption, label }) {
  const H = 190, left = 46, right = 6, top = 10, bottom = 26;
  const plotW = CHART_W - left - right, plotH = H - top - bottom;
  const max = niceCeil(Math.max(0, ...days.map((d) => d.value)));
  const svg = h('svg:svg', { viewBox: `0 0 ${CHART_W} ${H}`, role: 'img', 'aria-label': label });
  for (let i = 0; i <= 4; i += 1) {
    const value = (max * i) / 4, y = top + plotH - (plotH * i) / 4;
    svg.append(h('svg:line', { class: i ? 'grid' : 'axis', x1: left, x2: CHART_W - right, y1: y, y2: y }));
    svg.append(h('svg:text', { x: left - 4, y: y + 3, 'text-anchor': 'end', text: axis(value) }));
  }
  svg.append(h('svg:line', { class: 'axis', x1: left, x2: left, y1: top, y2: top + plotH }));
  const step = plotW / Math.max(1, days.length);
  const every = Math.max(1, Math.ceil(days.length / 5));
  const bars = [];
  days.forEach((day, i) => {
    const x = left + i * step;
    const height = max ? (plotH * day.value) / max : 0;
    const bar = h('svg:rect', {
      class: `bar ${kind}`, x: (x + step * 0.15).toFixed(2), width: (step * 0.7).toFixed(2),
      y: (top + plotH - height).toFixed(2), height: height.toFixed(2),
      dataset: { date: day.date, value: day.raw ?? String(day.value) },
    }, h('svg:title', { text: `${showDate(day.date)}: ${day.shown}` }));
    bars.push(bar);
    svg.append(bar);
    const show = () => {
      bars.forEach((b) => b.classList.remove('picked'));
      bar.classList.add('picked');
      caption.textContent = `${showDate(day.date)}: ${day.shown}`;
    };
    svg.append(h('svg:rect', { class: 'hit', x, y: top, width: step, height: plotH, on: { click: show } }));
    const last = i === days.length - 1;
    if ((days.length - 1 - i) % every === 0) {
      svg.append(h('svg:text', {
        x: last ? x + step : x + step / 2, y: H - 8, 'text-anchor': last ? 'end' : 'middle',
        text: last ? t('chart.today') : showDate(day.date, true),
      }));
    }
  });
  container.replaceChildren(svg);
  const latest = days[days.length - 1];
  caption.textContent = latest ? `${t('chart.today')}: ${latest.shown}` : '';
}

/** Stock per product as a stacked bar: available, reserved, sold, on one scale for all. */
function stockChart(container, stock, onPick) {
  const rowH = 58, left = 2, right = 2, width = CHART_W - left - right;
  const total = (p) => p.available + p.reserved + p.sold;
  const max = Math.max(1, ...stock.map(total));
  const svg = h('svg:svg', { viewBox: `0 0 ${CHART_W} ${Math.max(1, stock.length) * rowH}`, role: 'img',
    'aria-label': t('home.stock') });
  stock.forEach((p, i) => {
    const y = i * rowH;
    const row = h('svg:g', { class: 'stock-row', dataset: { code: p.code, low: String(p.low) },
      on: { click: () => onPick(p.code) } });
    const name = `${p.name} (${p.code})`;
    row.append(h('svg:text', { class: 'name', x: left, y: y + 14, text: name.length > 44 ? name.slice(0, 43) + '…' : name }));
    const counts = ['available', 'reserved', 'sold'].map((part) => `${t('stock.' + part)} ${p[part]}`);
    row.append(h('svg:text', { x: left, y: y + 29, text: counts.join(' · ') }));
    const notes = [p.low ? t('home.low') : '', p.active ? '' : t('products.off')].filter(Boolean).join(' · ');
    if (notes) row.append(h('svg:text', { class: 'low', x: CHART_W - right, y: y + 29, 'text-anchor': 'end', text: notes }));
    row.append(h('svg:rect', { class: 'track', x: left, y: y + 35, width, height: 14, rx: 4 }));
    let x = left;
    for (const part of ['available', 'reserved', 'sold']) {
      const w = (width * p[part]) / max;
      if (w > 0) {
        row.append(h('svg:rect', { class: `seg-${part}`, x: x.toFixed(2), y: y + 35, width: w.toFixed(2), height: 14,
          dataset: { code: p.code, count: String(p[part]) } },
        h('svg:title', { text: `${t('stock.' + part)}: ${p[part]}` })));
        x += w;
      }
    }
    svg.append(row);
  });
  container.replaceChildren(svg);
}

function stockLegend() {
  return h('div', { class: 'legend', id: 'home-stock-legend' },
    ['available', 'reserved', 'sold'].map((part) => h('span', {}, h('i', { class: part }), t('stock.' + part))));
}
