// Small SVG charts drawn by hand (no chart library: nothing to fetch or bundle): bars, a
// diverging heat map, and a two-axis line chart. Each returns an <svg> element.

const NS = "http://www.w3.org/2000/svg";

function el(name, attrs = {}, text) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function svg(width, height, label) {
  return el("svg", {
    viewBox: `0 0 ${width} ${height}`,
    width: "100%",
    role: "img",
    "aria-label": label,
    class: "chart",
  });
}

/** Horizontal bars: [{label, value, note}] */
export function bars(items, label) {
  const row = 26;
  const left = 190;
  const width = 620;
  const root = svg(width, items.length * row + 10, label);
  const max = Math.max(1, ...items.map((i) => i.value));
  items.forEach((item, n) => {
    const y = 5 + n * row;
    root.append(el("text", { x: left - 8, y: y + 16, "text-anchor": "end", class: "axis" }, item.label));
    const w = ((width - left - 90) * item.value) / max;
    root.append(el("rect", { x: left, y: y + 3, width: Math.max(1, w), height: row - 8, class: "bar" }));
    root.append(el("text", { x: left + w + 6, y: y + 16, class: "value" }, item.note ?? String(item.value)));
  });
  return root;
}

function heat(z) {
  // blue (below the population mean) .. white .. red (above); |z| >= 2 saturates
  const t = Math.max(-1, Math.min(1, z / 2));
  const c = (a, b) => Math.round(a + (b - a) * Math.abs(t));
  return t >= 0 ? `rgb(255,${c(255, 80)},${c(255, 60)})` : `rgb(${c(255, 50)},${c(255, 110)},255)`;
}

/** Rows = segments, columns = features, cell = z-score. */
export function heatmap(rows, features, label) {
  const cell = 34;
  const left = 190;
  const top = 120;
  const root = svg(left + features.length * cell + 10, top + rows.length * cell + 10, label);
  features.forEach((f, j) => {
    const x = left + j * cell + cell / 2;
    root.append(el("text", { x, y: top - 6, transform: `rotate(-55 ${x} ${top - 6})`, class: "axis" }, f));
  });
  rows.forEach((row, i) => {
    const y = top + i * cell;
    root.append(el("text", { x: left - 8, y: y + cell / 2 + 4, "text-anchor": "end", class: "axis" }, row.label));
    features.forEach((f, j) => {
      const z = row.z[f];
      const rect = el("rect", {
        x: left + j * cell,
        y,
        width: cell - 2,
        height: cell - 2,
        fill: z === null || z === undefined ? "#eee" : heat(z),
        class: "cell",
      });
      rect.append(el("title", {}, `${row.label} / ${f}: z = ${z === null || z === undefined ? "n/a" : z.toFixed(2)}`));
      root.append(rect);
      if (z !== null && z !== undefined) {
        root.append(el("text", { x: left + j * cell + cell / 2 - 1, y: y + cell / 2 + 3, "text-anchor": "middle", class: "cellv" }, z.toFixed(1)));
      }
    });
  });
  return root;
}

/** x -> two series on their own axes (left: a, right: b). */
export function lines(points, { x, a, b, aLabel, bLabel, marker }, label) {
  const width = 620;
  const height = 260;
  const pad = { l: 60, r: 60, t: 16, b: 40 };
  const root = svg(width, height, label);
  const xs = points.map((p) => p[x]);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const sx = (v) => pad.l + ((v - x0) / Math.max(1e-9, x1 - x0)) * (width - pad.l - pad.r);
  const scale = (key) => {
    const vs = points.map((p) => p[key]).filter((v) => v !== null && Number.isFinite(v));
    const lo = Math.min(...vs);
    const hi = Math.max(...vs);
    return { lo, hi, f: (v) => height - pad.b - ((v - lo) / Math.max(1e-9, hi - lo)) * (height - pad.t - pad.b) };
  };
  root.append(el("line", { x1: pad.l, y1: height - pad.b, x2: width - pad.r, y2: height - pad.b, class: "frame" }));
  // at most ~8 ticks, short labels (eps values are long floats)
  const step = Math.max(1, Math.ceil(xs.length / 8));
  xs.forEach((v, i) => {
    if (i % step) return;
    const label = Number.isInteger(v) ? String(v) : Number(v).toPrecision(3);
    root.append(el("text", { x: sx(v), y: height - pad.b + 16, "text-anchor": "middle", class: "axis" }, label));
  });
  root.append(el("text", { x: width / 2, y: height - 4, "text-anchor": "middle", class: "axis" }, x));
  [
    [a, aLabel, "series-a", pad.l - 6, "end"],
    [b, bLabel, "series-b", width - pad.r + 6, "start"],
  ].forEach(([key, name, cls, tx, anchor]) => {
    if (!key) return;
    const s = scale(key);
    if (!Number.isFinite(s.lo)) return;
    const pts = points.filter((p) => p[key] !== null && Number.isFinite(p[key]));
    root.append(el("polyline", { points: pts.map((p) => `${sx(p[x])},${s.f(p[key])}`).join(" "), class: cls }));
    for (const p of pts) root.append(el("circle", { cx: sx(p[x]), cy: s.f(p[key]), r: 3, class: cls }));
    // the series' name in the legend under the x axis, clear of the curves and the bounds
    const legendX = cls === "series-a" ? pad.l : width - pad.r;
    root.append(el("text", { x: legendX, y: height - 4, "text-anchor": cls === "series-a" ? "start" : "end", class: `axis legend ${cls}` }, `— ${name}`));
    root.append(el("text", { x: tx, y: s.f(s.hi) + 4, "text-anchor": anchor, class: `axis ${cls}` }, s.hi.toPrecision(3)));
    root.append(el("text", { x: tx, y: s.f(s.lo) + 4, "text-anchor": anchor, class: `axis ${cls}` }, s.lo.toPrecision(3)));
  });
  if (marker !== undefined && marker !== null) {
    root.append(el("line", { x1: sx(marker), y1: pad.t, x2: sx(marker), y2: height - pad.b, class: "marker" }));
  }
  return root;
}

/** A single share as a filled bar (DBSCAN's noise share). */
export function share(value, label) {
  const root = svg(620, 40, label);
  root.append(el("rect", { x: 0, y: 8, width: 500, height: 20, class: "track" }));
  root.append(el("rect", { x: 0, y: 8, width: 500 * Math.max(0, Math.min(1, value)), height: 20, class: "bar noise" }));
  root.append(el("text", { x: 510, y: 23, class: "value" }, `${(100 * value).toFixed(1)} %`));
  return root;
}
