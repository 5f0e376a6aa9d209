// The run form, built from the exported parameter schema (docs/params.schema.json, served as
// params.schema.json): one field per execution-input property, with its default and bounds,
// and the check the API makes, worded as the pipeline's parameter model words it
// (segmentation.pipeline.params.validate_execution_input: "<field>: got <json>, expected
// <what>"), so the form refuses a value with the message the API would give.
// tests/browser compares the two on a set of bad inputs.

const BOUND_WORDS = [
  ["exclusiveMinimum", ">"],
  ["minimum", ">="],
  ["exclusiveMaximum", "<"],
  ["maximum", "<="],
];

function members(prop) {
  return prop.anyOf ? prop.anyOf : [prop];
}

// Python's "{:g}" of a bound (2 -> "2", 0.5 -> "0.5", 10000 -> "10000").
function g(n) {
  const text = Number(n).toPrecision(6);
  return String(Number(text));
}

/** What a property accepts, in the model's words (params.expected for ExecutionInput). */
export function expected(name, prop) {
  const described = [];
  for (const m of members(prop)) {
    if (m.type === "null") continue;
    if (m.const !== undefined) described.push(JSON.stringify(m.const));
    else if (m.enum) described.push(m.enum.map((v) => JSON.stringify(v)).join(" or "));
    else if (m.type === "integer" || m.type === "number") {
      let word = m.type === "integer" ? "an integer" : "a number";
      const bounds = BOUND_WORDS.filter(([k]) => m[k] !== undefined).map(
        ([k, w]) => `${w} ${g(m[k])}`,
      );
      if (bounds.length) word += " " + bounds.join(" and ");
      described.push(word);
    } else if (m.type === "boolean") described.push("true or false");
    else if (m.type === "string" && name === "snapshot_date") described.push('"YYYY-MM-DD"');
    else if (m.type === "string") described.push("a string");
  }
  return described.join(" or ");
}

function realDay(text) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const [y, mo, d] = text.split("-").map(Number);
  const day = new Date(Date.UTC(y, mo - 1, d));
  return day.getUTCFullYear() === y && day.getUTCMonth() === mo - 1 && day.getUTCDate() === d;
}

function fits(m, value) {
  if (m.const !== undefined) return value === m.const;
  if (m.enum) return m.enum.includes(value);
  if (m.type === "boolean") return typeof value === "boolean";
  if (m.type === "integer" || m.type === "number") {
    if (typeof value !== "number" || !Number.isFinite(value)) return false;
    if (m.type === "integer" && !Number.isInteger(value)) return false;
    if (m.minimum !== undefined && value < m.minimum) return false;
    if (m.maximum !== undefined && value > m.maximum) return false;
    if (m.exclusiveMinimum !== undefined && value <= m.exclusiveMinimum) return false;
    if (m.exclusiveMaximum !== undefined && value >= m.exclusiveMaximum) return false;
    return true;
  }
  if (m.type === "string") {
    if (typeof value !== "string") return false;
    if (m.minLength !== undefined && value.length < m.minLength) return false;
    if (m.format === "date" && !realDay(value)) return false;
    return true;
  }
  return false;
}

/** null when the input is valid, else the API's message for its first offending field. */
export function check(schema, input) {
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    return `the execution input must be a JSON object, got ${JSON.stringify(input)}`;
  }
  const fields = Object.keys(schema.properties);
  const unknown = Object.keys(input).filter((k) => !fields.includes(k)).sort();
  if (unknown.length) {
    return `unknown field(s) ${unknown.join(", ")}; expected some of ${fields.join(", ")}`;
  }
  for (const name of fields) {
    if (!(name in input)) continue;
    const prop = schema.properties[name];
    if (!members(prop).some((m) => fits(m, input[name]))) {
      return `${name}: got ${JSON.stringify(input[name])}, expected ${expected(name, prop)}`;
    }
  }
  return null;
}

function kindOf(prop) {
  const ms = members(prop);
  if (ms.length === 1 && ms[0].enum) return "select";
  if (ms.length === 1 && ms[0].type === "boolean") return "checkbox";
  return "text";
}

function numeric(prop) {
  return members(prop).some((m) => m.type === "integer" || m.type === "number");
}

function defaultText(prop) {
  if (prop.default_text) return prop.default_text;
  if (prop.default !== undefined) return JSON.stringify(prop.default);
  return "";
}

/** Which fields belong to which algorithm (the others apply to both). */
const ONLY_FOR = { k: "kmeans", k_max: "kmeans", eps: "dbscan", min_samples: "dbscan" };
const ADVANCED = new Set(["rebuild", "drift_gate", "run_id"]);

/** Builds the form's fields into `container`; returns {read(), sync()}. */
export function buildForm(schema, container) {
  container.replaceChildren();
  const basic = document.createElement("div");
  basic.className = "fields";
  const advanced = document.createElement("details");
  advanced.innerHTML = "<summary>More options</summary>";
  const advancedFields = document.createElement("div");
  advancedFields.className = "fields";
  advanced.append(advancedFields);
  const inputs = {};
  for (const [name, prop] of Object.entries(schema.properties)) {
    const label = document.createElement("label");
    label.dataset.field = name;
    const title = document.createElement("span");
    title.textContent = name;
    label.append(title);
    let input;
    const kind = kindOf(prop);
    if (kind === "select") {
      input = document.createElement("select");
      for (const value of prop.enum) {
        const option = document.createElement("option");
        option.value = value;
        option.textContent = value;
        if (value === prop.default) option.selected = true;
        input.append(option);
      }
    } else if (kind === "checkbox") {
      input = document.createElement("input");
      input.type = "checkbox";
      input.checked = prop.default === true;
    } else {
      input = document.createElement("input");
      input.type = "text";
      input.placeholder = defaultText(prop);
      input.inputMode = numeric(prop) && !members(prop).some((m) => m.const) ? "decimal" : "text";
    }
    input.name = name;
    const help = document.createElement("small");
    help.textContent = `${prop.description || ""} — ${expected(name, prop)}; default ${defaultText(prop)}`;
    label.append(input, help);
    (ADVANCED.has(name) ? advancedFields : basic).append(label);
    inputs[name] = { input, prop, kind, label };
  }
  container.append(basic, advanced);

  function read() {
    const out = {};
    for (const [name, { input, prop, kind }] of Object.entries(inputs)) {
      if (kind === "select") {
        if (input.value !== prop.default || name === "algorithm") out[name] = input.value;
      } else if (kind === "checkbox") {
        if (input.checked !== (prop.default === true)) out[name] = input.checked;
      } else {
        const text = input.value.trim();
        if (text === "") continue;
        const allowsConst = members(prop).some((m) => m.const === text);
        if (!allowsConst && numeric(prop) && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) {
          out[name] = Number(text);
        } else out[name] = text;
      }
      if (ONLY_FOR[name] && out.algorithm !== undefined && ONLY_FOR[name] !== out.algorithm) {
        delete out[name];
      }
    }
    return out;
  }

  function sync() {
    const algorithm = inputs.algorithm ? inputs.algorithm.input.value : null;
    for (const [name, { label }] of Object.entries(inputs)) {
      label.hidden = Boolean(ONLY_FOR[name] && algorithm && ONLY_FOR[name] !== algorithm);
    }
  }
  if (inputs.algorithm) inputs.algorithm.input.addEventListener("change", sync);
  sync();
  return { read, sync, inputs };
}
