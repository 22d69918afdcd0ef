// Charts drawn as SVG: sparklines, horizontal and vertical bars and heat
// maps.

import { s } from './dom.js';
import { t } from './i18n.js';

// Every chart says in data-marks how many values it draws, so that a test
// can count the marks it shows: a point of a sparkline (on a line or a dot of
// its own), a bar, a cell of a heat map.

// sparkline draws values (nulls leave gaps) as a line with its last point
// marked; a value with no neighbour, which a line cannot show, is a dot.
export function sparkline(values, { width = 160, height = 36, label = '' } = {}) {
  const nums = values.filter((v) => v !== null && v !== undefined);
  const svg = s('svg', {
    class: 'spark', viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': label, preserveAspectRatio: 'none',
    dataset: { marks: nums.length },
  });
  if (!nums.length) return svg;
  let lo = Math.min(...nums), hi = Math.max(...nums);
  if (lo === hi) { lo -= 1; hi += 1; }
  const pad = 3;
  const x = (i) => (values.length > 1 ? pad + (i * (width - 2 * pad)) / (values.length - 1) : width / 2);
  const y = (v) => height - pad - ((v - lo) * (height - 2 * pad)) / (hi - lo);
  const gap = (i) => i < 0 || i >= values.length || values[i] === null || values[i] === undefined;
  const dots = [];
  let d = '', pen = false, last = null;
  values.forEach((v, i) => {
    if (gap(i)) { pen = false; return; }
    if (gap(i - 1) && gap(i + 1)) dots.push([x(i), y(v)]);
    d += (pen ? 'L' : 'M') + x(i).toFixed(1) + ' ' + y(v).toFixed(1);
    pen = true;
    last = [x(i), y(v)];
  });
  const area = values.every((v) => v !== null && v !== undefined)
    ? d + `L${x(values.length - 1).toFixed(1)} ${height}L${x(0).toFixed(1)} ${height}Z` : '';
  if (area) svg.append(s('path', { d: area, class: 'spark-area' }));
  svg.append(s('path', { d, class: 'spark-line' }));
  for (const [cx, cy] of dots) svg.append(s('circle', { cx, cy, r: 1.6, class: 'spark-point' }));
  if (last) svg.append(s('circle', { cx: last[0], cy: last[1], r: 2.5, class: 'spark-dot' }));
  return svg;
}

// textWidth is the width of text in the page's font at 12 px, the size
// of the charts' labels in their own units.
let measurer;
function textWidth(text) {
  if (measurer === undefined) {
    measurer = document.createElement('canvas').getContext('2d');
    if (measurer) measurer.font = '12px ' + getComputedStyle(document.body).fontFamily;
  }
  if (measurer) return measurer.measureText(text).width;
  // No canvas: about 7 units a letter, 12 a Chinese character.
  return [...text].reduce((w, ch) => w + (ch.codePointAt(0) >= 0x2e80 ? 12 : 7), 0);
}

// bars draws labelled horizontal bars: items are {label, value, text,
// attrs}; max defaults to the largest value.
export function bars(items, { max, width = 480, row = 26, labelWidth = 130, label = '' } = {}) {
  const top = max || Math.max(1, ...items.map((i) => i.value || 0));
  const height = items.length * row + 4;
  const svg = s('svg', { class: 'bars', viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': label, dataset: { marks: items.length } });
  const room = width - labelWidth - 90;
  // A label longer than its room is cut with an ellipsis (the bar's title
  // has it whole), measured in the page's font at the chart's 12 px.
  const fit = (text) => {
    const space = labelWidth - 12;
    const chars = [...String(text)]; // cut between characters, never inside one
    if (textWidth(chars.join('')) <= space) return chars.join('');
    while (chars.length && textWidth(chars.join('') + '…') > space) chars.pop();
    return chars.join('') + '…';
  };
  items.forEach((it, i) => {
    const y = i * row + 2;
    const w = Math.max(it.value ? 1 : 0, (Math.max(0, it.value || 0) / top) * room);
    svg.append(s('g', Object.assign({ class: 'bar' + (it.cls ? ' ' + it.cls : '') }, it.attrs || {}),
      s('title', null, t('{label}: {value}', { label: it.label, value: it.text })),
      s('text', { x: labelWidth - 8, y: y + row / 2 + 4, 'text-anchor': 'end', class: 'bar-label' }, fit(it.label)),
      s('rect', { x: labelWidth, y: y + 3, width: w.toFixed(1), height: row - 8, rx: 3, 'data-value': it.value || 0 }),
      s('text', { x: labelWidth + w + 6, y: y + row / 2 + 4, class: 'bar-value' }, it.text)));
  });
  return svg;
}

// columns draws labelled vertical bars, for a series over time or the
// hours of a day: items are {label, value, text, attrs, cls}; every
// labelEvery-th label is written under its column.
export function columns(items, { max, width = 640, height = 160, labelEvery = 1, label = '' } = {}) {
  const top = max || Math.max(1, ...items.map((i) => i.value || 0));
  const base = height - 20, step = (width - 8) / Math.max(1, items.length);
  const svg = s('svg', { class: 'columns', viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': label, dataset: { marks: items.length } });
  svg.append(s('line', { x1: 4, x2: width - 4, y1: base + 0.5, y2: base + 0.5, class: 'axis' }));
  items.forEach((it, i) => {
    const x = 4 + i * step;
    const hgt = Math.max(it.value ? 1 : 0, (Math.max(0, it.value || 0) / top) * (base - 14));
    const g = s('g', Object.assign({ class: 'bar' + (it.cls ? ' ' + it.cls : '') }, it.attrs || {}),
      s('title', null, t('{label}: {value}', { label: it.label, value: it.text })),
      s('rect', { x: (x + step * 0.12).toFixed(1), y: (base - hgt).toFixed(1), width: (step * 0.76).toFixed(1), height: hgt.toFixed(1), rx: 2, 'data-value': it.value || 0 }));
    // A label is centred under its column, but kept inside the chart.
    const lx = Math.min(width - 3 * it.label.length - 2, Math.max(3 * it.label.length + 2, x + step / 2));
    if (i % labelEvery === 0) g.append(s('text', { x: lx.toFixed(1), y: height - 5, 'text-anchor': 'middle', class: 'bar-label' }, it.label));
    svg.append(g);
  });
  return svg;
}

// heatmap draws a grid of rows × cols: cell(r, c) gives {value, text,
// title, attrs, mark}; values are shaded against max.
export function heatmap({ rows, cols, cell, max, cellWidth = 30, cellHeight = 26, rowLabelWidth = 96, colLabelEvery = 1, label = '' }) {
  const width = rowLabelWidth + cols.length * cellWidth + 2;
  const height = 22 + rows.length * cellHeight + 2;
  const svg = s('svg', { class: 'heat', viewBox: `0 0 ${width} ${height}`, width, role: 'img', 'aria-label': label });
  let marks = 0;
  cols.forEach((c, j) => {
    if (j % colLabelEvery) return;
    svg.append(s('text', { x: rowLabelWidth + j * cellWidth + cellWidth / 2, y: 15, 'text-anchor': 'middle', class: 'heat-col' }, c));
  });
  rows.forEach((r, i) => {
    const y = 22 + i * cellHeight;
    svg.append(s('text', { x: rowLabelWidth - 6, y: y + cellHeight / 2 + 4, 'text-anchor': 'end', class: 'heat-row' }, r));
    cols.forEach((_, j) => {
      const c = cell(i, j);
      if (!c) return;
      marks++;
      const level = c.value === null || c.value === undefined ? -1 : Math.min(1, c.value / (max || 1));
      const g = s('g', Object.assign({ class: 'cell' + (c.mark ? ' mark' : '') }, c.attrs || {}),
        s('title', null, c.title || c.text || ''),
        s('rect', {
          x: rowLabelWidth + j * cellWidth + 1, y: y + 1, width: cellWidth - 2, height: cellHeight - 2, rx: 3,
          fill: level < 0 ? '#f1f5f9' : shade(level),
        }));
      if (c.text && cellWidth >= 28) {
        g.append(s('text', {
          x: rowLabelWidth + j * cellWidth + cellWidth / 2, y: y + cellHeight / 2 + 4, 'text-anchor': 'middle',
          class: 'heat-text' + (level > 0.55 ? ' light' : ''),
        }, c.text));
      }
      svg.append(g);
    });
  });
  svg.dataset.marks = marks;
  return svg;
}

// shade maps 0..1 to a teal ramp, pale to deep.
export function shade(level) {
  const from = [236, 253, 245], to = [15, 118, 110];
  const k = Math.sqrt(Math.max(0, Math.min(1, level)));
  const c = from.map((f, i) => Math.round(f + (to[i] - f) * k));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}
