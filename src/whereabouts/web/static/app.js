// whereabouts web app: plain JavaScript, nothing fetched from elsewhere. The street maps are
// MapLibre GL (vendored) over the workspace's own vector tiles; the case page's overview map
// is SVG in the workspace's grid coordinates (metres, y north).
"use strict";

(function () {
  const SVGNS = "http://www.w3.org/2000/svg";
  const UNIT_COLOURS = ["#1f5fa8", "#d9731a", "#2a9d8f", "#7b2cbf", "#b5179e", "#6b8e23"];
  // times are shown in the workspace's zone (UK time for a force in Great Britain)
  const TZ = (document.body && document.body.getAttribute("data-tz")) || "Europe/London";
  const ZONE = (document.body && document.body.getAttribute("data-zone-label")) || "UK time";
  const fmtTime = new Intl.DateTimeFormat("en-GB", {
    timeZone: TZ, day: "2-digit", month: "2-digit", year: "numeric",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  });

  // ---- small helpers -------------------------------------------------------------------
  function el(tag, attrs, ...kids) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined) continue;
      if (k === "text") node.textContent = v; else node.setAttribute(k, v);
    }
    for (const kid of kids) node.append(kid);
    return node;
  }
  function svg(tag, attrs) {
    const node = document.createElementNS(SVGNS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    return node;
  }
  function ukTime(value) {
    if (value === null || value === undefined) return "–";
    const d = typeof value === "number" ? new Date(value * 1000) : new Date(value);
    return fmtTime.format(d);
  }
  function where(o) {
    // nearest named place, with how far it is when the analysis says (it may be kilometres)
    const d = o.place_distance_m;
    const far = d === null || d === undefined ? "" : d < 1000 ? ` (${Math.round(d)} m)` : ` (${(d / 1000).toFixed(1)} km)`;
    // the nearest road, when the analysis found one within its road distance
    const road = o.road ? `on ${o.road} (${Math.round(o.road_distance_m)} m) · ` : "";
    return `${road}${o.place ? "near " + o.place + far + " · " : ""}${o.grid_ref || ""}`;
  }
  const WORDS = (() => {
    const node = document.getElementById("words");
    try { return JSON.parse(node ? node.textContent : "{}") || {}; } catch (e) { return {}; }
  })();
  function reasonWord(code) { return (WORDS.reasons || {})[code] || String(code).replace(/_/g, " "); }
  function flagWord(code) { return (WORDS.flags || {})[code] || String(code).replace(/_/g, " "); }
  function metres(m) {
    if (m === null || m === undefined || Number.isNaN(Number(m))) return "–";
    return m < 1000 ? `${Math.round(m)} m` : `${(m / 1000).toFixed(1)} km`;
  }
  function minutes(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    const m = Math.round(seconds / 60);
    return m < 60 ? `${m} min` : `${Math.floor(m / 60)} h ${m % 60} min`;
  }
  // Text from the analysis made readable: long decimals rounded, codes in words.
  function tidy(text) {
    return String(text ?? "")
      .replace(/\d+\.\d{3,}/g, (n) => { const v = Number(n); return String(Math.abs(v) >= 10 ? Math.round(v) : Number(v.toFixed(1))); })
      .replace(/\b[a-z]+(?:_[a-z]+)+\b/g, (code) => (WORDS.reasons || {})[code] || (WORDS.flags || {})[code] || code.replace(/_/g, " "));
  }
  const EVIDENCE_KINDS = { reason: "policing reason", flag: "flag", partial: "partial reason" };
  function codeWord(kind, code) { return kind === "flag" ? flagWord(code) : kind === "reason" ? reasonWord(code) : tidy(code); }
  // a "not assessed" item, "label: why", with the label in words
  function assessedWords(item) {
    const at = String(item).indexOf(": ");
    if (at < 0) return tidy(item);
    const code = item.slice(0, at);
    const word = (WORDS.reasons || {})[code] || (WORDS.flags || {})[code] || code.replace(/_/g, " ");
    return `${word}: ${tidy(item.slice(at + 2))}`;
  }
  function csrf() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }
  async function api(method, url, body) {
    const opts = { method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
    if (method !== "GET") opts.headers["X-CSRF-Token"] = csrf();
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const res = await fetch(url, opts);
    if (res.status === 401 && !url.endsWith("/api/session")) {
      window.location.assign("/login");
      throw new Error("signed out");
    }
    const data = res.status === 204 ? null : await res.json();
    if (!res.ok) {
      const err = new Error((data && data.message) || res.statusText);
      err.hint = data && data.hint;
      err.status = res.status;
      throw err;
    }
    return data;
  }
  function showError(target, err) {
    if (target) target.textContent = err.message + (err.hint ? ` — ${err.hint}` : "");
  }
  function may(action) {
    return (document.body.getAttribute("data-may") || "").split(" ").includes(action);
  }
  // "no policing reason found" only for that finding; else "not assessable" (a run from
  // before findings were recorded: from `explained`).
  function findingWords(o) {
    if (o.finding === "not_assessable") return "not assessable";
    if (o.finding === "reason_found") return "policing reason found";
    return "no policing reason found";
  }

  function tags(list, cls, word) {
    const span = el("span");
    const say = word || ((x) => String(x).replace(/_/g, " "));
    for (const item of list || []) span.append(el("span", { class: `tag ${cls || ""}`, text: say(item) }));
    return span;
  }

  // ---- the map -------------------------------------------------------------------------
  // SVG user space is (x, -y): north is up. The view is the SVG viewBox.
  class GridMap {
    constructor(container, onView) {
      this.container = container;
      this.onView = onView || (() => {});
      this.svg = svg("svg", { role: "img", "aria-label": "map of likely whereabouts" });
      this.layers = {};
      for (const name of ["basemap", "areas", "roads", "tracks", "places", "occasions", "incidents", "markers"]) {
        this.layers[name] = svg("g", { class: name });
        this.svg.append(this.layers[name]);
      }
      this.hud = el("div", { class: "hud" });
      const zoom = el("div", { class: "zoom" },
        el("button", { type: "button", "aria-label": "zoom in", text: "+" }),
        el("button", { type: "button", "aria-label": "zoom out", text: "−" }));
      zoom.children[0].addEventListener("click", () => this.zoomBy(0.5));
      zoom.children[1].addEventListener("click", () => this.zoomBy(2));
      this.credit = el("div", { class: "credit" });
      this.credit.hidden = true;
      container.append(this.svg, this.hud, zoom, this.credit);
      this.view = { x: 0, y: -1000, w: 1000, h: 1000 };
      this._wire();
    }
    _wire() {
      this.svg.addEventListener("wheel", (e) => {
        e.preventDefault();
        const p = this.toUser(e.clientX, e.clientY);
        this.zoomBy(e.deltaY > 0 ? 1.25 : 0.8, p);
      }, { passive: false });
      let drag = null;
      this.svg.addEventListener("pointerdown", (e) => {
        drag = { x: e.clientX, y: e.clientY, view: { ...this.view } };
        this.svg.setPointerCapture(e.pointerId);
      });
      this.svg.addEventListener("pointermove", (e) => {
        if (!drag) return;
        const k = this.view.w / this.svg.clientWidth;
        this.view.x = drag.view.x - (e.clientX - drag.x) * k;
        this.view.y = drag.view.y - (e.clientY - drag.y) * k;
        this.apply(false);
      });
      this.svg.addEventListener("pointerup", () => { if (drag) { drag = null; this.apply(true); } });
    }
    toUser(cx, cy) {
      const r = this.svg.getBoundingClientRect();
      const k = this.view.w / r.width;
      return { x: this.view.x + (cx - r.left) * k, y: this.view.y + (cy - r.top) * k };
    }
    metresPerPixel() { return this.view.w / Math.max(1, this.svg.clientWidth); }
    fit(bbox, pad) {
      if (!bbox || !isFinite(bbox.x0)) return;
      const margin = pad === undefined ? 0.08 : pad;
      let w = Math.max(bbox.x1 - bbox.x0, 200), h = Math.max(bbox.y1 - bbox.y0, 200);
      const cx = (bbox.x0 + bbox.x1) / 2, cy = (bbox.y0 + bbox.y1) / 2;
      w *= 1 + 2 * margin; h *= 1 + 2 * margin;
      const aspect = this.svg.clientWidth / Math.max(1, this.svg.clientHeight) || 1.6;
      if (w / h > aspect) h = w / aspect; else w = h * aspect;
      this.view = { x: cx - w / 2, y: -cy - h / 2, w, h };
      this.apply(true);
    }
    centreOn(x, y, widthM) {
      const aspect = this.svg.clientWidth / Math.max(1, this.svg.clientHeight) || 1.6;
      const w = widthM || this.view.w, h = w / aspect;
      this.view = { x: x - w / 2, y: -y - h / 2, w, h };
      this.apply(true);
    }
    zoomBy(factor, about) {
      const p = about || { x: this.view.x + this.view.w / 2, y: this.view.y + this.view.h / 2 };
      this.view = {
        x: p.x - (p.x - this.view.x) * factor, y: p.y - (p.y - this.view.y) * factor,
        w: this.view.w * factor, h: this.view.h * factor,
      };
      this.apply(true);
    }
    apply(settled) {
      const v = this.view;
      this.svg.setAttribute("viewBox", `${v.x} ${v.y} ${v.w} ${v.h}`);
      this._scaleBar();
      this._resizeSymbols();
      if (settled) {
        clearTimeout(this._t);
        this._t = setTimeout(() => { this.onView(this.metresPerPixel()); this._basemap(); }, 250);
      }
    }
    // The optional background map (context only): the server picks the tiles for the view
    // and gives each one's affine from its unit square to grid metres; drawn as (x, -y).
    async _basemap() {
      if (GridMap.noBasemap) return;
      const v = this.view, lim = (n) => Math.max(-9e6, Math.min(9e6, n)).toFixed(1);
      const q = new URLSearchParams({ x0: lim(v.x), x1: lim(v.x + v.w), y0: lim(-(v.y + v.h)), y1: lim(-v.y),
        width_px: Math.max(1, Math.min(8192, this.svg.clientWidth)) });
      const asked = (this._basemapAsked = (this._basemapAsked || 0) + 1);
      let b;
      try { b = await api("GET", `/api/basemap?${q}`); } catch (err) { return; }
      if (!b.enabled) { GridMap.noBasemap = true; return; }
      if (asked !== this._basemapAsked) return;  // a newer view's answer is on its way
      this.clear("basemap");
      const seam = 0.5 / 256;  // tiles overlap by half a pixel so no hairline shows
      for (const t of b.tiles) {
        const [a, bb, c, d, e, f] = t.matrix;
        this.layers.basemap.append(svg("image", {
          href: t.url, x: -seam, y: -seam, width: 1 + 2 * seam, height: 1 + 2 * seam,
          preserveAspectRatio: "none", transform: `matrix(${a} ${-bb} ${c} ${-d} ${e} ${-f})`,
        }));
      }
      this.credit.textContent = b.notice ? `${b.notice} ${b.attribution}` : b.attribution;
      this.credit.hidden = false;
    }
    _scaleBar() {
      const mpp = this.metresPerPixel();
      const target = mpp * 100;
      const pow = Math.pow(10, Math.floor(Math.log10(target)));
      const nice = [1, 2, 5, 10].map((m) => m * pow).filter((m) => m <= target).pop() || pow;
      const px = Math.round(nice / mpp);
      const label = nice >= 1000 ? `${nice / 1000} km` : `${nice} m`;
      this.hud.textContent = "";
      const bar = el("span", { class: "bar" });
      bar.style.display = "inline-block";
      bar.style.width = `${px}px`;
      bar.style.borderBottom = "3px solid #1b1f24";
      bar.style.marginRight = "6px";
      this.hud.append(el("span", { text: "N↑  " }), bar, el("span", { text: label + " · grid metres" }));
    }
    _resizeSymbols() {
      const r = this.metresPerPixel();
      for (const node of this.svg.querySelectorAll("[data-px]")) {
        const px = Number(node.getAttribute("data-px"));
        if (node.tagName === "circle") node.setAttribute("r", px * r);
        else if (node.tagName === "rect") {
          const cx = Number(node.getAttribute("data-x")), cy = Number(node.getAttribute("data-y"));
          node.setAttribute("x", cx - px * r); node.setAttribute("y", -cy - px * r);
          node.setAttribute("width", 2 * px * r); node.setAttribute("height", 2 * px * r);
        }
      }
    }
    clear(layer) { this.layers[layer].textContent = ""; }
    line(layer, xs, ys, colour, width, opacity) {
      const pts = new Array(xs.length);
      for (let i = 0; i < xs.length; i++) pts[i] = `${xs[i]},${-ys[i]}`;
      const node = svg("polyline", {
        points: pts.join(" "), fill: "none", stroke: colour, "stroke-width": width || 2,
        "stroke-opacity": opacity === undefined ? 0.85 : opacity, "vector-effect": "non-scaling-stroke",
        "stroke-linejoin": "round", "stroke-linecap": "round",
      });
      this.layers[layer].append(node);
      return node;
    }
    dot(layer, x, y, px, colour, title) {
      const node = svg("circle", { cx: x, cy: -y, r: px * this.metresPerPixel(), "data-px": px, fill: colour,
        stroke: "#fff", "stroke-width": 1.5, "vector-effect": "non-scaling-stroke" });
      if (title) { const t = svg("title"); t.textContent = title; node.append(t); }
      this.layers[layer].append(node);
      return node;
    }
    square(layer, x, y, px, colour, title) {
      const node = svg("rect", { "data-px": px, "data-x": x, "data-y": y, fill: colour, "fill-opacity": 0.8,
        stroke: "#fff", "stroke-width": 1, "vector-effect": "non-scaling-stroke" });
      if (title) { const t = svg("title"); t.textContent = title; node.append(t); }
      this.layers[layer].append(node);
      this._resizeSymbols();
      return node;
    }
    polygon(layer, rings, title) {
      for (const ring of rings) {
        const node = svg("polygon", { points: ring.map(([x, y]) => `${x},${-y}`).join(" "),
          fill: "#c9d8c5", "fill-opacity": 0.25, stroke: "#7a8f74", "stroke-width": 1,
          "stroke-dasharray": "4 3", "vector-effect": "non-scaling-stroke" });
        if (title) { const t = svg("title"); t.textContent = title; node.append(t); }
        this.layers[layer].append(node);
      }
    }
  }

  function bboxOf(points) {
    const b = { x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity };
    for (const [x, y] of points) {
      if (x === null || y === null || !isFinite(x) || !isFinite(y)) continue;
      b.x0 = Math.min(b.x0, x); b.x1 = Math.max(b.x1, x); b.y0 = Math.min(b.y0, y); b.y1 = Math.max(b.y1, y);
    }
    return b;
  }
  function trackPoints(tracks) {
    const pts = [];
    for (const u of tracks.units) for (const s of u.segments) {
      const step = Math.max(1, Math.floor(s.x.length / 200));
      for (let i = 0; i < s.x.length; i += step) pts.push([s.x[i], s.y[i]]);
    }
    return pts;
  }
  function drawTracks(map, tracks, opacity) {
    map.clear("tracks");
    tracks.units.forEach((u, i) => {
      for (const s of u.segments) {
        if (s.x.length === 1) map.dot("tracks", s.x[0], s.y[0], 2, UNIT_COLOURS[i % UNIT_COLOURS.length]);
        else map.line("tracks", s.x, s.y, UNIT_COLOURS[i % UNIT_COLOURS.length], 2, opacity);
      }
      const label = document.getElementById(`unit${i}`);
      if (label) label.textContent = `${u.unit} (${u.fixes} fixes, ${u.drawn} drawn)`;
    });
  }
  function drawPlaces(map, places) {
    map.clear("places");
    for (const p of places) {
      const label = `${p.kind.replace(/_/g, " ")}${p.name ? ": " + p.name : ""}`;
      map.square("places", p.x, p.y, 5, p.kind === "home" ? "#8d6e63" : "#2e7d32", label);
    }
  }
  function drawRoads(map, roads) {
    map.clear("roads");
    for (const line of roads || []) map.line("roads", line.map((p) => p[0]), line.map((p) => p[1]), "#b9b2a4", 1, 0.9);
  }
  function drawAreas(map, areas) {
    map.clear("areas");
    for (const a of areas) map.polygon("areas", a.rings || [], a.name || a.area_id);
  }

  // ---- pages ---------------------------------------------------------------------------
  const pages = {};

  pages.login = function () {
    const form = document.getElementById("login-form");
    const error = document.getElementById("login-error");
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      error.textContent = "";
      try {
        await api("POST", "/api/session", {
          username: document.getElementById("username").value,
          password: document.getElementById("password").value,
        });
        window.location.assign("/");
      } catch (err) { showError(error, err); }
    });
  };

  pages.cases = async function () {
    const body = document.querySelector("#cases-table tbody");
    const cases = await api("GET", "/api/cases");
    document.getElementById("cases-empty").hidden = cases.length > 0;
    for (const c of cases) {
      const link = el("a", { href: `/cases/${encodeURIComponent(c.ref)}`, text: c.ref });
      body.append(el("tr", { "data-ref": c.ref },
        el("td", {}, link), el("td", { text: c.subjects.join(", ") }),
        el("td", { text: `${ukTime(c.start)} to ${ukTime(c.end)}` }), el("td", { text: c.purpose }),
        el("td", { text: c.legal_basis }), el("td", { text: c.authorised_by }), el("td", { text: c.status })));
    }
  };

  // YYYY-MM-DD of an instant in the workspace's zone; shift -1 ms for an exclusive end
  function localDay(iso, shiftMs) {
    const tz = (document.body && document.body.getAttribute("data-tz")) || "Europe/London";
    return new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" })
      .format(new Date(Date.parse(iso) + shiftMs));
  }


  // ---- The street map: MapLibre GL (vendored) over the workspace's own vector tiles ----
  const R_EARTH = 6378137;
  function gridToMercator(A, x, y) {
    // A: /api/map's cubic from grid metres to Web Mercator metres (vectortiles.grid_affine)
    const u = (x - A.x0) / A.scale, v = (y - A.y0) / A.scale;
    let mx = 0, my = 0;
    A.terms.forEach(([i, j], k) => { const t = u ** i * v ** j; mx += A.cx[k] * t; my += A.cy[k] * t; });
    return [mx, my];
  }
  function gridToLngLat(A, x, y) {
    const [mx, my] = gridToMercator(A, x, y);
    return [(mx / R_EARTH) * 180 / Math.PI, (2 * Math.atan(Math.exp(my / R_EARTH)) - Math.PI / 2) * 180 / Math.PI];
  }
  // The grid point a map position shows: the cubic inverted by Newton's method (a few steps
  // to well under a centimetre; the cubic is nearly linear over a force's area).
  function lngLatToGrid(A, lng, lat) {
    const mx = (lng * Math.PI / 180) * R_EARTH, my = R_EARTH * Math.log(Math.tan(Math.PI / 4 + (lat * Math.PI) / 360));
    let x = A.x0, y = A.y0;
    for (let k = 0; k < 20; k++) {
      const [fx, fy] = gridToMercator(A, x, y), [ax, ay] = gridToMercator(A, x + 1, y), [bx, by] = gridToMercator(A, x, y + 1);
      const j11 = ax - fx, j21 = ay - fy, j12 = bx - fx, j22 = by - fy, det = j11 * j22 - j12 * j21;
      const ex = mx - fx, ey = my - fy;
      const dx = (j22 * ex - j12 * ey) / det, dy = (j11 * ey - j21 * ex) / det;
      x += dx; y += dy;
      if (Math.abs(dx) + Math.abs(dy) < 1e-3) break;
    }
    return [x, y];
  }
  const ROAD_STYLE = [["path", "#9c9c9c", "", 0.8], ["minor", "#ffffff", "#9a9a9a", 3], ["secondary", "#fbd48a", "#8c7d5a", 4], ["major", "#f2a46f", "#8c6d5a", 5]];
  const MAP_FONT = "DejaVu Sans";
  function streetStyle(info) {
    const layers = [
      { id: "land", type: "background", paint: { "background-color": "#f4f1ea" } },
      { id: "green", type: "fill", source: "map", "source-layer": "green", paint: { "fill-color": "#cfe6bf" } },
      { id: "water", type: "fill", source: "map", "source-layer": "water", filter: ["==", ["geometry-type"], "Polygon"], paint: { "fill-color": "#aad3df" } },
      { id: "river", type: "line", source: "map", "source-layer": "water", filter: ["==", ["geometry-type"], "LineString"], paint: { "line-color": "#7fb3cc", "line-width": 2 } },
      { id: "buildings", type: "fill", source: "map", "source-layer": "buildings", minzoom: 15, paint: { "fill-color": "#ddd5cc", "fill-outline-color": "#b5a899" } },
      { id: "rail", type: "line", source: "map", "source-layer": "rail", paint: { "line-color": "#6f6f6f", "line-width": 2 } },
      { id: "rail-dash", type: "line", source: "map", "source-layer": "rail", paint: { "line-color": "#ffffff", "line-width": 1, "line-dasharray": [3, 3] } },
    ];
    for (const [cls, fill, casing, w] of ROAD_STYLE) {
      const filter = ["==", ["get", "class"], cls];
      if (casing) layers.push({ id: `road-${cls}-casing`, type: "line", source: "map", "source-layer": "roads", filter,
        layout: { "line-cap": "round", "line-join": "round" }, paint: { "line-color": casing, "line-width": ["interpolate", ["linear"], ["zoom"], 11, w * 0.4 + 1, 16, w * 2 + 2] } });
      layers.push({ id: `road-${cls}`, type: "line", source: "map", "source-layer": "roads", filter,
        layout: { "line-cap": "round", "line-join": "round" }, paint: { "line-color": fill, "line-width": ["interpolate", ["linear"], ["zoom"], 11, w * 0.4, 16, w * 2] } });
    }
    // names in MapLibre's own text: glyphs vendored in static/glyphs (scripts/glyphs.py)
    const text = { "text-font": [MAP_FONT], "text-size": 12 };
    const halo = { "text-color": "#333333", "text-halo-color": "#ffffff", "text-halo-width": 1.5 };
    // a house number gives way to a street's name (the layer drawn last is placed first)
    layers.push(
      { id: "house-numbers", type: "symbol", source: "map", "source-layer": "addresses", minzoom: 16,
        layout: { ...text, "text-field": ["get", "number"], "text-size": 10 }, paint: { ...halo, "text-color": "#6b5a48" } },
      { id: "river-names", type: "symbol", source: "map", "source-layer": "water", minzoom: 12, filter: ["==", ["geometry-type"], "LineString"],
        layout: { ...text, "text-field": ["get", "name"], "symbol-placement": "line" }, paint: { ...halo, "text-color": "#2b5d7a" } },
      { id: "water-names", type: "symbol", source: "map", "source-layer": "water", minzoom: 13, filter: ["==", ["geometry-type"], "Polygon"],
        layout: { ...text, "text-field": ["get", "name"] }, paint: { ...halo, "text-color": "#2b5d7a" } },
      { id: "green-names", type: "symbol", source: "map", "source-layer": "green", minzoom: 13,
        layout: { ...text, "text-field": ["get", "name"] }, paint: { ...halo, "text-color": "#2f5e25" } },
      { id: "road-names", type: "symbol", source: "map", "source-layer": "roads",
        layout: { ...text, "text-field": ["coalesce", ["get", "name"], ["get", "ref"]], "symbol-placement": "line",
          "text-max-angle": 35, "symbol-spacing": 250, "text-size": ["interpolate", ["linear"], ["zoom"], 12, 11, 17, 14] },
        paint: halo });
    return { version: 8, glyphs: `${window.location.origin}/static/glyphs/{fontstack}/{range}.pbf`,
      sources: { map: { type: "vector", tiles: [window.location.origin + info.tiles], minzoom: info.minzoom,
        maxzoom: info.maxzoom, bounds: info.bounds, attribution: info.attribution } }, layers };
  }
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  // MapLibre's worker started, and the glyphs of the names in Latin and Welsh letters asked
  // for, while the page still fetches its data (once a page): the worker then finds them
  // in the browser's cache (the vendored files are cacheable) instead of asking for them
  // only after it has read the first tiles
  function warmStreetMap() {
    if (!window.maplibregl || warmStreetMap.done) return;
    warmStreetMap.done = true;
    window.maplibregl.setWorkerUrl("/static/maplibre/maplibre-gl-csp-worker.js");
    window.maplibregl.prewarm();
    for (const range of ["0-255", "256-511"]) {
      fetch(`/static/glyphs/${encodeURIComponent(MAP_FONT)}/${range}.pbf`, { credentials: "same-origin" }).catch(() => {});
    }
  }
  // The street map in `container`: { map, info } (info: /api/map), or null when there is none.
  // With `around` (a grid point) the page always gets a map: while the street layers are
  // being built, or when the workspace has none, a plain one (tracks and markers on a blank
  // ground), the streets added once they are ready. `view` (grid points, or a function giving
  // them or null): the map starts fitted to them, so its first tiles are the ones shown.
  async function streetMap(container, around, view) {
    if (!window.maplibregl || !container) return null;
    const q = around ? `?${new URLSearchParams({ x: around[0].toFixed(1), y: around[1].toFixed(1) })}` : "";
    let info = await api("GET", `/api/map${q}`);
    const plain = Boolean(around && !info.enabled && info.affine);
    // the tiles are built once, in the background, on first use: wait for them
    for (let k = 0; !plain && k < 600 && !info.enabled && info.building; k++) {
      if (k === 0) container.append(el("p", { class: "map-note", text: "The street map is being prepared…" }));
      await sleep(1000);
      info = await api("GET", "/api/map");
    }
    container.textContent = "";
    if (!info.enabled && !plain) {
      if (info.error) container.append(el("p", { class: "map-note", text: `No street map: ${info.error}` }));
      else container.hidden = true;
      return null;
    }
    warmStreetMap();
    const pts = typeof view === "function" ? view() : view;
    const box = pts && pts.length ? lngLatBox(info.affine, pts) : null;
    const start = box ? { bounds: box, fitBoundsOptions: FIT } : plain ? { center: gridToLngLat(info.affine, around[0], around[1]), zoom: 12 } : { bounds: info.bounds };
    const map = new window.maplibregl.Map({ container, style: plain ? plainStyle() : streetStyle(info), ...start, dragRotate: false,
      pitchWithRotate: false, attributionControl: { compact: false }, maxZoom: 19, fadeDuration: 0 });
    map.addControl(new window.maplibregl.NavigationControl({ showCompass: false }));
    map.addControl(new window.maplibregl.ScaleControl({ unit: "metric" }));
    await new Promise((resolve) => map.on("load", resolve));
    // for screen readers (the canvas has no text): the streets the map shows, in words
    const names = el("p", { class: "visually-hidden", id: `${container.id}-street-names` });
    if (container.id === "street-map") names.id = "street-names";
    container.after(names);
    const listNames = () => {
      if (!map.getLayer("road-names")) return;
      const seen = new Set(map.queryRenderedFeatures({ layers: ["road-names"] })
        .map((f) => f.properties.name || f.properties.ref).filter(Boolean));
      names.textContent = seen.size ? `Streets shown on the street map: ${[...seen].sort().join(", ")}.` : "";
      container.setAttribute("data-names", String(seen.size));
    };
    map.on("idle", listNames);
    // when the map first stood drawn (MapLibre's "load": the first complete rendering, tiles
    // and all) and when it first settled (everything the page added drawn too), in ms from
    // the page's start (Performance API)
    container.setAttribute("data-painted-ms", performance.now().toFixed(0));
    map.once("idle", () => container.setAttribute("data-idle-ms", performance.now().toFixed(0)));
    const sm = { map, info, streets: !plain };
    if (plain) plainNote(sm, container, info);
    return sm;
  }
  function plainStyle() {
    return { version: 8, glyphs: `${window.location.origin}/static/glyphs/{fontstack}/{range}.pbf`, sources: {},
      layers: [{ id: "land", type: "background", paint: { "background-color": "#f4f1ea" } }] };
  }
  // A plain map says why, and takes the street layers when they are ready.
  async function plainNote(sm, container, info) {
    const note = el("p", { class: "map-note small", role: "status" });
    container.after(note);
    note.textContent = info.building ? "The street map is being prepared; tracks are shown on a plain background until then."
      : `No street map${info.error ? ": " + info.error : " (the workspace has no map layers)"}; tracks on a plain background.`;
    for (let k = 0; info.building && k < 600; k++) {
      await sleep(1000);
      const now = await api("GET", "/api/map");
      if (!now.enabled) { if (!now.building && now.error) note.textContent = `No street map: ${now.error}`; if (!now.building) return; continue; }
      const style = streetStyle(now), under = firstOverlay(sm.map);
      sm.map.addSource("map", style.sources.map);
      for (const layer of style.layers.slice(1)) sm.map.addLayer(layer, layer.type === "symbol" ? undefined : under);
      if (sm.map.getLayer("network-roads")) sm.map.removeLayer("network-roads");
      sm.streets = true;
      note.remove();
      return;
    }
  }
  // Lines of the road network (the overview's, grid metres) for a map without street layers.
  function streetRoads(sm, roads) {
    if (!sm || sm.streets || !roads || !roads.length) return;
    const features = roads.map((line) => ({ type: "Feature", properties: {},
      geometry: { type: "LineString", coordinates: line.map(([x, y]) => gridToLngLat(sm.info.affine, x, y)) } }));
    setSource(sm.map, "network-roads", features, (id) => [{ id, type: "line", source: id,
      paint: { "line-color": "#b9b2a4", "line-width": 1.5 } }], firstOverlay(sm.map));
  }
  // the lowest layer the page drew over the map (tracks, points): street layers go under it
  function firstOverlay(map) {
    const layer = map.getStyle().layers.find((l) => l.type !== "background" && l.source !== "map");
    return layer ? layer.id : undefined;
  }
  function streetTracks(sm, tracks, opacity) {
    if (!sm) return;
    const features = [];
    tracks.units.forEach((u, i) => {
      for (const seg of u.segments) {
        const coords = seg.x.map((x, k) => gridToLngLat(sm.info.affine, x, seg.y[k]));
        features.push({ type: "Feature", properties: { unit: u.unit, colour: UNIT_COLOURS[i % UNIT_COLOURS.length] },
          geometry: coords.length > 1 ? { type: "LineString", coordinates: coords } : { type: "Point", coordinates: coords[0] } });
      }
    });
    setSource(sm.map, "tracks", features, (id) => [
      { id, type: "line", source: id, filter: ["==", ["geometry-type"], "LineString"], paint: { "line-color": ["get", "colour"], "line-width": 3, "line-opacity": opacity || 0.85 } }], "house-numbers");  // under the names
    sm.map.getContainer().setAttribute("data-track-lines", String(features.filter((f) => f.geometry.type === "LineString").length));
  }
  function streetPoints(sm, name, points, colour, radius) {
    if (!sm) return;
    const features = points.map((p) => ({ type: "Feature", properties: { colour: p.colour || colour, title: p.title || "" },
      geometry: { type: "Point", coordinates: gridToLngLat(sm.info.affine, p.x, p.y) } }));
    setSource(sm.map, name, features, (id) => [{ id, type: "circle", source: id, paint: { "circle-color": ["get", "colour"],
      "circle-radius": radius, "circle-stroke-color": "#ffffff", "circle-stroke-width": 1.5 } }]);
  }
  function setSource(map, id, features, layers, before) {
    const data = { type: "FeatureCollection", features };
    const src = map.getSource(id);
    if (src) { src.setData(data); return; }
    map.addSource(id, { type: "geojson", data });
    for (const layer of layers(id)) map.addLayer(layer, before && map.getLayer(before) ? before : undefined);
  }
  const FIT = { padding: 40, maxZoom: 16 };
  function lngLatBox(affine, pts) {
    const ll = pts.filter(([x, y]) => isFinite(x) && isFinite(y) && x !== null && y !== null).map(([x, y]) => gridToLngLat(affine, x, y));
    if (!ll.length) return null;
    const lng = ll.map((p) => p[0]), lat = ll.map((p) => p[1]);
    return [[Math.min(...lng), Math.min(...lat)], [Math.max(...lng), Math.max(...lat)]];
  }
  function streetFit(sm, pts) {
    const box = sm && lngLatBox(sm.info.affine, pts);
    if (box) sm.map.fitBounds(box, { ...FIT, duration: 0 });
  }

  pages.case = async function (ref) {
    const base = `/api/cases/${encodeURIComponent(ref)}`;
    const status = document.getElementById("track-status");
    let period = null, lastTol = null, selected = null, street = null, lastTracks = null;
    const markers = new Map();
    const links = document.getElementById("report-links");
    if (may("report.read")) {
      links.append(el("a", { href: `${base}/report/html`, text: "latest report.html", class: "report-html" }), " ",
        el("a", { href: `${base}/report/pdf`, text: "report.pdf", class: "report-pdf" }));
    }
    document.getElementById("make-report").hidden = !may("report.write");
    const scope = (c) => `Subjects ${c.subjects.join(" and ")} · ${ukTime(c.start)} to ${ukTime(c.end)} (${ZONE}) · ${c.purpose} · authorised by ${c.authorised_by} · ${c.status}`;
    if (!may("location.read")) {
      const c = await api("GET", base);
      document.getElementById("case-scope").textContent = scope(c) + " · your role does not show location data";
      for (const id of ["period-form", "map", "filters", "occasions-table"]) document.getElementById(id).hidden = true;
      wireReport();
      return;
    }
    const map = new GridMap(document.getElementById("map"), (mpp) => loadTracks(mpp));
    // alongside the overview, not after it: a case's first overview can take seconds to
    // make. The street map starts at the occasions when the overview came first, else on
    // the whole map, going to the occasions after.
    const overview = api("GET", `${base}/overview`);
    let firstView = null;
    overview.then((d) => { firstView = d.occasions.map((o) => [o.x, o.y]); }, () => {});
    const streetReady = streetMap(document.getElementById("street-map"), null, () => firstView);
    const data = await overview;
    const c = data.case;
    document.getElementById("case-scope").textContent = `${scope(c)} · ${data.crs}`;
    // whole local days, both included: the one meaning of from/to (as on the command line)
    document.getElementById("from").value = localDay(c.start, 0);
    document.getElementById("to").value = localDay(c.end, -1);
    period = { from: c.start, to: c.end };
    drawAreas(map, data.areas);
    drawRoads(map, data.roads);
    drawPlaces(map, data.places);
    const occPts = data.occasions.map((o) => [o.x, o.y]);
    map.fit(bboxOf(occPts.concat(data.places.map((p) => [p.x, p.y]))));
    // The street map comes when its tiles are ready; the page does not wait for it.
    streetReady.then((sm) => {
      street = sm;
      if (!sm) return;
      streetPoints(sm, "places", data.places.map((p) => ({ x: p.x, y: p.y })), "#2e7d32", 5);
      streetPoints(sm, "occasions", data.occasions.filter((o) => o.x !== null).map((o) => ({ x: o.x, y: o.y,
        colour: o.finding === "no_reason_found" ? "#c0162b" : "#7a7a7a" })), "#c0162b", 6);
      if (lastTracks) streetTracks(sm, lastTracks);
      streetFit(sm, occPts);
      document.getElementById("street-map").setAttribute("data-ready", "1");
    }).catch(() => { document.getElementById("street-map").hidden = true; });

    async function loadTracks(mpp) {
      const tol = Math.max(1, mpp);
      if (lastTol && Math.abs(Math.log2(tol / lastTol)) < 0.9 && !period.changed) return;
      period.changed = false;
      lastTol = tol;
      status.textContent = "loading tracks…";
      const q = new URLSearchParams({ from: period.from, to: period.to, tolerance_m: tol.toFixed(2) });
      try {
        const t = await api("GET", `${base}/tracks?${q}`);
        drawTracks(map, t);
        lastTracks = t;
        if (street) streetTracks(street, t);
        const drawn = t.units.reduce((n, u) => n + u.drawn, 0), fixes = t.units.reduce((n, u) => n + u.fixes, 0);
        status.textContent = `${drawn} of ${fixes} fixes drawn (one per ${t.tolerance_m.toFixed(0)} m)`;
        status.setAttribute("data-loaded", "1");
        if (!status.hasAttribute("data-loaded-ms")) status.setAttribute("data-loaded-ms", performance.now().toFixed(0));
      } catch (err) { showError(status, err); }
    }
    document.getElementById("period-form").addEventListener("submit", (e) => {
      e.preventDefault();
      period = { from: document.getElementById("from").value, to: document.getElementById("to").value, changed: true };
      loadTracks(map.metresPerPixel());
    });
    loadTracks(map.metresPerPixel());

    function select(id, centre) {
      selected = id;
      for (const tr of document.querySelectorAll("#occasions-table tbody tr"))
        tr.classList.toggle("selected", tr.getAttribute("data-id") === id);
      for (const [mid, m] of markers) m.setAttribute("stroke", mid === id ? "#000" : "#fff");
      const m = markers.get(id);
      if (m && centre) map.centreOn(Number(m.getAttribute("cx")), -Number(m.getAttribute("cy")), 1500);
      const o = data.occasions.find((r) => r.occasion_id === id);
      if (street && centre && o && o.x !== null) {  // the street map goes to the place, streets named
        street.map.easeTo({ center: gridToLngLat(street.info.affine, o.x, o.y), zoom: 16.5, duration: 600 });
      }
    }

    function drawOccasions(rows) {
      map.clear("occasions");
      markers.clear();
      for (const o of rows) {
        if (o.x === null || o.y === null) continue;
        const m = map.dot("occasions", o.x, o.y, 6, o.finding === "no_reason_found" || (!o.finding && !o.explained) ? "#c0162b" : "#8a8f98",
          `${ukTime(o.start)} · ${minutes(o.duration_s)}`);
        m.setAttribute("data-id", o.occasion_id);
        m.addEventListener("click", (e) => {
          e.stopPropagation();
          select(o.occasion_id, false);
          const tr = document.querySelector(`#occasions-table tr[data-id="${CSS.escape(o.occasion_id)}"]`);
          if (tr) tr.scrollIntoView({ block: "nearest" });
        });
        markers.set(o.occasion_id, m);
      }
    }
    function fillTable(rows) {
      const body = document.querySelector("#occasions-table tbody");
      body.textContent = "";
      for (const o of rows) {
        const reasons = o.reasons && o.reasons.length ? tags(o.reasons, "", reasonWord) : tags([findingWords(o)], "none");
        // null: the incident log (or attachments) do not cover the occasion, so not known
        const avail = o.incidents_p1 == null ? "not known" : `P1 ${o.incidents_p1} · P2 ${o.incidents_p2 ?? 0}${o.dispatched == null ? " · dispatch not known" : o.dispatched ? " · dispatched" : ""}`;
        const links = el("td", {},
          el("a", { href: `/cases/${encodeURIComponent(ref)}/occasions/${encodeURIComponent(o.occasion_id)}`, text: "evidence" }),
          " · ",
          el("a", { href: `/cases/${encodeURIComponent(ref)}/playback/${encodeURIComponent(o.occasion_id)}`, text: "play", class: "play" }));
        const tr = el("tr", { "data-id": o.occasion_id },
          el("td", { text: ukTime(o.start) }), el("td", { text: minutes(o.duration_s) }),
          el("td", { text: where(o) }), el("td", {}, reasons),
          el("td", {}, tags(o.flags, "flag", flagWord)), el("td", { text: o.confidence || "–" }), el("td", { text: avail }), links);
        tr.addEventListener("click", (e) => { if (e.target.tagName !== "A") select(o.occasion_id, true); });
        body.append(tr);
      }
      document.getElementById("occ-count").textContent = `${rows.length} occasion${rows.length === 1 ? "" : "s"}`;
      if (selected) select(selected, false);
    }
    drawOccasions(data.occasions);
    fillTable(data.occasions);

    async function applyFilters() {
      const q = new URLSearchParams();
      if (document.getElementById("f-no-reason").checked) q.set("no_reason", "true");
      if (document.getElementById("f-home").checked) q.set("home", "true");
      if (document.getElementById("f-remote").checked) q.set("remote", "true");
      const conf = document.getElementById("f-confidence").value;
      if (conf) q.set("confidence", conf);
      const rows = await api("GET", `${base}/occasions?${q}`);
      drawOccasions(rows);
      fillTable(rows);
    }
    document.getElementById("filters").addEventListener("change", applyFilters);

    wireReport();
    function wireReport() {
      document.getElementById("make-report").addEventListener("click", async () => {
        links.textContent = "generating…";
        try {
          const made = await api("POST", `${base}/report`);
          links.textContent = "";
          for (const [kind, url] of Object.entries(made)) links.append(el("a", { href: url, text: `report.${kind}`, class: `report-${kind}` }), " ");
          links.setAttribute("data-made", "1");
        } catch (err) { showError(links, err); }
      });
    }
  };

  function interpolate(seg, t) {
    const ts = seg.t;
    if (t < ts[0] || t > ts[ts.length - 1]) return null;
    let lo = 0, hi = ts.length - 1;
    while (hi - lo > 1) { const mid = (lo + hi) >> 1; if (ts[mid] <= t) lo = mid; else hi = mid; }
    if (hi === lo) return [seg.x[lo], seg.y[lo]];
    const u = ts[hi] === ts[lo] ? 0 : (t - ts[lo]) / (ts[hi] - ts[lo]);
    return [seg.x[lo] + u * (seg.x[hi] - seg.x[lo]), seg.y[lo] + u * (seg.y[hi] - seg.y[lo])];
  }
  function positionAt(unit, t) {
    for (const s of unit.segments) { const p = interpolate(s, t); if (p) return p; }
    return null;
  }

  pages.occasion = async function (ref, occasionId) {
    const base = `/api/cases/${encodeURIComponent(ref)}/occasions/${encodeURIComponent(occasionId)}`;
    const o = await api("GET", base);
    const facts = document.querySelector("#facts tbody");
    const rows = [
      ["Officers", [o.officer_a, o.officer_b].map((id) => (o.officer_labels || {})[id] || id).join(" and ")], [`Start (${ZONE})`, ukTime(o.start)], [`End (${ZONE})`, ukTime(o.end)],
      ["Duration", minutes(o.duration_s)], ["Where", where(o)],
      ["Policing reasons", (o.reasons || []).map(reasonWord).join("; ") || findingWords(o)],
      ["Flags", (o.flags || []).map(flagWord).join("; ") || "none"],
      ["Not assessed", (o.not_assessed || []).map(assessedWords).join("; ") || "nothing: every reason and flag was checked"],
      ["At other settings", o.robustness || "not evaluated in this run"],
      ["Closest / typical distance apart", `${metres(o.min_separation_m)} / ${metres(o.median_separation_m)}`],
      ["Position reports", `about ${Math.round(o.fixes_per_hour ?? 0)} an hour`], ["Position error", `about ${metres(o.position_error_m)}`],
      ["Confidence", `${o.confidence || "–"}${o.confidence_basis ? " — " + o.confidence_basis : ""}`], ["On duty", o.on_duty || "–"],
      ["Incidents nearby (P1–P4)", o.incidents_p1 == null ? "not known: the incident log does not cover it" : [o.incidents_p1, o.incidents_p2, o.incidents_p3, o.incidents_p4].map((n) => n ?? 0).join(" / ")],
      ["Either dispatched", o.dispatched == null ? "not known: the attachments do not cover it" : o.dispatched ? "yes" : "no"],
      ["Time together with neither dispatched", o.dispatched == null ? "not known" : minutes((o.unavailable_min ?? 0) * 60)],
    ];
    for (const [k, v] of rows) facts.append(el("tr", {}, el("td", { text: k }), el("td", { text: tidy(v) })));
    const ev = document.getElementById("evidence");
    for (const item of o.evidence || []) {
      ev.append(el("li", {}, el("strong", { text: codeWord(item.kind, item.label || item.kind || "") }),
        ` (${EVIDENCE_KINDS[item.kind] || tidy(item.kind || "")}) `, el("span", { text: tidy(item.detail || "") }), item.rows && item.rows.length ? el("span", { class: "muted", text: ` · rows ${item.rows.join(", ")}` }) : ""));
    }
    function listAnnotations(items) {
      const ul = document.getElementById("annotations");
      ul.textContent = "";
      for (const a of items) {
        const what = a.reason_added ? `reason added: ${reasonWord(a.reason_added)}` :
          a.reason_rejected ? `reason rejected: ${reasonWord(a.reason_rejected)}` : "note";
        ul.append(el("li", {}, el("strong", { text: a.author }), ` ${ukTime(a.created_at)} · ${what} · `, el("span", { class: "note", text: a.note })));
      }
    }
    listAnnotations(o.annotations || []);
    const form = document.getElementById("annotate-form"), error = document.getElementById("annotate-error");
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      error.textContent = "";
      const decision = document.getElementById("decision").value, reason = document.getElementById("reason").value;
      try {
        await api("POST", `${base}/annotations`, { note: document.getElementById("note").value, decision, reason: reason || null });
        document.getElementById("note").value = "";
        const again = await api("GET", base);
        listAnnotations(again.annotations || []);
      } catch (err) { showError(error, err); }
    });
    const pb = await api("GET", `${base}/playback`);
    // the meeting place on the street map, close enough for street names and house numbers
    const streetBox = document.getElementById("street-map");
    const pts = trackPoints(pb.tracks), box = bboxOf(o.x !== null ? [[o.x, o.y]] : pts);
    // it starts there (house numbers show from zoom 16): its first tiles are the ones shown
    const close = o.x !== null ? [[o.x - 60, o.y - 60], [o.x + 60, o.y + 60]] : pts;
    streetMap(streetBox, isFinite(box.x0) ? [box.x0, box.y0] : null, close).then((sm) => {
      if (!sm) return;
      streetRoads(sm, pb.roads);
      streetTracks(sm, pb.tracks);
      streetPoints(sm, "places", pb.places.map((p) => ({ x: p.x, y: p.y, colour: p.kind === "home" ? "#8d6e63" : "#2e7d32" })), "#2e7d32", 5);
      if (o.x !== null) streetPoints(sm, "occasions", [{ x: o.x, y: o.y }], "#c0162b", 7);
      streetBox.setAttribute("data-ready", "1");
    }).catch(() => { streetBox.hidden = true; });
  };

  pages.screening = async function () {
    const runs = await api("GET", "/api/screening");
    document.getElementById("screening-empty").hidden = runs.length > 0;
    const head = document.querySelector("#screening-table thead"), body = document.querySelector("#screening-table tbody");
    const list = document.getElementById("screening-runs");
    for (const r of runs) {
      const b = el("button", { type: "button", text: `${r.run} (authority ${r.authority || "none"}, ${r.scope})` });
      b.addEventListener("click", async () => {
        head.textContent = ""; body.textContent = "";
        try {
          const res = await api("GET", `/api/screening/${encodeURIComponent(r.run)}`);
          if (!res.rows.length) return;
          const cols = Object.keys(res.rows[0]);
          head.append(el("tr", {}, ...cols.map((c) => el("th", { text: c.replace(/_/g, " ") }))));
          for (const row of res.rows) body.append(el("tr", {}, ...cols.map((c) => el("td", { text: Array.isArray(row[c]) ? row[c].join(", ") : String(row[c] ?? "") }))));
        } catch (err) { body.append(el("tr", {}, el("td", { class: "error", text: err.message + (err.hint ? ` — ${err.hint}` : "") }))); }
      });
      list.append(el("li", {}, b));
    }
  };

  // An audit entry's detail in words: "officers: P1001, P1002 · from: 25 Mar 2024 00:00 · …"
  function auditDetail(detail) {
    const parts = [];
    for (const [k, v] of Object.entries(detail || {})) {
      if (v === null || v === undefined || v === "") continue;
      let text;
      if (Array.isArray(v)) text = v.map((x) => (typeof x === "object" ? JSON.stringify(x) : String(x))).join(", ");
      else if (typeof v === "boolean") text = v ? "yes" : "no";
      else if (typeof v === "string" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(v)) text = ukTime(v);
      else if (typeof v === "object") text = Object.entries(v).map(([a, b]) => `${a.replace(/_/g, " ")} ${b}`).join(", ");
      else text = String(v);
      const key = { start: "from", end: "to", off_duty: "off-duty data" }[k] || k.replace(/_/g, " ");
      parts.push(`${key}: ${text}`);
    }
    return parts.join(" · ");
  }

  pages.audit = async function () {
    const body = document.querySelector("#audit-table tbody");
    const actions = document.getElementById("audit-action");
    const known = new Set();
    async function load() {
      const q = new URLSearchParams();
      const val = (id) => document.getElementById(id).value.trim();
      if (val("audit-case")) q.set("case_ref", val("audit-case"));
      if (val("audit-user")) q.set("actor", val("audit-user"));
      if (val("audit-action")) q.set("action", val("audit-action"));
      if (val("audit-from")) q.set("since", val("audit-from"));
      if (val("audit-to")) q.set("until", val("audit-to"));
      const rows = await api("GET", `/api/audit?${q}`);
      body.textContent = "";
      for (const r of rows) {
        body.append(el("tr", {}, el("td", { text: String(r.seq ?? "") }), el("td", { text: ukTime(r.at ?? r.time) }),
          el("td", { text: r.actor }), el("td", { text: (r.action || "").replace(/[._]/g, " ") }), el("td", { text: r.case_ref || "" }),
          el("td", { text: auditDetail(r.detail) })));
        if (r.action && !known.has(r.action)) {
          known.add(r.action);
          actions.append(el("option", { value: r.action, text: r.action.replace(/[._]/g, " ") }));
        }
      }
      document.getElementById("audit-count").textContent = `${rows.length} entr${rows.length === 1 ? "y" : "ies"}, newest first`;
    }
    document.getElementById("audit-form").addEventListener("submit", (e) => { e.preventDefault(); if (may("audit.read")) load(); });
    document.getElementById("verify").addEventListener("click", async () => {
      const out = document.getElementById("verify-result");
      const v = await api("GET", "/api/audit/verify");
      out.textContent = v.ok ? `chain intact (${v.entries} entries)` :
        `chain broken: ${v.problems.map((p) => `entry ${p.seq} ${p.kind}`).join("; ")}`;
    });
    if (may("audit.read")) await load();
  };

  // The helpers other scripts of the app build on (static/review.js: playback, timeline).
  window.whereabouts = { pages, api, el, svg, ukTime, minutes, metres, where, findingWords,
    reasonWord, flagWord, showError, may, trackPoints, bboxOf, positionAt, localDay, UNIT_COLOURS, TZ, ZONE,
    streetMap, streetTracks, streetRoads, setSource, gridToLngLat, lngLatToGrid };

  document.addEventListener("DOMContentLoaded", () => {
    const out = document.getElementById("sign-out");
    if (out) out.addEventListener("click", async () => {
      try { await api("DELETE", "/api/session"); } finally { window.location.assign("/login"); }
    });
    const page = document.body.getAttribute("data-page");
    warmStreetMap();  // on the pages with a street map (they load MapLibre)
    const fn = pages[page];
    if (fn) {
      Promise.resolve(fn(document.body.getAttribute("data-case"), document.body.getAttribute("data-occasion")))
        .then(() => document.body.setAttribute("data-ready", "1"))
        .catch((err) => {
          const main = document.querySelector("main");
          main.prepend(el("p", { class: "error", role: "alert", text: err.message + (err.hint ? ` — ${err.hint}` : "") }));
          document.body.setAttribute("data-ready", "error");
        });
    }
  });
})();
