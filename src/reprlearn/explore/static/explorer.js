// reprlearn explorer: a self-contained WebGL scatter plot of an embedding space with
// search and nearest neighbours. Written for reprlearn (no external code, no CDN).
// Data: window.REPRLEARN_EXPLORE from data.js (columnar, see reprlearn/explore/page.py).
"use strict";
(function () {
  const D = window.REPRLEARN_EXPLORE;
  const n = D.id.length;
  const canvas = document.getElementById("plot");
  const gl = canvas.getContext("webgl2", { preserveDrawingBuffer: true, antialias: true })
    || canvas.getContext("webgl", { preserveDrawingBuffer: true });
  const PALETTE = [[31,119,180],[255,127,14],[44,160,44],[214,39,40],[148,103,189],[140,86,75],
    [227,119,194],[127,127,127],[188,189,34],[23,190,207],[57,59,121],[99,121,57],[140,109,49],
    [132,60,57],[123,65,115],[82,84,163],[181,207,107],[231,186,82],[214,97,107],[206,109,189]];
  const state = { encoder: D.names[0], color: D.label ? "label" : "cluster", selected: -1,
                  maxAgreement: 1, scale: 1, cx: 0, cy: 0 };

  // ---- WebGL points ---------------------------------------------------------------
  const VS = `attribute vec2 a_pos; attribute vec3 a_col; uniform vec2 u_scale; uniform vec2 u_off;
    uniform float u_size; varying vec3 v_col;
    void main() { gl_Position = vec4((a_pos - u_off) * u_scale, 0.0, 1.0); gl_PointSize = u_size; v_col = a_col; }`;
  const FS = `precision mediump float; varying vec3 v_col; uniform float u_alpha;
    void main() { vec2 d = gl_PointCoord - 0.5; if (dot(d, d) > 0.25) discard; gl_FragColor = vec4(v_col * u_alpha, u_alpha); }`;  // premultiplied: the canvas stays opaque
  function shader(type, src) {
    const s = gl.createShader(type); gl.shaderSource(s, src); gl.compileShader(s);
    if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(s));
    return s;
  }
  const prog = gl.createProgram();
  gl.attachShader(prog, shader(gl.VERTEX_SHADER, VS));
  gl.attachShader(prog, shader(gl.FRAGMENT_SHADER, FS));
  gl.linkProgram(prog);
  gl.useProgram(prog);
  const loc = { pos: gl.getAttribLocation(prog, "a_pos"), col: gl.getAttribLocation(prog, "a_col"),
    scale: gl.getUniformLocation(prog, "u_scale"), off: gl.getUniformLocation(prog, "u_off"),
    size: gl.getUniformLocation(prog, "u_size"), alpha: gl.getUniformLocation(prog, "u_alpha") };
  const posBuf = gl.createBuffer(), colBuf = gl.createBuffer(), hiPos = gl.createBuffer(), hiCol = gl.createBuffer();
  gl.enable(gl.BLEND); gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA);

  // draw in a fixed shuffled order, so no class is painted over the others
  const ORDER = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1, seed = 12345; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const j = seed % (i + 1); [ORDER[i], ORDER[j]] = [ORDER[j], ORDER[i]];
  }
  function coords() { return D.coords[state.encoder]; }
  function visible(i) { return !D.agreement || D.agreement[i] <= state.maxAgreement + 1e-9; }
  function colourOf(i) {
    const c = state.color;
    if (c === "knn_correct") return D.knn_correct[i] ? [44,160,44] : [214,39,40];
    if (c === "agreement") { const a = D.agreement[i]; return [255 * (1 - a), 60, 255 * a]; }
    const v = c === "label" ? D.label_index[i] : c === "knn_prediction" ? D.knn_prediction_index[i] : D.cluster[i];
    return PALETTE[v % PALETTE.length];
  }
  function fit() {
    const xy = coords(); let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (let i = 0; i < n; i++) { const x = xy[2*i], y = xy[2*i+1];
      if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y; }
    state.cx = (x0 + x1) / 2; state.cy = (y0 + y1) / 2;
    state.scale = 1.9 / Math.max(x1 - x0, y1 - y0, 1e-9);
  }
  function upload() {
    const xy = coords(), pos = [], col = [];
    for (const i of ORDER) { if (!visible(i)) continue;
      pos.push(xy[2*i], xy[2*i+1]); const c = colourOf(i); col.push(c[0]/255, c[1]/255, c[2]/255); }
    state.count = pos.length / 2;
    gl.bindBuffer(gl.ARRAY_BUFFER, posBuf); gl.bufferData(gl.ARRAY_BUFFER, new Float32Array(pos), gl.STATIC_DRAW);
    gl.bindBuffer(gl.ARRAY_BUFFER, colBuf); gl.bufferData(gl.ARRAY_BUFFER, new Float32Array(col), gl.STATIC_DRAW);
    const hp = [], hc = [];
    if (state.selected >= 0) {
      for (const j of D.neighbors[state.encoder][state.selected]) { hp.push(xy[2*j], xy[2*j+1]); hc.push(0.1, 0.1, 0.1); }
      hp.push(xy[2*state.selected], xy[2*state.selected+1]); hc.push(0.9, 0, 0.55);
    }
    state.hiCount = hp.length / 2;
    gl.bindBuffer(gl.ARRAY_BUFFER, hiPos); gl.bufferData(gl.ARRAY_BUFFER, new Float32Array(hp), gl.STATIC_DRAW);
    gl.bindBuffer(gl.ARRAY_BUFFER, hiCol); gl.bufferData(gl.ARRAY_BUFFER, new Float32Array(hc), gl.STATIC_DRAW);
  }
  function drawSet(p, c, count, size, alpha) {
    if (!count) return;
    gl.bindBuffer(gl.ARRAY_BUFFER, p); gl.enableVertexAttribArray(loc.pos); gl.vertexAttribPointer(loc.pos, 2, gl.FLOAT, false, 0, 0);
    gl.bindBuffer(gl.ARRAY_BUFFER, c); gl.enableVertexAttribArray(loc.col); gl.vertexAttribPointer(loc.col, 3, gl.FLOAT, false, 0, 0);
    gl.uniform1f(loc.size, size * (window.devicePixelRatio || 1)); gl.uniform1f(loc.alpha, alpha);
    gl.drawArrays(gl.POINTS, 0, count);
  }
  function draw() {
    const w = canvas.clientWidth, h = canvas.clientHeight, r = window.devicePixelRatio || 1;
    if (canvas.width !== w * r || canvas.height !== h * r) { canvas.width = w * r; canvas.height = h * r; }
    gl.viewport(0, 0, canvas.width, canvas.height);
    gl.clearColor(1, 1, 1, 1); gl.clear(gl.COLOR_BUFFER_BIT);
    const aspect = w / Math.max(h, 1);
    gl.uniform2f(loc.scale, state.scale / Math.max(aspect, 1), state.scale * Math.min(aspect, 1));
    gl.uniform2f(loc.off, state.cx, state.cy);
    const size = Math.max(2, Math.min(8, 600 / Math.sqrt(n + 1)));
    drawSet(posBuf, colBuf, state.count, size, n > 20000 ? 0.55 : 0.8);
    drawSet(hiPos, hiCol, state.hiCount, size * 2.2, 1);
  }
  function toData(px, py) {
    const w = canvas.clientWidth, h = canvas.clientHeight, aspect = w / Math.max(h, 1);
    const sx = state.scale / Math.max(aspect, 1), sy = state.scale * Math.min(aspect, 1);
    return [(px / w * 2 - 1) / sx + state.cx, (1 - py / h * 2) / sy + state.cy];
  }

  // ---- interaction ----------------------------------------------------------------
  let drag = null;
  canvas.addEventListener("mousedown", (e) => { drag = { x: e.clientX, y: e.clientY, moved: false }; });
  window.addEventListener("mouseup", (e) => {
    if (drag && !drag.moved) pick(e);
    drag = null;
  });
  window.addEventListener("mousemove", (e) => {
    if (!drag) return;
    const [x0, y0] = toData(drag.x, drag.y), [x1, y1] = toData(e.clientX, e.clientY);
    if (Math.abs(e.clientX - drag.x) + Math.abs(e.clientY - drag.y) > 2) drag.moved = true;
    state.cx -= x1 - x0; state.cy -= y1 - y0; drag.x = e.clientX; drag.y = e.clientY; draw();
  });
  canvas.addEventListener("wheel", (e) => {
    e.preventDefault();
    const rect = canvas.getBoundingClientRect(), [x, y] = toData(e.clientX - rect.left, e.clientY - rect.top);
    const f = Math.exp(-e.deltaY * 0.001);
    state.scale *= f; state.cx = x - (x - state.cx) / f; state.cy = y - (y - state.cy) / f; draw();
  }, { passive: false });
  function pick(e) {
    const rect = canvas.getBoundingClientRect(), [x, y] = toData(e.clientX - rect.left, e.clientY - rect.top);
    const xy = coords(); let best = -1, bd = Infinity;
    for (let i = 0; i < n; i++) { if (!visible(i)) continue;
      const d = (xy[2*i] - x) ** 2 + (xy[2*i+1] - y) ** 2; if (d < bd) { bd = d; best = i; } }
    const tol = (12 / canvas.clientWidth * 2 / state.scale) ** 2;
    if (best >= 0 && bd < tol * 4) select(best);
  }
  function esc(s) { return String(s ?? "").replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]); }
  function itemHtml(i) {
    const thumb = D.thumbnail ? `<img class="thumb" alt="" src="data:image/png;base64,${D.thumbnail[i]}">` : "";
    const text = D.text ? esc(D.text[i]) : esc(D.path ? D.path[i] : "");
    const label = D.label ? ` <b>${esc(D.label[i])}</b>` : "";
    return `${thumb}<span class="muted">#${D.id[i]}</span>${label} <span class="item-text">${text}</span>`;
  }
  function select(i) {
    state.selected = i;
    const enc = state.encoder, ids = D.neighbors[enc][i], dist = D.distances[enc][i];
    let html = `<h3>Item</h3><div id="selected" data-row="${i}">${itemHtml(i)}</div>`;
    if (D.knn_prediction) html += `<div class="${D.knn_correct[i] ? "good" : "bad"}">kNN prediction: ${esc(D.knn_prediction[i])}</div>`;
    if (D.agreement) html += `<div class="muted">neighbour agreement across encoders (Jaccard): ${D.agreement[i].toFixed(2)}</div>`;
    html += `<div class="muted">cluster ${D.cluster[i]}</div><h3>Nearest neighbours (${esc(enc)})</h3><ul id="neighbors">`;
    ids.forEach((j, r) => { html += `<li data-row="${j}">${r + 1}. cos ${(1 - dist[r]).toFixed(3)} · ${itemHtml(j)}</li>`; });
    document.getElementById("details").innerHTML = html + "</ul>";
    document.querySelectorAll("#neighbors li").forEach((li) => li.addEventListener("click", () => select(+li.dataset.row)));
    upload(); draw();
  }
  function search(q) {
    q = q.trim().toLowerCase(); const out = [];
    const m = /^id:(\d+)$/.exec(q);
    for (let i = 0; i < n && out.length < 20; i++) {
      if (m ? D.id[i] === +m[1] : q && String(D.text ? D.text[i] : (D.path || [])[i] || "").toLowerCase().includes(q)) out.push(i);
    }
    const ul = document.getElementById("matches");
    ul.innerHTML = out.map((i) => `<li data-row="${i}">${itemHtml(i)}</li>`).join("") || (q ? "<li class='muted'>no match</li>" : "");
    ul.querySelectorAll("li[data-row]").forEach((li) => li.addEventListener("click", () => select(+li.dataset.row)));
    return out;
  }
  const box = document.getElementById("search");
  box.addEventListener("input", () => search(box.value));
  box.addEventListener("keydown", (e) => { if (e.key === "Enter") { const r = search(box.value); if (r.length) select(r[0]); } });

  const encSel = document.getElementById("encoder"), colSel = document.getElementById("color");
  D.names.forEach((name) => encSel.add(new Option(name, name)));
  const colours = [];
  if (D.label) colours.push("label");
  if (D.knn_prediction) colours.push("knn_prediction", "knn_correct");
  colours.push("cluster");
  if (D.agreement) colours.push("agreement");
  colours.forEach((c) => colSel.add(new Option(c, c)));
  colSel.value = state.color;
  encSel.addEventListener("change", () => { state.encoder = encSel.value; fit(); upload(); draw(); if (state.selected >= 0) select(state.selected); });
  colSel.addEventListener("change", () => { state.color = colSel.value; upload(); draw(); legend(); });
  if (D.agreement) {
    document.getElementById("agreement-filter").hidden = false;
    const s = document.getElementById("agreement");
    s.addEventListener("input", () => { state.maxAgreement = +s.value; document.getElementById("agreement-value").textContent = s.value; upload(); draw(); });
  }
  function legend() {
    const el = document.getElementById("legend");
    if (state.color !== "label" && state.color !== "knn_prediction") { el.innerHTML = state.color; return; }
    el.innerHTML = D.label_names.map((name, v) => { const c = PALETTE[v % PALETTE.length];
      return `<div><span style="background:rgb(${c})"></span>${esc(name)}</div>`; }).join("");
  }
  document.getElementById("title").textContent = D.title;
  document.getElementById("summary").textContent =
    `${n.toLocaleString()} items · ${D.k} neighbours each · ${D.names.length} encoder(s): ${D.names.join(", ")}`;
  window.addEventListener("resize", draw);
  fit(); upload(); draw(); legend();
  window.explorer = { select, search, state, ready: true };
  document.body.dataset.ready = "1";
})();
