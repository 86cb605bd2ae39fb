// The playground page: one self-contained HTML document (no build step, no framework). The browser
// script is kept in a String.raw template so its regular expressions keep their backslashes; it must
// therefore contain no backtick and no "${".

const STYLE = `
:root { color-scheme: light; --line: #d5d9e0; --muted: #5b6473; --accent: #0b63c5; --bad: #b3261e; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2430; background: #f3f4f6; }
header { padding: 12px 16px; background: #1d2430; color: #fff; display: flex; align-items: baseline; gap: 16px; flex-wrap: wrap; }
header h1 { font-size: 18px; margin: 0; }
header p { margin: 0; color: #c5cad3; }
h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin: 0 0 8px; }
.layout { display: grid; grid-template-columns: minmax(300px, 360px) 1fr; gap: 16px; padding: 16px; align-items: start; }
@media (max-width: 900px) { .layout { grid-template-columns: 1fr; } }
aside, main { display: grid; gap: 16px; min-width: 0; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px; margin: 0; min-width: 0; }
.row { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; margin: 4px 0; }
.check { display: inline-flex; gap: 4px; align-items: center; }
input, select, textarea, button { font: inherit; }
input[type=text], input[type=search], input[type=number], select, textarea { border: 1px solid var(--line); border-radius: 4px; padding: 3px 6px; background: #fff; }
textarea { width: 100%; font-family: ui-monospace, Menlo, Consolas, monospace; resize: vertical; }
button { border: 1px solid var(--accent); background: var(--accent); color: #fff; border-radius: 4px; padding: 3px 12px; cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }
#object { width: 100%; margin-top: 6px; }
#object option.other { color: #9aa1ad; }
.hint { color: var(--muted); font-size: 12px; margin: 2px 0 6px; }
fieldset.action { border: 1px solid var(--line); border-radius: 6px; margin: 0 0 8px; padding: 4px 8px 8px; }
fieldset.action:not(.on) .fields { opacity: .55; }
fieldset.action.on { border-color: var(--accent); }
fieldset.action legend { font-family: ui-monospace, Menlo, Consolas, monospace; padding: 0 4px; }
.fields { display: flex; flex-wrap: wrap; gap: 6px 10px; }
.field { display: inline-flex; gap: 4px; align-items: center; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; }
.field input[type=number] { width: 5.5em; }
.field input[type=text] { width: 7em; }
.field.wide input[type=text], .field.wide select { width: 14em; }
.url { display: flex; gap: 8px; align-items: center; margin-top: 8px; }
.url a { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; word-break: break-all; color: var(--accent); }
.panes { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
@media (max-width: 1200px) { .panes { grid-template-columns: 1fr; } }
.pane .view { min-height: 120px; display: grid; place-items: center; border-radius: 4px; overflow: auto;
  background: repeating-conic-gradient(#e8eaee 0% 25%, #fff 0% 50%) 0 0 / 16px 16px; }
.pane img { max-width: 100%; height: auto; display: block; }
.pane[data-state=loading] .view { outline: 2px dashed var(--accent); outline-offset: -2px; }
.pane pre { background: #fff; margin: 0; padding: 8px; max-width: 100%; white-space: pre-wrap; word-break: break-all; }
.stats { display: grid; grid-template-columns: auto 1fr; gap: 0 12px; margin: 0 0 8px; font-size: 13px; }
.stats dt { color: var(--muted); }
.stats dd { margin: 0; font-variant-numeric: tabular-nums; }
.error { background: #fdecea; color: var(--bad); border: 1px solid #f4c7c3; border-radius: 4px; padding: 10px; margin: 8px; max-width: 100%; }
.error strong { display: block; font-size: 15px; }
.error p { margin: 4px 0; color: #1d2430; }
.error small { color: var(--muted); }
#snippet { background: #f6f8fa; border: 1px solid var(--line); border-radius: 4px; padding: 8px; overflow: auto; font-size: 12px; margin: 0 0 8px; }
#status { color: var(--bad); }
`;

const SCRIPT = String.raw`
"use strict";
const GRAVITY = ["nw", "north", "ne", "west", "center", "east", "sw", "south", "se"];
const FORMATS = ["jpg", "png", "webp", "avif", "bmp", "gif"];
const FONTS = [
  "wqy-zenhei",
  "wqy-microhei",
  "fangzhengshusong",
  "fangzhengkaiti",
  "fangzhengheiti",
  "fangzhengfangsong",
  "droidsansfallback",
];
const RESIZE_MODES = ["lfit", "mfit", "fill", "pad", "fixed"];
const DEFAULT_PROCESS = "image/resize,w_300";
const API = "/_playground/api/";

function field(key, kind, extra) {
  return Object.assign({ key: key, kind: kind, label: key || "value" }, extra || {});
}
const int = (key, min, max, extra) => field(key, "number", Object.assign({ min: min, max: max }, extra || {}));
const choice = (key, options, extra) => field(key, "select", Object.assign({ options: options }, extra || {}));

// One entry per action, in the order the controls insert them into the process string.
const ACTIONS = [
  { name: "auto-orient", hint: "1 applies the EXIF orientation (the default), 0 keeps the stored pixels",
    fields: [choice("", ["1", "0"])] },
  { name: "crop", hint: "w × h from x, y, measured inward from the g anchor",
    fields: [int("w", 0, 30000), int("h", 0, 30000), int("x", 0, 30000), int("y", 0, 30000),
      choice("g", GRAVITY, { empty: true })],
    defaults: [["w", "200"], ["h", "200"], ["g", "center"]] },
  { name: "indexcrop", hint: "strips x (or y) px wide; keep strip i",
    fields: [int("x", 1, 30000), int("y", 1, 30000), int("i", 0, 30000)], defaults: [["x", "100"], ["i", "0"]] },
  { name: "resize", hint: "limit 0 allows enlarging; color fills m_pad",
    fields: [choice("m", RESIZE_MODES, { empty: true }), int("w", 1, 16384), int("h", 1, 16384),
      int("l", 1, 16384), int("s", 1, 16384), int("p", 1, 1000), choice("limit", ["1", "0"], { empty: true }),
      field("color", "text", { placeholder: "FFFFFF" })],
    defaults: [["w", "300"]] },
  { name: "rotate", hint: "clockwise degrees", fields: [int("", 0, 360)], defaults: [["", "90"]] },
  { name: "circle", fields: [int("r", 1, 4096)], defaults: [["r", "100"]] },
  { name: "rounded-corners", fields: [int("r", 1, 4096)], defaults: [["r", "30"]] },
  { name: "blur", hint: "radius r and sigma s, 1–50", fields: [int("r", 1, 50), int("s", 1, 50)],
    defaults: [["r", "3"], ["s", "2"]] },
  { name: "bright", fields: [int("", -100, 100)], defaults: [["", "20"]] },
  { name: "contrast", fields: [int("", -100, 100)], defaults: [["", "20"]] },
  { name: "sharpen", fields: [int("", 50, 399)], defaults: [["", "100"]] },
  { name: "watermark", hint: "text and/or an image of this bucket (Base64url is added); g anchor, x/y margins, t opacity",
    fields: [field("text", "text", { base64: true, wide: true, placeholder: "plain text" }),
      choice("type", FONTS, { base64: true, empty: true }), int("size", 1, 1000),
      field("color", "text", { placeholder: "000000" }), int("shadow", 0, 100),
      field("image", "image", { wide: true }), int("P", 1, 100, { label: "image P%", imagePart: true }),
      choice("g", GRAVITY, { empty: true }), int("x", 0, 4096), int("y", 0, 4096), int("t", 0, 100)],
    defaults: [["text", base64url("OSS playground")], ["size", "32"], ["color", "FFFFFF"], ["shadow", "50"]] },
  { name: "format", fields: [choice("", FORMATS)] },
  { name: "quality", hint: "q relative to the source JPEG's quality, Q absolute",
    fields: [field("q", "text", { placeholder: "1–100" }), field("Q", "text", { placeholder: "1–100" })],
    defaults: [["q", "80"]] },
  { name: "interlace", hint: "1 = progressive JPEG (try it with slow load)", fields: [choice("", ["1", "0"])] },
];
const ORDER = Object.fromEntries(ACTIONS.map((spec, index) => [spec.name, index]));

const $ = (id) => document.getElementById(id);
const processInput = $("process");
const bucketSelect = $("bucket");
const objectSelect = $("object");
const prefixInput = $("prefix");
const imagesOnly = $("images-only");
const autoApply = $("auto");
const slowLoad = $("slow");
const speedSelect = $("speed");
const resultUrl = $("result-url");

const state = { bucket: "", key: "", objects: [], cursor: undefined, listToken: 0, loadToken: 0 };
let model = { actions: [] };

// --- URL-safe Base64 of UTF-8 text, as OSS wants for watermark text, fonts and image keys ---

function base64url(text) {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64url(value) {
  try {
    let standard = value.replace(/-/g, "+").replace(/_/g, "/");
    while (standard.length % 4) standard += "=";
    const bytes = Uint8Array.from(atob(standard), (c) => c.charCodeAt(0));
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

// --- The process string as an ordered model: every token kept, so text -> model -> text loses nothing ---

function parseProcess(text) {
  const trimmed = text.trim();
  if (trimmed === "") return { actions: [] };
  if (!trimmed.startsWith("image/")) return { raw: trimmed };
  const actions = trimmed.slice("image/".length).split("/").filter((segment) => segment !== "").map((segment) => {
    const [name, ...params] = segment.split(",");
    const tokens = params.filter((param) => param !== "").map((param) => {
      const at = param.indexOf("_");
      return at < 0 ? [param, null] : [param.slice(0, at), param.slice(at + 1)];
    });
    return { name: name, tokens: tokens };
  });
  return { actions: actions };
}

function serialize(current) {
  if (current.raw !== undefined) return current.raw;
  if (current.actions.length === 0) return "";
  const segments = current.actions.map((action) =>
    [action.name, ...action.tokens.map(([key, value]) => (value === null ? key : key + "_" + value))].join(","));
  return "image/" + segments.join("/");
}

const findAction = (name) => model.actions.find((action) => action.name === name);

function ensureAction(name) {
  const existing = findAction(name);
  if (existing) return existing;
  const action = { name: name, tokens: [] };
  const later = model.actions.findIndex((other) => ORDER[other.name] > ORDER[name]);
  model.actions.splice(later < 0 ? model.actions.length : later, 0, action);
  return action;
}

function removeAction(name) {
  const at = model.actions.findIndex((action) => action.name === name);
  if (at >= 0) model.actions.splice(at, 1);
}

// A key of "" is the action's bare value (rotate,90).
function tokenIndex(action, key) {
  return action.tokens.findIndex(([name, value]) => (key === "" ? value === null : name === key && value !== null));
}

function getToken(action, key) {
  const at = tokenIndex(action, key);
  if (at < 0) return undefined;
  return key === "" ? action.tokens[at][0] : action.tokens[at][1];
}

function setToken(action, key, value) {
  const token = key === "" ? [value, null] : [key, value];
  const at = tokenIndex(action, key);
  if (at >= 0) action.tokens[at] = token;
  else if (key === "") action.tokens.unshift(token);
  else action.tokens.push(token);
}

function removeToken(action, key) {
  const at = tokenIndex(action, key);
  if (at >= 0) action.tokens.splice(at, 1);
}

// The watermark image is one token holding "<key>" or "<key>?x-oss-process=image/resize,P_<n>".
const SCALED_IMAGE = /^(.*)\?x-oss-process=image\/resize,P_(\d+)$/;

function readField(action, spec) {
  if (spec.kind === "image" || spec.imagePart) {
    const decoded = fromBase64url(getToken(action, "image") || "") || "";
    const scaled = SCALED_IMAGE.exec(decoded);
    if (spec.imagePart) return scaled ? scaled[2] : "";
    return scaled ? scaled[1] : decoded;
  }
  const value = getToken(action, spec.key);
  if (value === undefined) return "";
  return spec.base64 ? (fromBase64url(value) ?? "") : value;
}

function writeField(action, spec, value) {
  if (spec.kind === "image" || spec.imagePart) {
    const key = controlFor("watermark", "image").value;
    const percent = controlFor("watermark", "P").value.trim();
    if (key === "") removeToken(action, "image");
    else setToken(action, "image", base64url(percent ? key + "?x-oss-process=image/resize,P_" + percent : key));
    return;
  }
  const trimmed = spec.base64 ? value : value.trim();
  if (trimmed === "") removeToken(action, spec.key);
  else setToken(action, spec.key, spec.base64 ? base64url(trimmed) : trimmed);
}

// --- Controls ---

function controlFor(actionName, key) {
  return $(actionName + "-" + (key || "value"));
}

function buildControls() {
  const container = $("actions");
  for (const spec of ACTIONS) {
    const fieldset = document.createElement("fieldset");
    fieldset.className = "action";
    fieldset.id = spec.name + "-action";
    const legend = document.createElement("legend");
    const toggleLabel = document.createElement("label");
    const toggle = document.createElement("input");
    toggle.type = "checkbox";
    toggle.id = spec.name + "-toggle";
    toggle.addEventListener("change", () => onToggle(spec, toggle.checked));
    toggleLabel.append(toggle, " " + spec.name);
    legend.append(toggleLabel);
    fieldset.append(legend);
    if (spec.hint) {
      const hint = document.createElement("p");
      hint.className = "hint";
      hint.textContent = spec.hint;
      fieldset.append(hint);
    }
    const fields = document.createElement("div");
    fields.className = "fields";
    for (const param of spec.fields) {
      const label = document.createElement("label");
      label.className = "field" + (param.wide ? " wide" : "");
      const name = document.createElement("span");
      name.textContent = param.label;
      label.append(name, makeControl(spec, param));
      fields.append(label);
    }
    fieldset.append(fields);
    container.append(fieldset);
    spec.toggle = toggle;
    spec.fieldset = fieldset;
  }
}

function makeControl(spec, param) {
  let control;
  if (param.kind === "select" || param.kind === "image") {
    control = document.createElement("select");
    if (param.empty || param.kind === "image") control.append(new Option(param.kind === "image" ? "(none)" : "–", ""));
    for (const option of param.options || []) control.append(new Option(option, option));
  } else {
    control = document.createElement("input");
    control.type = param.kind === "number" ? "number" : "text";
    if (param.min !== undefined) control.min = String(param.min);
    if (param.max !== undefined) control.max = String(param.max);
    if (param.placeholder) control.placeholder = param.placeholder;
    control.autocomplete = "off";
  }
  control.id = spec.name + "-" + (param.key || "value");
  control.dataset.action = spec.name;
  control.dataset.param = param.key;
  control.addEventListener(control.tagName === "SELECT" ? "change" : "input", () => onControl(spec, param, control));
  return control;
}

function setControlValue(control, value) {
  if (control.tagName === "SELECT" && value !== "" && ![...control.options].some((o) => o.value === value)) {
    control.append(new Option(value, value));
  }
  control.value = value;
}

function onControl(spec, param, control) {
  if (model.raw !== undefined) return;
  writeField(ensureAction(spec.name), param, control.value);
  processInput.value = serialize(model);
  renderToggles();
  scheduleApply();
}

function onToggle(spec, on) {
  if (model.raw !== undefined) return;
  if (on) {
    const action = ensureAction(spec.name);
    // Turning an action back on restores what its (dimmed) controls still show, else its defaults.
    let carried = false;
    for (const param of spec.fields) {
      const value = controlFor(spec.name, param.key).value;
      if (value.trim() === "" || param.imagePart) continue;
      writeField(action, param, value);
      carried = true;
    }
    if (!carried) for (const [key, value] of spec.defaults || []) setToken(action, key, value);
  } else {
    removeAction(spec.name);
  }
  processInput.value = serialize(model);
  renderControls();
  scheduleApply();
}

function renderToggles() {
  const raw = model.raw !== undefined;
  $("raw-note").hidden = !raw;
  for (const spec of ACTIONS) {
    const on = !raw && findAction(spec.name) !== undefined;
    spec.fieldset.disabled = raw;
    spec.toggle.checked = on;
    spec.fieldset.classList.toggle("on", on);
  }
}

function renderControls() {
  renderToggles();
  if (model.raw !== undefined) return;
  for (const spec of ACTIONS) {
    const action = findAction(spec.name);
    if (!action) continue;
    for (const param of spec.fields) setControlValue(controlFor(spec.name, param.key), readField(action, param));
  }
}

// --- Objects ---

const isImage = (object) => object.image;

async function loadObjects(reset) {
  if (reset) {
    state.objects = [];
    state.cursor = undefined;
  }
  const token = ++state.listToken;
  const query = new URLSearchParams({ bucket: state.bucket, prefix: prefixInput.value, limit: "200" });
  if (state.cursor) query.set("cursor", state.cursor);
  let body;
  try {
    const response = await fetch(API + "objects?" + query, { cache: "no-store" });
    body = await response.json();
    if (!response.ok) throw new Error(body.error || "HTTP " + response.status);
  } catch (error) {
    if (token === state.listToken) $("list-note").textContent = "Listing failed: " + error.message;
    return;
  }
  if (token !== state.listToken) return;
  state.objects = state.objects.concat(body.objects);
  state.cursor = body.cursor;
  renderObjects();
  renderWatermarkImages();
  if (!state.key) {
    const first = state.objects.find(isImage);
    if (first) selectObject(first.key);
  }
}

function renderObjects() {
  const shown = imagesOnly.checked ? state.objects.filter(isImage) : state.objects;
  const options = shown.map((object) => {
    const option = new Option(object.key + "  ·  " + formatBytes(object.size), object.key);
    if (!object.image) option.className = "other";
    return option;
  });
  if (state.key && !shown.some((object) => object.key === state.key)) options.unshift(new Option(state.key, state.key));
  objectSelect.replaceChildren(...options);
  objectSelect.value = state.key;
  const hidden = state.objects.length - shown.length;
  $("list-note").textContent = state.objects.length + " objects" + (hidden ? " (" + hidden + " not images, hidden)" : "") +
    (state.cursor ? ", more to list" : "");
  $("more").hidden = !state.cursor;
}

function renderWatermarkImages() {
  const control = controlFor("watermark", "image");
  const current = control.value;
  const options = [new Option("(none)", "")];
  for (const object of state.objects.filter(isImage)) options.push(new Option(object.key, object.key));
  control.replaceChildren(...options);
  setControlValue(control, current);
}

function selectObject(key) {
  state.key = key;
  objectSelect.value = key;
  load(panes.original, objectPath(), "", false);
  apply(true);
}

// --- Loading and showing images ---

function pane(id) {
  return {
    element: $(id), img: $(id + "-img"), text: $(id + "-text"), error: $(id + "-error"), token: 0, objectUrl: "",
    stats: Object.fromEntries(["status", "dimensions", "bytes", "type", "time", "cache"].map((name) => [name, $(id + "-" + name)])),
  };
}
const panes = { original: pane("original"), result: pane("result") };

function objectPath() {
  const key = state.key.split("/").map(encodeURIComponent).join("/");
  return "/" + encodeURIComponent(state.bucket) + "/" + key;
}

// Commas and slashes stay readable, as in the URLs OSS documents.
const encodeProcess = (process) => encodeURIComponent(process).replace(/%2C/gi, ",").replace(/%2F/gi, "/");

let applyTimer;
function scheduleApply() {
  clearTimeout(applyTimer);
  if (autoApply.checked) applyTimer = setTimeout(() => apply(false), 400);
}

function apply(force) {
  clearTimeout(applyTimer);
  if (!state.bucket || !state.key) return;
  const process = processInput.value.trim();
  const path = objectPath() + (process ? "?x-oss-process=" + encodeProcess(process) : "");
  const slow = slowLoad.checked;
  const request = path + (slow ? " slow " + speedSelect.value : "");
  if (!force && request === panes.result.request) return;
  panes.result.request = request;
  resultUrl.textContent = location.origin + path;
  resultUrl.href = path;
  $("snippet").textContent = sdkSnippet(state.bucket, state.key, process);
  history.replaceState(null, "", "#" + new URLSearchParams({ bucket: state.bucket, key: state.key, process: process }));
  load(panes.result, path, process, slow);
}

function load(target, path, process, slow) {
  const token = ++state.loadToken;
  target.token = token;
  target.element.dataset.state = "loading";
  target.element.dataset.process = process;
  target.element.dataset.path = path;
  delete target.element.dataset.status;
  for (const stat of Object.values(target.stats)) stat.textContent = "…";
  if (slow) loadThrottled(target, path, token);
  else loadDirect(target, path, token);
}

async function loadDirect(target, path, token) {
  const started = performance.now();
  let response;
  let blob;
  try {
    response = await fetch(path, { cache: "no-store" });
    blob = await response.blob();
  } catch (error) {
    if (target.token === token) showFailure(target, "The request failed: " + error.message);
    return;
  }
  if (target.token !== token) return;
  const info = responseInfo(response, blob.size, performance.now() - started, false);
  if (!response.ok) {
    const body = await blob.text();
    if (target.token === token) showError(target, info, body);
    return;
  }
  if (!info.type.startsWith("image/")) {
    const body = await blob.text();
    if (target.token === token) showText(target, info, body);
    return;
  }
  const url = URL.createObjectURL(blob);
  showImage(target, token, url, () => finishImage(target, info));
  if (target.objectUrl) URL.revokeObjectURL(target.objectUrl);
  target.objectUrl = url;
}

// The browser reads the image straight from a slow stream, so it paints progressive scans as they
// arrive. The stream cannot say what it carried; resource timing and a HEAD request tell the rest.
function loadThrottled(target, path, token) {
  const [chunk, delay] = speedSelect.value.split(":");
  const src = API + "throttled?" + new URLSearchParams({ path: path, chunk: chunk, delay: delay, n: String(token) });
  // A fresh element: the previous result would otherwise stay on screen until the new one is complete.
  const fresh = target.img.cloneNode(false);
  fresh.removeAttribute("src");
  target.img.replaceWith(fresh);
  target.img = fresh;
  const started = performance.now();
  showImage(target, token, src, async () => {
    const timing = performance.getEntriesByName(target.img.src).pop();
    const elapsed = timing && timing.duration > 0 ? timing.duration : performance.now() - started;
    performance.clearResourceTimings();
    let head;
    try {
      head = await fetch(path, { method: "HEAD", cache: "no-store" });
    } catch {
      head = undefined;
    }
    if (target.token !== token) return;
    const bytes = (timing && timing.encodedBodySize) || Number(head?.headers.get("Content-Length") || 0);
    finishImage(target, responseInfo(head, bytes, elapsed, true));
  }, () => loadDirect(target, path, token));
  target.img.hidden = false;
}

function showImage(target, token, src, onLoad, onError) {
  target.img.onload = () => {
    if (target.token === token) onLoad();
  };
  target.img.onerror = () => {
    if (target.token !== token) return;
    if (onError) onError();
    else showFailure(target, "The browser could not decode this image.");
  };
  target.img.src = src;
}

function responseInfo(response, bytes, ms, throttled) {
  return {
    status: response ? response.status : 0,
    statusText: response ? response.statusText : "",
    type: (response && response.headers.get("Content-Type")) || "",
    cache: (response && response.headers.get("X-Cache")) || "",
    bytes: bytes,
    ms: ms,
    throttled: throttled,
  };
}

function writeStats(target, info, dimensions) {
  target.stats.status.textContent = info.status ? info.status + " " + info.statusText : "–";
  target.stats.dimensions.textContent = dimensions || "–";
  target.stats.bytes.textContent = formatBytes(info.bytes);
  target.stats.type.textContent = info.type ? formatName(info.type) + " · " + info.type : "–";
  target.stats.time.textContent = Math.round(info.ms) + " ms" + (info.throttled ? " (slow load)" : "");
  target.stats.cache.textContent = info.cache || "–";
  target.element.dataset.status = String(info.status);
}

function finishImage(target, info) {
  writeStats(target, info, target.img.naturalWidth + " × " + target.img.naturalHeight);
  target.text.hidden = true;
  target.error.hidden = true;
  target.img.hidden = false;
  target.element.dataset.state = "loaded";
}

function showText(target, info, body) {
  writeStats(target, info, "");
  let pretty = body;
  try {
    pretty = JSON.stringify(JSON.parse(body), null, 2);
  } catch {}
  target.text.textContent = pretty;
  target.img.hidden = true;
  target.error.hidden = true;
  target.text.hidden = false;
  target.element.dataset.state = "loaded";
}

function showError(target, info, body) {
  writeStats(target, info, "");
  const xml = new DOMParser().parseFromString(body, "application/xml");
  const tag = (name) => xml.getElementsByTagName(name)[0]?.textContent || "";
  const title = document.createElement("strong");
  title.textContent = info.status + " " + (tag("Code") || info.statusText || "Error");
  const message = document.createElement("p");
  message.textContent = tag("Message") || body.slice(0, 500);
  const detail = document.createElement("small");
  detail.textContent = [tag("EC") && "EC " + tag("EC"), tag("RequestId") && "RequestId " + tag("RequestId")]
    .filter(Boolean).join(" · ");
  target.error.replaceChildren(title, message, detail);
  target.img.hidden = true;
  target.text.hidden = true;
  target.error.hidden = false;
  target.element.dataset.state = "error";
}

function showFailure(target, text) {
  const title = document.createElement("strong");
  title.textContent = "No result";
  const message = document.createElement("p");
  message.textContent = text;
  target.error.replaceChildren(title, message);
  target.img.hidden = true;
  target.text.hidden = true;
  target.error.hidden = false;
  target.element.dataset.state = "error";
}

function formatBytes(bytes) {
  if (!bytes) return bytes === 0 ? "0 B" : "–";
  const exact = bytes.toLocaleString("en") + " B";
  if (bytes < 1024) return exact;
  const size = bytes < 1048576 ? (bytes / 1024).toFixed(1) + " KiB" : (bytes / 1048576).toFixed(2) + " MiB";
  return exact + " (" + size + ")";
}

function formatName(contentType) {
  const names = { "image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WebP", "image/avif": "AVIF",
    "image/bmp": "BMP", "image/gif": "GIF", "image/tiff": "TIFF", "image/heic": "HEIC", "application/json": "JSON",
    "application/xml": "XML" };
  return names[contentType.split(";")[0].trim().toLowerCase()] || contentType;
}

// --- The SDK snippet: ali-oss pointed at this server with path-style addressing ---

function sdkSnippet(bucket, key, process) {
  // ali-oss will not sign URLs for an IP endpoint, and a *.localhost host would be read as a bucket.
  const loopback = /^(127(\.\d+){3}|\[::1\]|localhost|.+\.localhost)$/.test(location.hostname);
  const endpoint = location.protocol + "//" + (loopback ? "localhost" : location.hostname) +
    (location.port ? ":" + location.port : "");
  const quoted = JSON.stringify;
  const options = process ? "{ process: " + quoted(process) + ", expires: 600 }" : "{ expires: 600 }";
  return [
    "import OSS from \"ali-oss\";",
    "",
    "const client = new OSS({",
    "  endpoint: " + quoted(endpoint) + ",",
    "  sldEnable: true, // path-style: /<bucket>/<key>",
    "  secure: " + (location.protocol === "https:") + ",",
    "  region: \"oss-cn-hangzhou\", // any region: only V4 signatures use it",
    "  bucket: " + quoted(bucket) + ",",
    "  accessKeyId: process.env.OSS_ACCESS_KEY_ID, // npm start's default: dev-access-key-id",
    "  accessKeySecret: process.env.OSS_ACCESS_KEY_SECRET, // npm start's default: dev-access-key-secret",
    "});",
    "",
    "// A signed URL (V1) of the processed image:",
    "const url = client.signatureUrl(" + quoted(key) + ", " + options + ");",
    "// Or the processed bytes:",
    "const { content } = await client.get(" + quoted(key) + (process ? ", { process: " + quoted(process) + " }" : "") + ");",
  ].join("\n");
}

// --- Wiring ---

processInput.addEventListener("input", () => {
  model = parseProcess(processInput.value);
  renderControls();
  scheduleApply();
});
processInput.addEventListener("keydown", (event) => {
  if (event.key === "Enter") {
    event.preventDefault();
    apply(true);
  }
});
$("apply").addEventListener("click", () => apply(true));
slowLoad.addEventListener("change", () => apply(true));
speedSelect.addEventListener("change", () => slowLoad.checked && apply(true));
objectSelect.addEventListener("change", () => objectSelect.value && selectObject(objectSelect.value));
imagesOnly.addEventListener("change", renderObjects);
$("more").addEventListener("click", () => loadObjects(false));
bucketSelect.addEventListener("change", () => {
  state.bucket = bucketSelect.value;
  state.key = "";
  loadObjects(true);
});
let prefixTimer;
prefixInput.addEventListener("input", () => {
  clearTimeout(prefixTimer);
  prefixTimer = setTimeout(() => loadObjects(true), 300);
});
for (const button of document.querySelectorAll("[data-copy]")) {
  button.addEventListener("click", async () => {
    const source = $(button.dataset.copy);
    try {
      await navigator.clipboard.writeText(source.textContent);
      button.textContent = "Copied";
    } catch {
      getSelection().selectAllChildren(source);
      button.textContent = "Selected";
    }
    setTimeout(() => { button.textContent = "Copy"; }, 1500);
  });
}

async function start() {
  buildControls();
  const saved = new URLSearchParams(location.hash.slice(1));
  processInput.value = saved.has("process") ? saved.get("process") : DEFAULT_PROCESS;
  model = parseProcess(processInput.value);
  renderControls();
  let config;
  try {
    config = await (await fetch(API + "buckets", { cache: "no-store" })).json();
  } catch (error) {
    $("status").textContent = "Could not read the bucket list: " + error.message;
    return;
  }
  for (const name of config.buckets) bucketSelect.append(new Option(name, name));
  state.bucket = config.buckets.includes(saved.get("bucket")) ? saved.get("bucket") : config.defaultBucket || "";
  bucketSelect.value = state.bucket;
  state.key = state.bucket === saved.get("bucket") ? saved.get("key") || "" : "";
  if (!state.bucket) {
    $("list-note").textContent = "No public-read bucket is configured.";
  } else {
    await loadObjects(true);
    if (state.key && panes.result.element.dataset.state === "empty") selectObject(state.key);
  }
  document.body.dataset.ready = "true";
}
start();
`;

function pane(id: string, title: string): string {
  const stat = (name: string, label: string) => `<dt>${label}</dt><dd id="${id}-${name}">–</dd>`;
  return `<figure class="card pane" id="${id}" data-state="empty">
  <figcaption><h2>${title}</h2>
    <dl class="stats">${stat("status", "Status")}${stat("dimensions", "Pixels")}${stat("bytes", "Bytes")}${stat("type", "Format")}${stat("time", "Time")}${stat("cache", "X-Cache")}</dl>
  </figcaption>
  <div class="view"><img id="${id}-img" alt="${title} image" hidden><pre id="${id}-text" hidden></pre><div id="${id}-error" class="error" role="alert" hidden></div></div>
</figure>`;
}

export const PLAYGROUND_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>x-oss-process playground</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>x-oss-process playground</h1>
  <p>Build an OSS image process string and compare the result with the original.</p>
  <span id="status" role="status"></span>
</header>
<div class="layout">
<aside>
  <section class="card" aria-labelledby="source-title">
    <h2 id="source-title">Object</h2>
    <label class="row">Bucket <select id="bucket"></select></label>
    <label class="row">Prefix <input id="prefix" type="search" placeholder="folder/" autocomplete="off"></label>
    <label class="check"><input id="images-only" type="checkbox" checked> images only</label>
    <select id="object" size="12" aria-label="Objects"></select>
    <div class="row"><span id="list-note" class="hint"></span><button id="more" class="secondary" type="button" hidden>More</button></div>
  </section>
  <section class="card" aria-labelledby="actions-title">
    <h2 id="actions-title">Actions</h2>
    <p class="hint">Controls and the process string stay in sync; actions run in the order written.</p>
    <p id="raw-note" class="hint" hidden>This is not an image/… process string (a style?): the controls do not apply.</p>
    <div id="actions"></div>
  </section>
</aside>
<main>
  <section class="card">
    <h2><label for="process">Process string</label></h2>
    <textarea id="process" rows="2" spellcheck="false" autocomplete="off"></textarea>
    <div class="row">
      <button id="apply" type="button">Apply</button>
      <label class="check"><input id="auto" type="checkbox" checked> apply while editing</label>
      <label class="check" title="Streams the result in small chunks so progressive JPEG scans paint one by one"><input id="slow" type="checkbox"> slow load</label>
      <select id="speed" aria-label="Slow load speed">
        <option value="2048:100">2 KB / 100 ms</option>
        <option value="1024:200">1 KB / 200 ms</option>
        <option value="8192:100">8 KB / 100 ms</option>
      </select>
    </div>
    <div class="url"><a id="result-url" target="_blank" rel="noopener"></a><button class="secondary" type="button" data-copy="result-url">Copy</button></div>
  </section>
  <div class="panes">
${pane("original", "Original")}
${pane("result", "Result")}
  </div>
  <section class="card" aria-labelledby="sdk-title">
    <h2 id="sdk-title">ali-oss (Node.js)</h2>
    <pre id="snippet"></pre>
    <button class="secondary" type="button" data-copy="snippet">Copy</button>
  </section>
</main>
</div>
<script>${SCRIPT}</script>
</body>
</html>
`;
