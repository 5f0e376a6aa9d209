// The console: sign-in, Data (format + upload + report), Run (form + live progress),
// Segments (cards, charts, metrics, history), Campaigns (campaigns.js) and the user lookup. Plain ES modules, served as
// they are: no build step, no CDN. config.json (written beside the page by Terraform on AWS,
// by `segmentation serve` locally) says where the API and Cognito are.

import { client } from "./api.js";
import { currentToken, setNewPassword, signIn, signOut, tokenEmail } from "./auth.js";
import { loadCampaigns, wireCampaigns } from "./campaigns.js";
import { bars, heatmap, lines, share } from "./charts.js";
import { buildForm, check } from "./params.js";

const $ = (id) => document.getElementById(id);
const STEP_ORDER = ["clean", "features", "cluster", "monitor", "publish"];
const POLL_MS = 1000;

let config;
let schema;
let api;
let form;

function text(tag, value, cls) {
  const node = document.createElement(tag);
  node.textContent = value;
  if (cls) node.className = cls;
  return node;
}

function table(node, head, rows) {
  node.replaceChildren();
  const tr = document.createElement("tr");
  head.forEach((h) => tr.append(text("th", h)));
  const thead = document.createElement("thead");
  thead.append(tr);
  const tbody = document.createElement("tbody");
  for (const row of rows) {
    const r = document.createElement("tr");
    for (const cell of row) {
      const td = document.createElement("td");
      if (cell instanceof Node) td.append(cell);
      else td.textContent = cell ?? "";
      r.append(td);
    }
    tbody.append(r);
  }
  node.append(thead, tbody);
}

function pct(x) {
  return `${(100 * x).toFixed(1)} %`;
}

function seconds(s) {
  if (s === null || s === undefined) return "";
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

// ---------------------------------------------------------------------------- sign-in
function showSignedIn(token) {
  $("signin").hidden = true;
  $("tabs").hidden = false;
  $("lookup").hidden = false;
  const who = $("who");
  who.replaceChildren(text("span", tokenEmail(token)));
  const out = text("button", "Sign out", "link");
  out.addEventListener("click", () => {
    signOut();
    location.reload();
  });
  who.append(out);
  show("data");
}

function showSignIn(message) {
  for (const v of document.querySelectorAll(".view")) v.hidden = true;
  $("tabs").hidden = true;
  $("lookup").hidden = true;
  $("who").replaceChildren();
  $("signin").hidden = false;
  $("signin-message").textContent = message || "";
}

function wireSignIn() {
  let session = null;
  $("signin-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(event.target);
    const email = String(data.get("email")).trim();
    $("signin-message").textContent = "";
    try {
      let answer;
      if (session) {
        answer = await setNewPassword(config, email, session, String(data.get("new_password")));
      } else {
        answer = await signIn(config, email, String(data.get("password")));
      }
      if (answer.challenge === "NEW_PASSWORD_REQUIRED") {
        session = answer.session;
        $("new-password-row").hidden = false;
        $("signin-message").textContent = "First sign-in: choose a new password.";
        event.target.new_password.required = true;
        event.target.new_password.focus();
        return;
      }
      if (answer.challenge) throw new Error(`unsupported sign-in step ${answer.challenge}`);
      event.target.reset();
      showSignedIn(answer.token);
    } catch (err) {
      $("signin-message").textContent = err.message;
    }
  });
}

// ---------------------------------------------------------------------------- tabs
function show(view) {
  for (const b of document.querySelectorAll("#tabs button")) {
    b.classList.toggle("active", b.dataset.view === view);
  }
  for (const v of document.querySelectorAll(".view")) v.hidden = v.id !== `view-${view}`;
  if (view === "data") loadContract();
  if (view === "segments") loadSegments();
  if (view === "run") resumeRun();
  if (view === "campaigns") loadCampaigns();
}

// ---------------------------------------------------------------------------- Data
let contractShown = false;
async function loadContract() {
  if (contractShown) return;
  const contract = await api.get("/contract");
  table(
    $("contract"),
    ["column", "required", "type", "unit", "example", "meaning"],
    contract.columns.map((c) => [c.name, c.required ? "yes" : "no", c.type, c.unit, c.example, c.meaning]),
  );
  $("contract-example").textContent = contract.example_csv;
  contractShown = true;
}

function putWithProgress(url, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    xhr.upload.addEventListener("progress", (e) => e.lengthComputable && onProgress(e.loaded / e.total));
    xhr.addEventListener("load", () => (xhr.status < 300 ? resolve() : reject(new Error(`upload refused (HTTP ${xhr.status})`))));
    xhr.addEventListener("error", () => reject(new Error("upload failed (network)")));
    xhr.send(file);
  });
}

function wireUpload() {
  $("upload-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = event.target.file.files[0];
    const message = $("upload-message");
    const progress = $("upload-progress");
    $("upload-report").replaceChildren();
    if (!file) return;
    try {
      message.textContent = "Asking for an upload address…";
      const ticket = await api.post("/uploads", { filename: file.name, size: file.size });
      progress.hidden = false;
      progress.value = 0;
      await putWithProgress(ticket.url, file, (f) => {
        progress.value = Math.round(100 * f);
        message.textContent = `Uploading ${file.name}: ${Math.round(100 * f)} %`;
      });
      progress.value = 100;
      message.textContent = `${file.name} uploaded; ingesting…`;
      let status;
      for (;;) {
        status = await api.get(`/uploads/${ticket.upload_id}`);
        if (status.status === "processed" || status.status === "failed") break;
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
      showReport(status);
      message.textContent = "";
    } catch (err) {
      message.textContent = err.message;
      message.className = "error";
    }
  });
}

function showReport(report) {
  const box = $("upload-report");
  box.replaceChildren();
  box.dataset.status = report.status;
  const head = text(
    "p",
    report.status === "processed"
      ? `${report.filename}: ${report.rows_ok} rows accepted, ${report.rows_rejected} rejected (of ${report.rows_total}).`
      : `${report.filename} could not be ingested: ${report.error || "see the rows below"}.`,
    report.status === "processed" ? "ok" : "error",
  );
  head.id = "report-summary";
  box.append(head);
  if (report.errors.length) {
    box.append(text("h3", "Rejected rows"));
    const t = document.createElement("table");
    t.className = "grid";
    t.id = "report-errors";
    table(
      t,
      ["line", "column", "value", "expected"],
      report.errors.map((e) => [String(e.line ?? ""), e.column, typeof e.value === "string" ? e.value : JSON.stringify(e.value), e.expected]),
    );
    box.append(t);
    if (report.errors_not_listed) box.append(text("p", `… and ${report.errors_not_listed} more.`, "hint"));
  }
}

// ---------------------------------------------------------------------------- Run
let following = null;

function wireRun() {
  form = buildForm(schema, $("run-fields"));
  $("run-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = form.read();
    const problem = check(schema, input);
    $("run-message").textContent = problem || "";
    if (problem) return;
    try {
      const started = await api.post("/runs", input);
      follow(started.run_id);
    } catch (err) {
      if (err.status === 409) {
        $("run-message").textContent = `${err.message} (following it)`;
        follow(err.body.running_id);
      } else $("run-message").textContent = err.message;
    }
  });
}

async function resumeRun() {
  if (following) return;
  const listing = await api.get("/runs");
  const running = listing.runs.find((r) => r.status === "RUNNING");
  if (running) follow(running.run_id);
}

function causeInWords(detail) {
  // Step Functions' cause is the failing service's JSON; say its message.
  const failed = [...detail.states].reverse().find((s) => s.error && s.step) || detail;
  let cause = failed.cause || detail.cause || "";
  try {
    const parsed = JSON.parse(cause);
    cause = parsed.ErrorMessage || parsed.errorMessage || parsed.Error || parsed.Cause || cause;
  } catch (_) {
    /* already words */
  }
  const where = failed.name ? `${failed.name} failed` : "the run failed";
  return `${where} (${failed.error || detail.error}): ${cause}`;
}

async function follow(runId) {
  following = runId;
  const box = $("run-progress");
  $("run-start").disabled = true;
  try {
    for (;;) {
      const detail = await api.get(`/runs/${runId}`);
      drawProgress(box, detail);
      if (detail.status !== "RUNNING") {
        if (detail.status === "SUCCEEDED") segmentsShown = null;
        break;
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  } finally {
    following = null;
    $("run-start").disabled = false;
  }
}

function drawProgress(box, detail) {
  box.replaceChildren();
  box.dataset.status = detail.status;
  box.dataset.runId = detail.run_id;
  box.append(text("h3", `Run ${detail.run_id}: ${detail.status.toLowerCase()}`));
  const list = document.createElement("ol");
  list.className = "steps";
  for (const step of STEP_ORDER) {
    const visits = detail.states.filter((s) => s.step === step);
    const last = visits[visits.length - 1];
    const state = last ? (last.status === "caught" ? "failed" : last.status) : "waiting";
    const item = text("li", "", `step ${state}`);
    item.dataset.step = step;
    item.append(text("span", step, "name"), text("span", state, "state"), text("span", last ? seconds(last.duration_s) : "", "time"));
    list.append(item);
  }
  box.append(list);
  if (detail.status === "FAILED" || detail.status === "ABORTED" || detail.status === "TIMED_OUT") {
    const p = text("p", causeInWords(detail), "error");
    p.id = "run-error";
    box.append(p);
  }
  if (detail.status === "SUCCEEDED") {
    const go = text("button", `See the segments of ${detail.model_version}`);
    go.addEventListener("click", () => show("segments"));
    box.append(go);
  }
}

// ---------------------------------------------------------------------------- Segments
let segmentsShown = null;

async function latestSucceeded(runs) {
  for (const run of runs) {
    if (run.status !== "SUCCEEDED") continue;
    const detail = await api.get(`/runs/${run.run_id}`);
    if (detail.model_version) return detail;
  }
  return null;
}

async function loadSegments() {
  const listing = await api.get("/runs");
  const latest = await latestSucceeded(listing.runs);
  await drawHistory(listing.runs);
  let served = null;
  try {
    served = await api.get("/served");
  } catch (_) {
    /* nothing published yet */
  }
  const version = (latest && latest.model_version) || (served && served.model_version);
  if (!version) {
    $("model-head").replaceChildren(text("p", "No segments yet: upload data, then start a run.", "hint"));
    return;
  }
  if (segmentsShown === version) return;
  const doc = await api.get(`/models/${encodeURIComponent(version)}`);
  drawModel(doc, served);
  segmentsShown = version;
}

function drawModel(doc, served) {
  const head = $("model-head");
  head.replaceChildren();
  const servedNote = served && served.model_version === doc.model_version ? "served now" : served ? `served: ${served.model_version}` : "not served";
  const h = text("p", "", "model");
  h.id = "model-version";
  h.append(
    text("strong", doc.model_version),
    text("span", ` — ${doc.algorithm}, ${doc.n_users} users, snapshot ${doc.snapshot_date}, ${servedNote}`),
  );
  head.append(h);
  for (const w of doc.data_warnings || []) head.append(text("p", w, "warning"));

  const cards = $("segment-cards");
  cards.replaceChildren();
  for (const s of doc.segments) {
    const card = document.createElement("article");
    card.className = "card";
    card.dataset.segment = String(s.segment_id);
    card.append(
      text("h3", `${s.segment_key ? s.segment_key + " · " : ""}${s.name}`),
      text("p", `${s.size} users · ${pct(s.share)}${s.previous_size !== null && s.previous_size !== undefined ? ` (was ${s.previous_size})` : ""}`, "size"),
      text("p", s.why, "why"),
      text("p", `Distinguishing: ${s.distinguishing.join(", ")}`, "hint"),
    );
    const actions = document.createElement("ul");
    for (const a of s.actions) actions.append(text("li", a));
    card.append(text("h4", "Recommended actions"), actions);
    cards.append(card);
  }

  $("chart-sizes").replaceChildren(
    bars(doc.segments.map((s) => ({ label: s.name, value: s.size, note: `${s.size} (${pct(s.share)})` })), "segment sizes"),
  );
  const features = doc.features.map((f) => f.name);
  $("chart-heatmap").replaceChildren(
    heatmap(doc.segments.map((s) => ({ label: s.name, z: s.z_scores })), features, "profile heat map"),
  );
  const sweep = $("fig-sweep");
  if (doc.k_sweep.length) {
    sweep.hidden = false;
    $("chart-sweep").replaceChildren(
      lines(doc.k_sweep, { x: "k", a: "wsse", b: "silhouette", aLabel: "WSSE (elbow)", bLabel: "silhouette", marker: doc.segments.filter((s) => s.segment_id >= 0).length }, "k sweep"),
    );
  } else if (doc.eps_sweep.length) {
    sweep.hidden = false;
    sweep.querySelector("figcaption").textContent = "eps sweep: noise share and silhouette";
    $("chart-sweep").replaceChildren(
      lines(doc.eps_sweep, { x: "eps", a: "noise_share", b: "silhouette", aLabel: "noise share", bLabel: "silhouette" }, "eps sweep"),
    );
  } else sweep.hidden = true;
  const noiseFig = $("fig-noise");
  if (doc.algorithm === "dbscan") {
    const noise = doc.segments.filter((s) => s.segment_id === -1).reduce((a, s) => a + s.share, 0);
    noiseFig.hidden = false;
    $("chart-noise").replaceChildren(share(doc.metrics.noise_share ?? noise, "noise share"));
  } else noiseFig.hidden = true;

  table(
    $("metrics"),
    ["metric", "value"],
    Object.entries(doc.metrics).map(([k, v]) => [k, v === null ? "undefined" : Number.isInteger(v) ? String(v) : Number(v).toPrecision(4)]),
  );
  const cmp = $("comparison");
  cmp.replaceChildren();
  if (doc.comparison) {
    const c = doc.comparison;
    cmp.append(text("h3", `Since ${c.previous_model_version}`));
    cmp.append(
      text(
        "p",
        `${c.common_users} users in both; agreement (ARI) ${c.ari === null ? "n/a" : c.ari.toFixed(3)}; largest share shift ${pct(c.largest_share_shift)}.`,
      ),
    );
    const drift = Object.entries(c.feature_psi || {}).filter(([, v]) => v !== null).sort((a, b) => b[1] - a[1]).slice(0, 5);
    if (drift.length) cmp.append(text("p", `Most drifted features (PSI): ${drift.map(([f, v]) => `${f} ${v.toFixed(2)}`).join(", ")}`, "hint"));
  }
}

async function drawHistory(runs) {
  const rows = [];
  for (const run of runs.slice(0, 10)) {
    let version = "";
    let metric = "";
    if (run.status === "SUCCEEDED") {
      const detail = await api.get(`/runs/${run.run_id}`);
      version = detail.model_version || "";
      const input = detail.input || {};
      metric = input.algorithm || "kmeans";
      const monitor = ((detail.output || {}).steps || {}).monitor;
      if (monitor && monitor.crossed && monitor.crossed.length) metric += ` · crossed: ${monitor.crossed.join(", ")}`;
    }
    rows.push([run.run_id, run.status, run.started_at.replace("T", " ").slice(0, 19), version, metric]);
  }
  table($("history"), ["run", "status", "started (UTC)", "model version", "algorithm / monitor"], rows);
}

// ---------------------------------------------------------------------------- lookup
function wireLookup() {
  $("lookup-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const field = event.target.user_id;
    // The id goes straight into the request and is cleared from the page; nothing keeps it.
    const campaign = event.target.campaign.value.trim();
    const query = campaign ? `?campaign=${encodeURIComponent(campaign)}` : "";
    const path = `/lookups/${encodeURIComponent(field.value.trim())}${query}`;
    field.value = "";
    const out = $("lookup-result");
    out.replaceChildren();
    try {
      const found = await api.get(path);
      out.append(text("h3", `${found.segment_key ? found.segment_key + " · " : ""}${found.segment_name}`));
      out.append(text("p", found.summary));
      if (campaign) {
        const arm = text("p", found.arm ? `Campaign ${campaign}: ${found.arm} arm.` : `Campaign ${campaign}: not in its target.`, "arm");
        arm.id = "lookup-arm";
        out.append(arm);
      }
      const reasons = found.reasons || [];
      if (reasons.length) {
        out.append(text("h4", "Why"));
        const ul = document.createElement("ul");
        for (const r of reasons) ul.append(text("li", typeof r === "string" ? r : JSON.stringify(r)));
        out.append(ul);
      }
      const actions = document.createElement("ul");
      for (const a of found.recommended_actions) actions.append(text("li", a));
      out.append(text("h4", "Recommended actions"), actions);
      out.append(text("p", `model ${found.model_version}`, "hint"));
    } catch (err) {
      out.append(text("p", err.message, "error"));
    }
  });
}

// ---------------------------------------------------------------------------- boot
async function boot() {
  try {
    config = await (await fetch("config.json", { cache: "no-store" })).json();
    schema = await (await fetch("params.schema.json")).json();
  } catch (err) {
    $("boot-error").hidden = false;
    $("boot-error").textContent = `The console's configuration could not be read: ${err.message}`;
    return;
  }
  api = client(config.api_url, currentToken, () => showSignIn("Your session has ended: sign in again."));
  for (const b of document.querySelectorAll("#tabs button")) b.addEventListener("click", () => show(b.dataset.view));
  wireSignIn();
  wireUpload();
  wireRun();
  wireLookup();
  wireCampaigns(api);
  const token = currentToken();
  if (token) showSignedIn(token);
  else showSignIn();
  window.consoleReady = true;
}

// Exposed for tests/browser: the form's own check, to compare with the API's message.
window.segmentationCheck = (input) => check(schema, input);

boot();
