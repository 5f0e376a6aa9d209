// The Campaigns view: define a campaign (target segment keys of the served version, a holdout,
// a window in UTC) and read its uplift report (the one `segmentation uplift` wrote to the lake).
// The API checks everything again and says what it expected; the form only keeps the obvious
// mistakes from a round trip.

let api;
let shown = null;

function el(tag, value, cls) {
  const node = document.createElement(tag);
  if (value !== undefined && value !== null) node.textContent = value;
  if (cls) node.className = cls;
  return node;
}

function grid(head, rows, id) {
  const t = el("table", null, "grid");
  if (id) t.id = id;
  const tr = el("tr");
  head.forEach((h) => tr.append(el("th", h)));
  const thead = el("thead");
  thead.append(tr);
  const tbody = el("tbody");
  for (const row of rows) {
    const r = el("tr");
    for (const cell of row) {
      const td = el("td");
      if (cell instanceof Node) td.append(cell);
      else td.textContent = cell ?? "";
      r.append(td);
    }
    tbody.append(r);
  }
  t.append(thead, tbody);
  return t;
}

const $ = (id) => document.getElementById(id);
const pct = (x) => (x === null || x === undefined ? "n/a" : `${(100 * x).toFixed(1)} %`);
const pts = (x) => (x === null || x === undefined ? "n/a" : `${x >= 0 ? "+" : ""}${(100 * x).toFixed(1)}`);
const eur = (x) => (x === null || x === undefined ? "n/a" : `${x >= 0 ? "+" : ""}${x.toFixed(2)}`);
const rel = (x) => (x === null || x === undefined ? "n/a" : `${pts(x)} %`);
const ci = (lo, hi, f) => (lo === null || hi === null || lo === undefined ? "n/a" : `[${f(lo)}, ${f(hi)}]`);
// datetime-local gives "2026-10-01T00:00": the page's times are UTC
const utc = (value) => (value ? `${value.length === 16 ? value + ":00" : value}Z` : "");

export function wireCampaigns(client) {
  api = client;
  $("campaign-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const message = $("campaign-message");
    message.textContent = "";
    message.className = "error";
    const keys = [...form.querySelectorAll("input[name=segment_keys]:checked")].map((b) => b.value);
    const body = {
      name: form.name.value.trim(),
      segment_keys: keys,
      holdout: Number(form.holdout.value) / 100,
      start: utc(form.start.value),
      end: utc(form.end.value),
    };
    if (!keys.length) {
      message.textContent = "Choose at least one target segment.";
      return;
    }
    try {
      const created = await api.post("/campaigns", body);
      message.className = "ok";
      message.textContent = `Campaign ${created.campaign_id} defined (${created.status}${created.model_version ? `, members frozen to ${created.model_version}` : ", frozen at its start"}).`;
      form.name.value = "";
      await listCampaigns();
    } catch (err) {
      message.textContent = err.message;
    }
  });
}

export async function loadCampaigns() {
  await drawTargets();
  await listCampaigns();
}

async function drawTargets() {
  const box = $("campaign-targets");
  box.replaceChildren();
  let served;
  try {
    served = await api.get("/served");
  } catch (_) {
    box.append(el("p", "No segments served yet: a campaign targets the served version's segments.", "hint"));
    return;
  }
  for (const s of served.segments) {
    if (!s.segment_key) continue;
    const label = el("label", null, "check");
    const box1 = el("input");
    box1.type = "checkbox";
    box1.name = "segment_keys";
    box1.value = s.segment_key;
    label.append(box1, el("span", `${s.segment_key} · ${s.segment_name} (${s.size} users)`));
    box.append(label);
  }
}

async function listCampaigns() {
  const list = $("campaign-list");
  list.replaceChildren();
  const answer = await api.get("/campaigns");
  if (!answer.campaigns.length) {
    list.append(el("p", "No campaign yet.", "hint"));
    return;
  }
  const rows = answer.campaigns.map((c) => {
    const open = el("button", "Uplift report", "link");
    open.dataset.campaign = c.campaign_id;
    open.addEventListener("click", () => showReport(c));
    return [
      c.campaign_id,
      c.name,
      c.segment_keys.join(", "),
      pct(c.holdout),
      `${c.start.slice(0, 16).replace("T", " ")} .. ${c.end.slice(0, 16).replace("T", " ")}`,
      c.status,
      c.model_version || "(at its start)",
      open,
    ];
  });
  list.append(grid(["id", "name", "targets", "holdout", "window (UTC)", "status", "members of", ""], rows, "campaigns"));
  if (shown) {
    const again = answer.campaigns.find((c) => c.campaign_id === shown);
    if (again) await showReport(again);
  }
}

async function showReport(campaign) {
  shown = campaign.campaign_id;
  const box = $("campaign-report");
  box.replaceChildren();
  box.dataset.campaign = campaign.campaign_id;
  box.append(el("h3", `${campaign.name} (${campaign.campaign_id})`));
  let report;
  try {
    report = await api.get(`/campaigns/${encodeURIComponent(campaign.campaign_id)}/uplift`);
  } catch (err) {
    const p = el("p", err.status === 404 ? `No uplift report yet: run \`segmentation uplift --campaign ${campaign.campaign_id}\`.` : err.message, err.status === 404 ? "hint" : "error");
    p.id = "report-missing";
    box.append(p);
    return;
  }
  box.dataset.status = "report";
  const head = el("p", `Members frozen to ${report.model_version}; holdout ${pct(report.holdout)}; ${report.curated_days} of the window's ${report.window_days} days in the lake; computed ${report.computed_at.slice(0, 16).replace("T", " ")} UTC.`, "hint");
  head.id = "report-head";
  box.append(head);
  const rows = [...report.segments, report.overall];
  const label = (r) => (r.segment_key === "all" ? "all targets" : `${r.segment_key}${r.segment_name ? " · " + r.segment_name : ""}`);
  box.append(el("h4", "Conversion (a purchase or subscription in the window)"));
  box.append(
    grid(
      ["segment", "users T / C", "treatment", "control", "uplift (points)", "95 % CI", "relative", "95 % CI"],
      rows.map((r) => [label(r), `${r.users_treatment} / ${r.users_control}`, pct(r.conversion.treatment), pct(r.conversion.control), pts(r.conversion.absolute), ci(r.conversion.absolute_low, r.conversion.absolute_high, pts), rel(r.conversion.relative), ci(r.conversion.relative_low, r.conversion.relative_high, pts)]),
      "uplift-conversion",
    ),
  );
  box.append(el("h4", "Spend per member (EUR in the window)"));
  box.append(
    grid(
      ["segment", "users T / C", "treatment", "control", "uplift (EUR)", "95 % CI", "relative", "95 % CI"],
      rows.map((r) => [label(r), `${r.users_treatment} / ${r.users_control}`, r.spend.treatment?.toFixed(2) ?? "n/a", r.spend.control?.toFixed(2) ?? "n/a", eur(r.spend.absolute), ci(r.spend.absolute_low, r.spend.absolute_high, eur), rel(r.spend.relative), ci(r.spend.relative_low, r.spend.relative_high, pts)]),
      "uplift-spend",
    ),
  );
  box.append(el("p", `Intervals: ${report.methods.conversion}; ${report.methods.spend}; relative: ${report.methods.relative}.`, "hint"));
  for (const r of rows) if (r.note) box.append(el("p", `${label(r)}: ${r.note}`, "warning"));
}
