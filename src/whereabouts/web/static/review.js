// whereabouts review tools, as AVL playback and i2 timelines give them: several officers on
// one timeline with stop markers and labels, the distance between two of them over time
// (a strip chart with a cursor tied to the slider, occasions and incidents marked), a
// timeline per officer (duty, incidents attended, occasions, stops) and "who was near here
// then". The map is the app's street map (MapLibre GL, vendored, over the workspace's own
// vector tiles); officers, stops and incidents are HTML markers on it, so they carry names
// for screen readers. Charts are SVG. Plain JavaScript over the app's API (static/app.js).
"use strict";

(function () {
  const W = window.whereabouts;
  if (!W) return;
  const { api, el, svg, ukTime, minutes, metres, UNIT_COLOURS, TZ, ZONE } = W;
  const BAND_COLOURS = { duty: "#9fb7d9", incident: "#6a1b9a", occasion: "#c0162b", stop: "#5d6570" };
  const BAND_WORDS = { duty: "on duty", incident: "incidents attended", occasion: "occasions", stop: "stops" };
  const LEFT = 132, RIGHT = 12;  // both charts share one time axis: the same margins
  const hhmm = new Intl.DateTimeFormat("en-GB", { timeZone: TZ, hour: "2-digit", minute: "2-digit" });
  const secs = (iso) => Date.parse(iso) / 1000;

  function clock(t) { return hhmm.format(new Date(t * 1000)); }
  function titled(node, text) { const t = svg("title"); t.textContent = text; node.append(t); return node; }

  // A time axis from t0 to t1 over a chart `width` px wide.
  function axis(t0, t1, width) {
    const span = Math.max(1, t1 - t0), inner = Math.max(1, width - LEFT - RIGHT);
    const x = (t) => LEFT + ((t - t0) / span) * inner;
    const steps = [60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
    const step = steps.find((s) => span / s <= 8) || 86400;
    const ticks = [];
    for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) ticks.push(t);
    return { x, ticks, t0, t1, t: (px) => t0 + ((px - LEFT) / inner) * span };
  }
  function drawTicks(g, ax, y0, y1) {
    for (const t of ax.ticks) {
      g.append(svg("line", { x1: ax.x(t), x2: ax.x(t), y1: y0, y2: y1, class: "tick" }));
      const edge = ax.x(t) > ax.x(ax.t1) - 16 ? "end" : "middle";  // the last label stays inside
      const label = svg("text", { x: ax.x(t), y: y1 + 13, "text-anchor": edge, class: "axis" });
      label.textContent = clock(t);
      g.append(label);
    }
  }

  // The distance between two officers over time, on a log scale (10 m … the largest).
  function distanceChart(host, data, pair, labels, ax, width, onPick) {
    const H = 150, top = 8, bottom = H - 22;
    const chart = svg("svg", { width, height: H, role: "img", id: "distance-svg",
      "aria-label": `Distance between ${labels[0]} and ${labels[1]} over time, with occasions and incidents marked` });
    const d = { t: data.t, d: pair.d }, known = d.d.filter((v) => v !== null);
    const top_m = Math.max(1000, ...known);
    const y = (m) => bottom - ((Math.log10(Math.max(10, m)) - 1) / (Math.log10(top_m) - 1)) * (bottom - top);
    for (const o of data.occasions) {
      chart.append(titled(svg("rect", { x: ax.x(secs(o.start)), y: top, height: bottom - top, class: "occ-band",
        width: Math.max(2, ax.x(secs(o.end)) - ax.x(secs(o.start))), "data-occasion": o.occasion_id }),
      `occasion ${ukTime(o.start)} to ${ukTime(o.end)}`));
    }
    for (const m of [10, 100, 1000, 10000, 100000].filter((v) => v <= top_m)) {
      chart.append(svg("line", { x1: LEFT, x2: width - RIGHT, y1: y(m), y2: y(m), class: "grid" }));
      const label = svg("text", { x: LEFT - 6, y: y(m) + 4, "text-anchor": "end", class: "axis" });
      label.textContent = m >= 1000 ? `${m / 1000} km` : `${m} m`;
      chart.append(label);
    }
    chart.append(titled(svg("line", { x1: LEFT, x2: width - RIGHT, y1: y(data.distance_m), y2: y(data.distance_m),
      class: "threshold" }), `within ${metres(data.distance_m)}: together`));
    let path = "", pen = false;
    d.t.forEach((t, i) => {
      const v = d.d[i];
      if (v === null) { pen = false; return; }
      path += `${pen ? "L" : "M"}${ax.x(t).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    });
    chart.append(svg("path", { d: path || "M0,0", class: "distance-line" }));
    for (const inc of data.incidents) {
      chart.append(titled(svg("line", { x1: ax.x(secs(inc.created_at)), x2: ax.x(secs(inc.created_at)), y1: top,
        y2: bottom, class: "incident-tick" }), `incident ${inc.incident_id} P${inc.priority ?? "?"} raised ${ukTime(inc.created_at)}`));
    }
    drawTicks(chart, ax, bottom, bottom + 4);
    const cursor = svg("line", { id: "distance-cursor", x1: LEFT, x2: LEFT, y1: top, y2: bottom, class: "cursor" });
    chart.append(cursor);
    chart.addEventListener("click", (e) => {
      const r = chart.getBoundingClientRect();
      onPick(ax.t(e.clientX - r.left));
    });
    host.textContent = "";
    host.append(chart);
    return cursor;
  }

  // The i2-style timeline: a block per officer, a lane per kind of band.
  function timeline(host, data, ax, width, onPick) {
    const LANE = 15, HEAD = 18, kinds = data.band_kinds;
    const H = data.units.length * (HEAD + kinds.length * LANE) + 24;
    const chart = svg("svg", { width, height: H, role: "img", id: "timeline-svg",
      "aria-label": "Timeline per officer: duty, incidents attended, occasions and stops (also as a table below)" });
    const table = document.querySelector("#timeline-table tbody");
    if (table) table.textContent = "";
    let y = 0;
    data.units.forEach((u, i) => {
      const head = svg("text", { x: 4, y: y + 13, class: "officer", fill: UNIT_COLOURS[i % UNIT_COLOURS.length] });
      head.textContent = u.label;
      chart.append(head);
      y += HEAD;
      kinds.forEach((kind) => {
        const lane = svg("text", { x: LEFT - 6, y: y + 11, "text-anchor": "end", class: "axis" });
        lane.textContent = BAND_WORDS[kind] || kind;
        chart.append(lane, svg("line", { x1: LEFT, x2: width - RIGHT, y1: y + LANE - 1, y2: y + LANE - 1, class: "grid" }));
        for (const b of data.bands.filter((b) => b.officer_id === u.unit && b.kind === kind)) {
          const x0 = ax.x(Math.max(secs(b.start), secs(data.start))), x1 = ax.x(Math.min(secs(b.end), secs(data.end)));
          const text = `${u.label}: ${BAND_WORDS[kind] || kind} · ${b.label} · ${ukTime(b.start)} to ${ukTime(b.end)}`;
          chart.append(titled(svg("rect", { x: x0, y: y + 2, width: Math.max(2, x1 - x0), height: LANE - 5,
            fill: kind === "occasion" && b.finding && b.finding !== "no_reason_found" ? "#8a8f98" : BAND_COLOURS[kind] || "#888",
            class: `band band-${kind}`, "data-officer": u.unit }), text));
          if (table) table.append(el("tr", {}, el("td", { text: u.label }), el("td", { text: BAND_WORDS[kind] || kind }),
            el("td", { text: b.label }), el("td", { text: ukTime(b.start) }), el("td", { text: ukTime(b.end) })));
        }
        y += LANE;
      });
    });
    drawTicks(chart, ax, y, y + 4);
    const cursor = svg("line", { id: "timeline-cursor", x1: LEFT, x2: LEFT, y1: 0, y2: y, class: "cursor" });
    chart.append(cursor);
    chart.addEventListener("click", (e) => onPick(ax.t(e.clientX - chart.getBoundingClientRect().left)));
    host.textContent = "";
    host.append(chart);
    return cursor;
  }

  W.pages.playback = async function (ref, occasionId) {
    const base = `/api/cases/${encodeURIComponent(ref)}`;
    // one occasion (± 30 minutes), or a whole local day of the case (?day=YYYY-MM-DD)
    const data = occasionId ? await api("GET", `${base}/occasions/${encodeURIComponent(occasionId)}/playback`)
      : await dayData(base, new URLSearchParams(window.location.search).get("day"));
    const o = data.occasion, tracks = data.tracks;
    const t0 = secs(tracks.start), t1 = secs(tracks.end);
    const width = Math.max(480, document.getElementById("distance-chart").clientWidth || 900);
    const q = new URLSearchParams({ from: tracks.start, to: tracks.end, samples: String(Math.round(width - LEFT - RIGHT)) });
    const review = await api("GET", `${base}/review?${q}`);
    if (!o) data.incidents = review.incidents;
    const labelOf = Object.fromEntries(review.units.map((u) => [u.unit, u.label]));
    const name = (unit) => labelOf[unit] || unit;
    document.getElementById("occ-summary").textContent = o ?
      `Occasion ${ukTime(o.start)} to ${ukTime(o.end)} (${ZONE}), ${minutes(o.duration_s)} · ` +
      `${o.reasons && o.reasons.length ? o.reasons.map(W.reasonWord).join(", ") : W.findingWords(o)} · confidence ${o.confidence || "–"}` :
      `${new Intl.DateTimeFormat("en-GB", { dateStyle: "full", timeZone: "UTC" }).format(new Date(data.day))}: ${ukTime(tracks.start)} to ${ukTime(tracks.end)} (${ZONE}) · ${review.occasions.length} occasion${review.occasions.length === 1 ? "" : "s"}`;
    let t = t0, playing = false, last = null, render = () => {};
    // the map: tracks, occasions, places, stops, incidents and a marker per officer
    const pts = W.trackPoints(tracks);
    const seen = pts.length ? pts : o ? [[o.x, o.y]] : data.places.map((p) => [p.x, p.y]);
    const box = W.bboxOf(seen), mapBox = document.getElementById("map");
    const sm = await W.streetMap(mapBox, isFinite(box.x0) ? [(box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2] : null, seen)
      .catch(() => null);  // no WebGL: the page works without its map
    if (!sm) mapBox.replaceChildren(el("p", { class: "map-note", text: "The map cannot be shown in this browser (it needs WebGL)." }));
    const place = (x, y) => W.gridToLngLat(sm.info.affine, x, y);
    const mark = (cls, label, colour, x, y) => {  // an HTML marker named for screen readers
      const node = el("div", { class: cls, role: "img", "aria-label": label, title: label });
      if (colour) node.style.setProperty("--c", colour);
      if (!sm) return { node, m: null };
      return { node, m: new window.maplibregl.Marker({ element: node }).setLngLat(place(x, y)).addTo(sm.map) };
    };
    const colourOf = Object.fromEntries(tracks.units.map((u, i) => [u.unit, UNIT_COLOURS[i % UNIT_COLOURS.length]]));
    if (sm) {
      W.streetRoads(sm, data.roads);
      W.streetTracks(sm, tracks, 0.5);
    }
    const legend = document.getElementById("units-legend");
    legend.textContent = "";
    tracks.units.forEach((u) => {
      const sw = el("span", { class: "sw" });
      sw.style.background = colourOf[u.unit];
      legend.append(sw, el("span", { class: "unit-name", text: name(u.unit) }));
    });
    for (const p of data.places) {
      mark(`place-marker${p.kind === "home" ? " home" : ""}`, `${p.kind.replace(/_/g, " ")}${p.name ? ": " + p.name : ""}`, null, p.x, p.y);
    }
    for (const oc of o ? [o] : review.occasions) {
      if (oc.x !== null) mark("occasion-marker", `occasion ${ukTime(oc.start)} to ${ukTime(oc.end)}`, null, oc.x, oc.y);
    }
    for (const s of review.stops) {
      mark("stop-marker", `${name(s.unit)} stopped ${ukTime(s.start)} to ${ukTime(s.end)} (${minutes(s.duration_s)})`,
        colourOf[s.unit] || "#555", s.x, s.y).node.setAttribute("data-unit", s.unit);
    }
    const incidentMarks = data.incidents.map((inc) => {
      const { node } = mark("incident-marker", `incident ${inc.incident_id} P${inc.priority ?? "?"}`, null, inc.x, inc.y);
      node.hidden = true;
      return { inc, node, t: secs(inc.created_at), end: inc.closed_at ? secs(inc.closed_at) : Infinity };
    });
    const x0 = isFinite(box.x0) ? box.x0 : 0, y0 = isFinite(box.y0) ? box.y0 : 0;
    const markers = tracks.units.map((u, i) => {
      const { node, m } = mark("unit-marker", name(u.unit), colourOf[u.unit], x0, y0);
      node.setAttribute("data-unit", u.unit);
      const label = el("span", { class: "unit-label", text: name(u.unit), "aria-hidden": "true" });
      label.style.top = `${16 * i - 8}px`;  // officers together: labels one under another
      node.append(label);
      return { node, m };
    });

    const ax = axis(t0, t1, width);
    const pick = (tt) => { t = Math.max(t0, Math.min(t1, tt)); render(); };
    // the distance strip of one pair of officers (a choice when the case has more than two)
    let distCursor = null;
    const pairs = review.pairs, chooser = document.getElementById("pair");
    const drawPair = (k) => {
      const p = pairs[k];
      distCursor = distanceChart(document.getElementById("distance-chart"), review, p, [name(p.a), name(p.b)],
        ax, width, pick);
      render();
    };
    pairs.forEach((p, k) => chooser.append(el("option", { value: String(k), text: `${name(p.a)} and ${name(p.b)}` })));
    document.getElementById("pair-label").hidden = pairs.length < 2;
    chooser.addEventListener("change", () => drawPair(Number(chooser.value)));
    const lineCursor = timeline(document.getElementById("timeline"), review, ax, width, pick);

    const slider = document.getElementById("slider"), clockOut = document.getElementById("clock");
    const sep = document.getElementById("separation"), list = document.getElementById("incident-list");
    const play = document.getElementById("play");
    render = function () {
      slider.value = String(Math.round(((t - t0) / (t1 - t0)) * 1000));
      slider.setAttribute("aria-valuetext", `${ukTime(t)} ${ZONE}`);
      clockOut.textContent = ukTime(t);
      clockOut.setAttribute("data-t", String(Math.round(t)));
      const pos = tracks.units.map((u) => W.positionAt(u, t));
      pos.forEach((p, i) => {
        const { node, m } = markers[i];
        node.hidden = !p;
        if (!p) return;
        node.setAttribute("data-x", p[0].toFixed(1));
        node.setAttribute("data-y", p[1].toFixed(1));
        if (m) m.setLngLat(place(p[0], p[1]));
      });
      // how far apart the chosen pair is now
      const pair = pairs[Number(chooser.value || 0)];
      const at = (unit) => pos[tracks.units.findIndex((u) => u.unit === unit)];
      const pa = pair ? at(pair.a) : pos[0], pb = pair ? at(pair.b) : pos[1];
      if (pa && pb) {
        sep.textContent = `${pair ? `${name(pair.a)} and ${name(pair.b)}: ` : ""}${metres(Math.hypot(pa[0] - pb[0], pa[1] - pb[1]))} apart (likely)`;
      } else sep.textContent = "position of one officer unknown at this time";
      const cx = String(ax.x(t));
      for (const c of [distCursor, lineCursor]) if (c) { c.setAttribute("x1", cx); c.setAttribute("x2", cx); }
      list.textContent = "";
      for (const im of incidentMarks) {
        im.node.hidden = !(im.t <= t && t <= im.end);
        if (im.t <= t) list.append(el("li", { text: `${ukTime(im.t)} P${im.inc.priority ?? "?"} ${im.inc.category || ""}${t > im.end ? " (closed)" : ""}` }));
      }
      document.getElementById("near-at").textContent = `${ukTime(t)} (${ZONE})`;
    };
    function frame(now) {
      if (!playing) return;
      if (last !== null) t = Math.min(t1, t + ((now - last) / 1000) * Number(document.getElementById("speed").value));
      last = now;
      render();
      if (t >= t1) { playing = false; play.textContent = "Play"; play.setAttribute("aria-pressed", "false"); return; }
      requestAnimationFrame(frame);
    }
    play.addEventListener("click", () => {
      playing = !playing;
      play.textContent = playing ? "Pause" : "Play";
      play.setAttribute("aria-pressed", String(playing));
      last = null;
      if (playing) { if (t >= t1) t = t0; requestAnimationFrame(frame); }
    });
    slider.addEventListener("input", () => { t = t0 + (Number(slider.value) / 1000) * (t1 - t0); render(); });
    for (const [id, step] of [["back", -60], ["forward", 60]]) {
      document.getElementById(id).addEventListener("click", () => pick(t + step));
    }
    wireNear(base, sm, () => t);
    // an occasion's own pair first
    const own = o ? pairs.findIndex((p) => [p.a, p.b].sort().join() === [o.officer_a, o.officer_b].sort().join()) : -1;
    chooser.value = String(Math.max(0, own));
    if (pairs.length) drawPair(Math.max(0, own)); else render();
  };

  // A day of the case: its tracks at full detail, places and roads from the overview.
  async function dayData(base, day) {
    const overview = await api("GET", `${base}/overview`);
    const first = W.localDay(overview.case.start, 0), last = W.localDay(overview.case.end, -1);
    const chosen = day && day >= first && day <= last ? day : first;
    const q = new URLSearchParams({ from: chosen, to: chosen, tolerance_m: "1", max_points: "50000" });
    const tracks = await api("GET", `${base}/tracks?${q}`);
    const picker = document.getElementById("day");
    if (picker) { picker.value = chosen; picker.min = first; picker.max = last; }
    return { occasion: null, tracks, incidents: [], places: overview.places, roads: overview.roads, day: chosen };
  }

  // "Who was near here then": a point (a click on the map, or typed) and the playback's time.
  function wireNear(base, sm, now) {
    const form = document.getElementById("near-form"), out = document.getElementById("near-list");
    const fx = document.getElementById("near-x"), fy = document.getElementById("near-y");
    const fd = document.getElementById("near-distance"), status = document.getElementById("near-status");
    const ring = () => {  // the searched circle, drawn in grid metres
      const x = Number(fx.value), y = Number(fy.value), r = Number(fd.value);
      if (!sm || !fx.value || !fy.value || !isFinite(x) || !isFinite(y) || !(r > 0)) return;
      const coords = [];
      for (let k = 0; k <= 64; k++) {
        const a = (k / 64) * 2 * Math.PI;
        coords.push(W.gridToLngLat(sm.info.affine, x + r * Math.cos(a), y + r * Math.sin(a)));
      }
      W.setSource(sm.map, "near-ring", [{ type: "Feature", properties: {}, geometry: { type: "Polygon", coordinates: [coords] } }],
        (id) => [{ id, type: "fill", source: id, paint: { "fill-color": "#1f5fa8", "fill-opacity": 0.08 } },
          { id: `${id}-edge`, type: "line", source: id, paint: { "line-color": "#1f5fa8", "line-width": 1.5, "line-dasharray": [3, 2] } }]);
    };
    if (sm) sm.map.on("click", (e) => {  // MapLibre sends no click after a drag
      const [x, y] = W.lngLatToGrid(sm.info.affine, e.lngLat.lng, e.lngLat.lat);
      fx.value = x.toFixed(0); fy.value = y.toFixed(0);
      form.requestSubmit();
    });
    fd.addEventListener("change", ring);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      ring();
      out.textContent = "";
      status.textContent = "searching…";
      const q = new URLSearchParams({ at: new Date(now() * 1000).toISOString(), x: fx.value, y: fy.value, distance_m: fd.value });
      try {
        const found = await api("GET", `${base}/near?${q}`);
        for (const f of found.officers) out.append(el("li", { text: `${f.label}: ${metres(f.distance_m)} away` }));
        status.textContent = `${found.officers.length} of the case's officers (${found.searched.join(", ")}) within ${metres(found.distance_m)} at ${ukTime(found.at)}`;
        status.setAttribute("data-done", "1");
      } catch (err) { W.showError(status, err); }
    });
  }
})();
