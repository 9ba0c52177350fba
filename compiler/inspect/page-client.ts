/**
 * The inspect page's style and script, inlined into every page. The script reads the page's
 * JSON (see page.ts), draws the chosen entry's window (graph with kernels outlined, kernel
 * list, memory over time) as SVG and tables, and shows a kernel's code when it is selected.
 * Every name and path is set with textContent or setAttribute: none is parsed as markup.
 */

export const PAGE_CSS = `
:root { font: 13px/1.4 system-ui, sans-serif; color: #1c2330; background: #fbfbfd; }
body { margin: 0; }
header { padding: 10px 16px 8px; background: #fff; border-bottom: 1px solid #dde1e8; position: sticky; top: 0; z-index: 2; }
h1 { font-size: 18px; margin: 0 0 2px; } h1 small, h2 small { font-weight: normal; color: #5b6476; font-size: 12px; margin-left: 6px; }
h2 { font-size: 14px; margin: 8px 0 6px; }
.summary { margin: 0 0 6px; color: #333c4d; }
nav button, nav select { font: inherit; margin-right: 4px; padding: 2px 8px; border: 1px solid #b8c0cc; background: #f3f5f8; border-radius: 4px; cursor: pointer; }
nav button.on { background: #1f5fbf; color: #fff; border-color: #1f5fbf; }
nav .note { color: #5b6476; margin-left: 8px; }
main { display: grid; grid-template-columns: minmax(0, 1fr) minmax(360px, 30%); gap: 0 16px; padding: 0 16px 16px; }
#graph { overflow: auto; border: 1px solid #dde1e8; background: #fff; }
#graph.tall { max-height: 1600px; }
#memory-panel { grid-column: 1 / 3; }
#memory { overflow-x: auto; border: 1px solid #dde1e8; background: #fff; }
aside { min-width: 0; }
table { border-collapse: collapse; width: 100%; font-size: 12px; }
th, td { text-align: left; padding: 3px 6px; border-bottom: 1px solid #e6e9ef; vertical-align: top; overflow-wrap: anywhere; }
#kernels { table-layout: fixed; } #kernels th:nth-child(1) { width: 26px; } #kernels th:nth-child(2) { width: 34%; } #kernels th:nth-child(4), #kernels th:nth-child(5) { width: 56px; }
th { color: #5b6476; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
#kernels tr[data-kernel] { cursor: pointer; } #kernels tr:hover { background: #f0f4fb; }
#kernels tr.sel { background: #fff4cc; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }
.stored { font-weight: 600; }
pre#code { background: #0f1623; color: #dfe6f1; padding: 10px; border-radius: 6px; font: 11.5px/1.45 ui-monospace, monospace; overflow: auto; max-height: 620px; white-space: pre; min-height: 40px; }
.legend { color: #5b6476; font-size: 12px; }
.legend span { margin-right: 10px; } .legend span::before { content: ''; display: inline-block; width: 12px; height: 10px; margin-right: 4px; border: 2px solid; vertical-align: -1px; }
.k-fwd::before { border-color: #2d6cdf !important; } .k-bwd::before { border-color: #c2410c !important; } .k-stub::before { border-color: #9aa3b2 !important; background: #eef0f4; }
.k-cross::before { border-width: 2px 0 0 0 !important; border-style: dashed !important; border-color: #d97706 !important; height: 0 !important; vertical-align: 3px !important; }
svg text { font: 11px ui-monospace, monospace; fill: #1c2330; }
svg .node rect { fill: #fff; stroke-width: 1.6; }
svg .node.fwd rect { stroke: #2d6cdf; } svg .node.bwd rect { stroke: #c2410c; }
svg .node.stub rect { fill: #eef0f4; stroke: #9aa3b2; stroke-dasharray: 3 2; }
svg .node .name { font-weight: 700; } svg .node .nota { fill: #7c2d12; font-style: italic; } svg .node.fwd .nota { fill: #1e40af; } svg .node .loc { fill: #5b6476; }
svg .node.sel rect { stroke-width: 3.5; }
svg .cluster { cursor: pointer; } svg .cluster rect { stroke-width: 1.5; }
svg .cluster.sel rect { stroke-width: 4; }
svg .cluster text { font-weight: 700; font-size: 11.5px; }
svg .edge { fill: none; stroke: #8b94a5; stroke-width: 1.2; }
svg .edge.cross { stroke: #d97706; stroke-dasharray: 5 3; stroke-width: 1.6; }
svg .mem rect { stroke: #fff; stroke-width: 1; } svg .mem.sel rect { stroke: #111; stroke-width: 2.5; }
svg .axis { fill: #5b6476; font-size: 10.5px; }
`;

export const CLIENT_JS = `
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('gradc-data').textContent);
  var NS = 'http://www.w3.org/2000/svg';
  var state = { entry: D.entries.length - 1, window: 0, kernel: null };

  function svg(tag, attrs, text) {
    var e = document.createElementNS(NS, tag);
    for (var k in attrs) e.setAttribute(k, String(attrs[k]));
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function html(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs) e.setAttribute(k, String(attrs[k]));
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function clear(id) { var e = document.getElementById(id); while (e.firstChild) e.removeChild(e.firstChild); return e; }
  /** A kernel's colour, by its launch number in the entry. */
  function color(t, light) { var hue = Math.round((t * 137.508 + 200) % 360); return light ? 'hsl(' + hue + ',75%,95%)' : 'hsl(' + hue + ',60%,40%)'; }
  function human(n) { return n >= 1e9 ? (n / 1e9).toFixed(2) + ' G' : n >= 1e6 ? (n / 1e6).toFixed(2) + ' M' : n >= 1e3 ? (n / 1e3).toFixed(1) + ' k' : n + ' '; }
  function fit(text, px) { var max = Math.floor(px / 6.7); return text.length <= max ? text : text.slice(0, max - 1) + '\\u2026'; }
  function base(loc) { return loc.replace(/^.*[\\\\/]/, ''); }
  function entry() { return D.entries[state.entry]; }
  function win() { return entry().windows[state.window]; }
  function kernelAt(t) { var k = entry().steps[t]; return k < 0 ? 'update' : k; }
  function kernelName(k) { return k === 'update' ? D.update.name : D.kernels[k].name; }

  function nav() {
    var es = clear('entries');
    D.entries.forEach(function (e, i) {
      var b = html('button', { 'data-entry': e.name, class: i === state.entry ? 'on' : '' }, e.name + ' (' + e.steps.length + (e.steps.length === 1 ? ' launch)' : ' launches)'));
      b.onclick = function () { state.entry = i; state.window = 0; state.kernel = null; render(); };
      es.appendChild(b);
    });
    if (D.others.length) {
      es.appendChild(html('span', { class: 'note' }, D.others.map(function (o) { return o[0] + ' runs ' + o[1] + ' of these launches'; }).join('; ')));
    }
    var p = clear('pager');
    var ws = entry().windows;
    if (ws.length < 2) return;
    var prev = html('button', { id: 'prev' }, '\\u2190');
    var next = html('button', { id: 'next' }, '\\u2192');
    var pick = html('select', { id: 'window' });
    ws.forEach(function (w, i) { var o = html('option', { value: i }, 'launches ' + (w.from + 1) + '\\u2013' + w.to); if (i === state.window) o.selected = true; pick.appendChild(o); });
    prev.onclick = function () { if (state.window > 0) { state.window--; state.kernel = null; render(); } };
    next.onclick = function () { if (state.window < ws.length - 1) { state.window++; state.kernel = null; render(); } };
    pick.onchange = function () { state.window = Number(pick.value); state.kernel = null; render(); };
    p.appendChild(prev); p.appendChild(pick); p.appendChild(next);
    p.appendChild(html('span', { class: 'note' }, ws.length + ' windows; windows of identical layers share one layout'));
  }

  function drawGraph() {
    var e = entry(), w = win(), L = D.layouts[w.layout], B = D.box, S = D.stub;
    document.getElementById('graph-note').textContent = e.name + ': launches ' + (w.from + 1) + '\\u2013' + w.to + ' of ' + e.steps.length;
    var slot = {};
    w.nodes.forEach(function (id, i) { slot[id] = i; });
    var s = svg('svg', { width: L.width, height: L.height, viewBox: '0 0 ' + L.width + ' ' + L.height, id: 'graph-svg' });
    var defs = svg('defs');
    var marker = svg('marker', { id: 'arrow', viewBox: '0 0 8 8', refX: 7, refY: 4, markerWidth: 7, markerHeight: 7, orient: 'auto' });
    marker.appendChild(svg('path', { d: 'M0,0 L8,4 L0,8 z', fill: '#8b94a5' }));
    defs.appendChild(marker);
    s.appendChild(defs);
    for (var t = w.from; t < w.to; t++) {
      var k = kernelAt(t);
      if (k === 'update') continue;
      var box = outline(L, w, t, k, slot);
      var c = svg('g', { class: 'cluster', 'data-kernel': k });
      c.appendChild(svg('rect', { x: box[0], y: box[1], width: box[2], height: box[3], rx: 7, fill: color(t, true), stroke: color(t, false) }));
      c.appendChild(svg('text', { x: box[0] + 6, y: box[1] + 15, style: 'fill:' + color(t, false) }, fit('#' + (t + 1) + ' ' + D.kernels[k].name, box[2] - 8)));
      c.appendChild(svg('title', {}, 'kernel ' + D.kernels[k].name + ' (launch ' + (t + 1) + '): ' + D.kernels[k].kind + ' over ' + D.kernels[k].domain));
      c.onclick = select.bind(null, k);
      s.appendChild(c);
    }
    L.edges.forEach(function (edge) {
      var from = D.nodes[w.nodes[edge.from]], to = D.nodes[w.nodes[edge.to]];
      var cross = from[5] === 1 && to[5] === 0;
      var d = edge.points.map(function (p, i) { return (i ? 'L' : 'M') + p[0] + ',' + p[1]; }).join(' ');
      s.appendChild(svg('path', { d: d, class: cross ? 'edge cross' : 'edge', 'marker-end': 'url(#arrow)' }));
    });
    w.nodes.forEach(function (id, i) {
      var n = D.nodes[id], at = L.at[i], stub = i >= w.computed;
      var size = stub ? S : B;
      var g = svg('g', { class: 'node ' + (stub ? 'stub' : n[5] ? 'fwd' : 'bwd'), 'data-node': id, transform: 'translate(' + (at[0] - size.width / 2) + ',' + (at[1] - size.height / 2) + ')' });
      g.appendChild(svg('rect', { width: size.width, height: size.height, rx: 4 }));
      if (stub) {
        g.appendChild(svg('text', { x: 6, y: 16 }, fit(n[0] + ' ' + n[2], size.width - 8)));
      } else {
        g.appendChild(svg('text', { x: 6, y: 14, class: 'name' }, fit(n[0], size.width - 8)));
        g.appendChild(svg('text', { x: 6, y: 28, class: 'nota' }, fit(n[4], size.width - 8)));
        g.appendChild(svg('text', { x: 6, y: 42 }, fit(n[1] + ' ' + n[2], size.width - 8)));
        g.appendChild(svg('text', { x: 6, y: 56, class: 'loc' }, fit(n[3] ? base(n[3]) : '(no source line)', size.width - 8)));
      }
      g.appendChild(svg('title', {}, '%' + id + ' ' + n[0] + (n[4] ? '  ' + n[4] : '') + '\\n' + n[1] + ' ' + n[2] + (n[3] ? '\\n' + n[3] : '') + '\\n' + (n[5] ? 'forward' : 'backward')));
      g.onclick = function () { var k = kernelOfNode(id); if (k !== null) select(k); };
      s.appendChild(g);
    });
    var holder = clear('graph');
    holder.appendChild(s);
    // A graph a little wider than the panel is scaled to fit; a wide one scrolls.
    var room = holder.clientWidth - 2;
    var scale = L.width > room && room / L.width >= 0.6 ? room / L.width : 1;
    if (scale < 1) { s.setAttribute('width', room); s.setAttribute('height', Math.round(L.height * scale)); }
    // A tall window scrolls inside its panel; a short one is shown whole.
    holder.classList.toggle('tall', L.height * scale > 2000);
  }

  /** A kernel's outline [x, y, width, height]: dagre's group, or around the kernel's boxes. */
  function outline(L, w, t, k, slot) {
    var B = D.box;
    if (L.clusters) {
      var c = L.clusters.find(function (c) { return c[0] === t - w.from; });
      return [c[1], c[2], c[3], c[4]];
    }
    var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    D.kernels[k].nodes.forEach(function (id) {
      var at = L.at[slot[id]];
      x0 = Math.min(x0, at[0] - B.width / 2); x1 = Math.max(x1, at[0] + B.width / 2);
      y0 = Math.min(y0, at[1] - B.height / 2); y1 = Math.max(y1, at[1] + B.height / 2);
    });
    return [x0 - 8, y0 - 26, x1 - x0 + 16, y1 - y0 + 34];
  }

  function kernelOfNode(id) {
    var w = win();
    for (var t = w.from; t < w.to; t++) { var k = kernelAt(t); if (k !== 'update' && D.kernels[k].nodes.indexOf(id) >= 0) return k; }
    return null;
  }

  function listKernels() {
    var e = entry(), w = win(), table = clear('kernels');
    var head = html('tr');
    ['#', 'kernel', 'computes (stored in bold)', 'FLOPs', 'bytes'].forEach(function (h) { head.appendChild(html('th', {}, h)); });
    table.appendChild(head);
    for (var t = w.from; t < w.to; t++) {
      var k = kernelAt(t);
      var row = html('tr', { 'data-kernel': k, 'data-step': t });
      row.appendChild(html('td', { class: 'num' }, String(t + 1)));
      var name = html('td');
      var sw = html('span', { class: 'swatch', style: 'background:' + color(t, false) });
      name.appendChild(sw);
      name.appendChild(document.createTextNode(kernelName(k)));
      name.appendChild(html('br'));
      name.appendChild(html('small', {}, k === 'update' ? 'every param' : D.kernels[k].kind + ' ' + D.kernels[k].domain));
      row.appendChild(name);
      var what = html('td');
      if (k === 'update') what.textContent = D.update.doc;
      else D.kernels[k].nodes.forEach(function (id, i) {
        if (i) what.appendChild(document.createTextNode(', '));
        what.appendChild(html('span', { class: D.kernels[k].stores.indexOf(id) >= 0 ? 'stored' : '' }, D.nodes[id][0]));
      });
      row.appendChild(what);
      var cost = k === 'update' ? D.update : D.kernels[k];
      row.appendChild(html('td', { class: 'num' }, human(cost.flops)));
      row.appendChild(html('td', { class: 'num' }, human(cost.bytes)));
      row.onclick = select.bind(null, k);
      table.appendChild(row);
    }
  }

  function drawMemory() {
    var e = entry(), w = win(), arena = Math.max(D.sizes.arena, 1);
    document.getElementById('memory-note').textContent = 'the arena over ' + e.name + '\\u2019s launches: ' + (D.sizes.arena * 4).toLocaleString('en-US') + ' bytes in all (' + (D.sizes.unshared * 4).toLocaleString('en-US') + ' without sharing); beside it params ' + (D.sizes.param * 4).toLocaleString('en-US') + ' B, gradients ' + (D.sizes.grad * 4).toLocaleString('en-US') + ' B, inputs ' + (D.sizes.input * 4).toLocaleString('en-US') + ' B';
    var cols = w.to - w.from, left = 64, H = 240, top = 8;
    var cw = Math.max(96, Math.floor((document.getElementById('memory').clientWidth - left - 12) / cols));
    var width = left + cols * cw + 8, height = top + H + 40;
    var s = svg('svg', { width: width, height: height, id: 'memory-svg' });
    for (var t = w.from; t < w.to; t++) {
      var x = left + (t - w.from) * cw;
      s.appendChild(svg('rect', { x: x, y: top, width: cw, height: H, fill: (t % 2) ? '#f6f7fa' : '#fff' }));
      s.appendChild(svg('text', { x: x + 4, y: top + H + 14, class: 'axis' }, '#' + (t + 1)));
      s.appendChild(svg('text', { x: x + 4, y: top + H + 27, class: 'axis' }, fit(kernelName(kernelAt(t)), cw - 6)));
    }
    [0, arena].forEach(function (f) {
      s.appendChild(svg('text', { x: 4, y: top + f / arena * H + (f ? 0 : 9), class: 'axis' }, (f * 4).toLocaleString('en-US') + ' B'));
    });
    var rows = [];
    e.memory.forEach(function (m) {
      var id = m[0], offset = m[1], length = m[2], from = m[3], to = Math.min(m[4], e.steps.length - 1);
      if (from >= w.to || to < w.from) return;
      var a = Math.max(from, w.from), b = Math.min(to, w.to - 1);
      var y = top + offset / arena * H, h = Math.max(2, length / arena * H);
      var g = svg('g', { class: 'mem', 'data-node': id, 'data-offset': offset });
      g.appendChild(svg('rect', { x: left + (a - w.from) * cw + 1, y: y, width: (b - a + 1) * cw - 2, height: h, fill: color(from, false), 'fill-opacity': 0.75 }));
      if (h >= 12) g.appendChild(svg('text', { x: left + (a - w.from) * cw + 5, y: y + Math.min(h, 24) / 2 + 4, style: 'fill:#fff;font-weight:700' }, fit(D.nodes[id][0] + ' ' + D.nodes[id][2], (b - a + 1) * cw - 8)));
      g.appendChild(svg('title', {}, D.nodes[id][0] + ' ' + D.nodes[id][2] + ': bytes ' + offset * 4 + '\\u2013' + (offset + length) * 4 + ' of the arena, launches ' + (from + 1) + '\\u2013' + (to + 1)));
      s.appendChild(g);
      rows.push(m);
    });
    clear('memory').appendChild(s);
    var table = clear('memory-table');
    var head = html('tr');
    ['value', 'shape', 'arena bytes', 'size', 'lives during launches', 'written by'].forEach(function (h) { head.appendChild(html('th', {}, h)); });
    table.appendChild(head);
    rows.sort(function (p, q) { return p[1] - q[1] || p[3] - q[3]; }).forEach(function (m) {
      var to = Math.min(m[4], e.steps.length - 1);
      var row = html('tr', { 'data-node': m[0], 'data-offset': m[1] });
      row.appendChild(html('td', {}, D.nodes[m[0]][0]));
      row.appendChild(html('td', {}, D.nodes[m[0]][2]));
      row.appendChild(html('td', { class: 'num' }, (m[1] * 4).toLocaleString('en-US') + '\\u2013' + ((m[1] + m[2]) * 4).toLocaleString('en-US')));
      row.appendChild(html('td', { class: 'num' }, (m[2] * 4).toLocaleString('en-US') + ' B'));
      row.appendChild(html('td', {}, '#' + (m[3] + 1) + '\\u2013#' + (to + 1) + (m[4] >= e.steps.length ? ' (returned)' : '')));
      row.appendChild(html('td', {}, kernelName(kernelAt(m[3]))));
      table.appendChild(row);
    });
  }

  function select(k) {
    state.kernel = k;
    var nodes = k === 'update' ? [] : D.kernels[k].nodes;
    document.querySelectorAll('[data-kernel]').forEach(function (el) { el.classList.toggle('sel', el.getAttribute('data-kernel') === String(k)); });
    document.querySelectorAll('#graph .node').forEach(function (el) { el.classList.toggle('sel', nodes.indexOf(Number(el.getAttribute('data-node'))) >= 0); });
    var stores = k === 'update' ? [] : D.kernels[k].stores;
    document.querySelectorAll('#memory .mem').forEach(function (el) { el.classList.toggle('sel', stores.indexOf(Number(el.getAttribute('data-node'))) >= 0); });
    var code = k === 'update' ? D.update.code : D.kernels[k].code;
    document.getElementById('code-note').textContent = kernelName(k) + ' in ' + D.target + (code.length > 1 ? ' (' + code.length + ' launches)' : '') + (k === 'update' ? '' : '; also runs in: ' + D.kernels[k].entries.join(', '));
    document.getElementById('code').textContent = code.map(function (c) { return D.code[c][1]; }).join('\\n\\n');
  }

  function render() {
    nav(); drawGraph(); listKernels(); drawMemory();
    if (state.kernel === null) {
      var w = win();
      state.kernel = kernelAt(w.from);
    }
    select(state.kernel);
  }

  window.gradcInspect = { data: D, state: state, select: select, show: function (entryName, windowIndex) {
    state.entry = D.entries.findIndex(function (e) { return e.name === entryName; });
    state.window = windowIndex || 0; state.kernel = null; render();
  } };
  render();
  document.body.dataset.ready = 'true';
})();
`;
