// "Notify me when the page is closed": the service worker (sw.js, also the offline cache) and
// the Web Push subscription of "My areas" (POST/DELETE v1/push/subscriptions).
//
// The subscription follows the user's areas (those "where I am" located too, as the person
// moves) and language: every change is sent again (the same browser endpoint is the same
// subscription on the server), and each page load refreshes it, since the server forgets
// subscriptions unused for 30 days.

import { $ } from "./dom.js";
import { myLocations } from "./protocol.js";
import { pushText } from "./push-text.js";
import { load, state, store } from "./state.js";

const KEY = "alertflow.push";
let registration = null;
let publicKey = null;
let current = null; // the PushSubscription this page made or found
let statusKey = "off";
let statusParams = {};
let queue = Promise.resolve();
let timer = null;

function areas() {
  return { locations: [...myLocations(state.prefs)], zones: [...state.prefs.zones] };
}

function setStatus(key, params = {}) {
  statusKey = key;
  statusParams = params;
  renderPush();
}

/** Re-render in the current language (the page calls it when the language changes). */
export function renderPush() {
  const label = $("#push-label");
  if (!label) return;
  label.textContent = pushText("label", state.lang);
  $("#push-status").textContent = pushText(statusKey, state.lang, statusParams);
  $("#push-toggle").checked = Boolean(load(KEY, false));
}

function run(job) {
  queue = queue.then(job).catch((err) => {
    console.warn("alertflow: web push", err);
    setStatus("failed", { msg: err?.message ?? String(err) });
  });
  return queue;
}

function keyBytes(base64url) {
  const text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

async function subscription(create) {
  current = (await registration.pushManager.getSubscription()) ?? current;
  if (!current && create) {
    current = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(publicKey) });
  }
  return current;
}

async function send(method, body) {
  const res = await fetch("v1/push/subscriptions", {
    method,
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) {
    let reason = `HTTP ${res.status}`;
    try {
      reason = (await res.json()).reason ?? reason;
    } catch {
      // not JSON: the status says enough
    }
    throw new Error(reason);
  }
}

async function register(sub) {
  const json = sub.toJSON();
  await send("POST", {
    subscription: { endpoint: json.endpoint, keys: { p256dh: json.keys.p256dh, auth: json.keys.auth } },
    ...areas(),
    lang: state.lang,
  });
}

async function enable() {
  const mine = areas();
  if (!mine.locations.length && !mine.zones.length) {
    store(KEY, false);
    return setStatus("needAreas");
  }
  if ((await Notification.requestPermission()) !== "granted") {
    store(KEY, false);
    return setStatus("denied");
  }
  await register(await subscription(true));
  store(KEY, true);
  setStatus("on");
}

async function disable() {
  store(KEY, false);
  const sub = await subscription(false);
  if (sub) {
    await send("DELETE", { subscription: { endpoint: sub.endpoint } });
    await sub.unsubscribe();
    current = null;
  }
  setStatus("off");
}

/** The areas or the language changed: update the server's copy (debounced). */
export function pushPrefsChanged() {
  if (!registration || !publicKey || !load(KEY, false)) return;
  clearTimeout(timer);
  timer = setTimeout(() => run(async () => {
    const mine = areas();
    if (!mine.locations.length && !mine.zones.length) return disable().then(() => setStatus("needAreas"));
    await register(await subscription(true));
    setStatus("on");
  }), 300);
}

export async function initPush() {
  const toggle = $("#push-toggle");
  if (!toggle) return;
  $("#push-panel").hidden = false;
  toggle.disabled = true;
  renderPush();
  if (!("serviceWorker" in navigator)) return setStatus("unsupported");
  try {
    registration = await navigator.serviceWorker.register("sw.js", { type: "module", scope: "./" });
    const ready = await navigator.serviceWorker.ready;
    // Everything this page loaded, so it also opens offline whatever its modules are.
    const urls = [location.href, ...performance.getEntriesByType("resource").map((e) => e.name)];
    ready.active?.postMessage({ type: "cache-files", urls });
  } catch (err) {
    console.warn("alertflow: service worker not registered", err);
  }
  if (!registration || !("PushManager" in window) || !("Notification" in window)) return setStatus("unsupported");
  try {
    const res = await fetch("v1/push/key");
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    publicKey = (await res.json()).publicKey;
  } catch {
    return setStatus("unavailable");
  }
  toggle.disabled = false;
  toggle.addEventListener("change", () => run(toggle.checked ? enable : disable));
  if (load(KEY, false) && Notification.permission === "granted") {
    run(async () => {
      await register(await subscription(true));
      setStatus("on");
    });
  } else if (load(KEY, false)) {
    store(KEY, false);
    setStatus("denied");
  }
}
