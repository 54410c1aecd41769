// whereabouts review tools, as AVL playback and i2 timelines give them: several officers on
// one timeline with stop markers and labels, the distance between two of them over time
// (a strip chart with a cursor tied to the slider, occasions and incidents marked), a
// timeline per officer (duty, incidents attended, occasions, stops) and "who was near here
// then". Plain JavaScript and SVG over the app's own API (static/app.js's helpers).
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
      const head = svg("text", { x: 4, y: y + 13, class: "officer", fill: UNIT_COLOURS[i % 4] });
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
    const map = new W.GridMap(document.getElementById("map"), () => render());
    map.layers.stops = svg("g", { class: "stops" });
    map.svg.insertBefore(map.layers.stops, map.layers.markers);
    W.drawRoads(map, data.roads);
    W.drawPlaces(map, data.places);
    W.drawTracks(map, tracks, 0.35);
    tracks.units.forEach((u, i) => {
      const label = document.getElementById(`unit${i}`);
      if (label) label.textContent = name(u.unit);
    });
    const pts = W.trackPoints(tracks);
    map.fit(W.bboxOf(pts.length ? pts : o ? [[o.x, o.y]] : data.places.map((p) => [p.x, p.y])));
    for (const oc of o ? [o] : review.occasions) {
      if (oc.x !== null) map.dot("occasions", oc.x, oc.y, 9, "none", `occasion ${ukTime(oc.start)} to ${ukTime(oc.end)}`).setAttribute("stroke", "#c0162b");
    }
    const colourOf = Object.fromEntries(tracks.units.map((u, i) => [u.unit, UNIT_COLOURS[i % 4]]));
    for (const s of review.stops) {
      map.square("stops", s.x, s.y, 4, colourOf[s.unit] || "#555",
        `${name(s.unit)} stopped ${ukTime(s.start)} to ${ukTime(s.end)} (${minutes(s.duration_s)})`).setAttribute("class", "stop");
    }
    const markers = tracks.units.map((u, i) => {
      const m = map.dot("markers", 0, 0, 7, UNIT_COLOURS[i % 4], name(u.unit));
      m.setAttribute("data-unit", u.unit);
      const label = svg("text", { class: "unit-label", "data-unit": u.unit, "paint-order": "stroke" });
      label.textContent = name(u.unit);
      map.layers.markers.append(label);
      return { m, label };
    });
    const incidentMarks = data.incidents.map((inc) => {
      const m = map.square("incidents", inc.x, inc.y, 6, "#6a1b9a", `incident ${inc.incident_id} P${inc.priority ?? "?"}`);
      m.setAttribute("visibility", "hidden");
      return { inc, m, t: secs(inc.created_at), end: inc.closed_at ? secs(inc.closed_at) : Infinity };
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
      const k = map.metresPerPixel();
      const pos = tracks.units.map((u) => W.positionAt(u, t));
      pos.forEach((p, i) => {
        const { m, label } = markers[i];
        const shown = p ? "visible" : "hidden";
        m.setAttribute("visibility", shown);
        label.setAttribute("visibility", shown);
        if (!p) return;
        m.setAttribute("cx", p[0]); m.setAttribute("cy", -p[1]);
        label.setAttribute("x", p[0] + 10 * k); label.setAttribute("y", -p[1] - (6 - 16 * i) * k);
        label.setAttribute("font-size", 13 * k); label.setAttribute("stroke-width", 3 * k);
      });
      if (pos.length >= 2 && pos[0] && pos[1]) {
        const d = Math.hypot(pos[0][0] - pos[1][0], pos[0][1] - pos[1][1]);
        sep.textContent = `${metres(d)} apart (likely)`;
      } else sep.textContent = "position of one officer unknown at this time";
      const cx = String(ax.x(t));
      for (const c of [distCursor, lineCursor]) if (c) { c.setAttribute("x1", cx); c.setAttribute("x2", cx); }
      list.textContent = "";
      for (const im of incidentMarks) {
        const raised = im.t <= t && t <= im.end;
        im.m.setAttribute("visibility", raised ? "visible" : "hidden");
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
    wireNear(base, map, () => t, name);
    if (pairs.length) drawPair(0); else render();
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
  function wireNear(base, map, now, name) {
    const form = document.getElementById("near-form"), out = document.getElementById("near-list");
    const fx = document.getElementById("near-x"), fy = document.getElementById("near-y");
    const fd = document.getElementById("near-distance"), status = document.getElementById("near-status");
    let ring = null, down = null;
    const mark = () => {
      if (ring) ring.remove();
      const x = Number(fx.value), y = Number(fy.value), r = Number(fd.value);
      if (!fx.value || !fy.value || !isFinite(x) || !isFinite(y)) return;
      ring = svg("circle", { cx: x, cy: -y, r, class: "near-ring", "vector-effect": "non-scaling-stroke" });
      map.layers.markers.append(ring);
    };
    map.svg.addEventListener("pointerdown", (e) => { down = [e.clientX, e.clientY]; });
    map.svg.addEventListener("click", (e) => {
      if (down && Math.hypot(e.clientX - down[0], e.clientY - down[1]) > 4) return;  // a drag, not a click
      const p = map.toUser(e.clientX, e.clientY);
      fx.value = p.x.toFixed(0); fy.value = (-p.y).toFixed(0);
      mark();
      form.requestSubmit();
    });
    fd.addEventListener("change", mark);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      mark();
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
