// The Socket.IO connection to the notifier (docs/protocol.md): Socket.IO's default transports
// (long-polling first, then the upgrade to a websocket, so a network or proxy that blocks
// websockets still gets every alert over polling), an `auth`
// function evaluated at every (re)connection so it carries the position reached and my areas,
// resume detection, manual reconnects after a server-side disconnect, and the subscription
// changes serialised one at a time. What the events mean is protocol.js's business.

import { $ } from "./dom.js";
import { applyOp, authFor, effectiveSub, sameSub, subscriptionOps } from "./protocol.js";
import { state, t } from "./state.js";

const REPLAY_WAIT_MS = 2000; // after a resume, how long the first `alerts` counts as the replay

const basePath = new URL(".", window.location.href).pathname;

let socket = null;
let hooks = { snapshot() {}, alerts() {}, ack() {}, subscriptionChanged() {} };

/** Connect; `handlers` get the server's snapshot, alerts and subscription acks. */
export function connect(handlers) {
  hooks = handlers;
  socket = window.io({
    path: `${basePath}socket.io`,
    // A function, not an object: evaluated at every (re)connection.
    auth: (cb) => cb(buildAuth()),
    reconnectionDelay: 500,
    reconnectionDelayMax: 5000,
  });
  socket.on("connect", onConnect);
  socket.on("disconnect", onDisconnect);
  socket.on("connect_error", onConnectError);
  socket.io.on("reconnect_attempt", (attempt) => {
    state.conn.attempt = attempt;
    if (state.conn.state === "reconnecting" || state.conn.state === "connecting") renderConn();
  });
  socket.on("snapshot", (snap) => {
    const c = state.conn;
    c.awaitingReplay = false;
    clearTimeout(c.replayTimer);
    hooks.snapshot(snap);
  });
  socket.on("alerts", (batch) => {
    const c = state.conn;
    const replay = c.awaitingReplay;
    const applied = hooks.alerts(batch, replay);
    if (replay) {
      // The first `alerts` after resuming with `since` carries what was missed.
      c.awaitingReplay = false;
      clearTimeout(c.replayTimer);
      setConn("resumed", applied);
    }
  });
  return socket;
}

function buildAuth() {
  const want = effectiveSub(state.prefs);
  const auth = authFor(state.model, want, state.serverSub);
  state.pendingSub = want;
  state.conn.sentSince = "since" in auth;
  return auth;
}

function onConnect() {
  const c = state.conn;
  state.serverSub = state.pendingSub;
  c.attempt = 0;
  c.manualDelay = 1000;
  if (c.everConnected && c.sentSince) {
    // Resuming: the missed events come as the first `alerts`; if none come, nothing was missed.
    // The state stays "reconnecting" until then, so "resumed" shows once they are on screen.
    c.awaitingReplay = true;
    clearTimeout(c.replayTimer);
    c.replayTimer = setTimeout(() => {
      if (!c.awaitingReplay) return;
      c.awaitingReplay = false;
      setConn("resumed", 0);
    }, REPLAY_WAIT_MS);
    renderConn();
  }
  c.everConnected = true;
  // Preferences changed between building the auth and now are sent as a subscription change.
  syncSubscription();
}

function onDisconnect(reason) {
  state.conn.awaitingReplay = false;
  setConn("reconnecting");
  // The client does not reconnect by itself after a server-side disconnect: do it, gently.
  if (reason === "io server disconnect") scheduleManualReconnect();
}

function onConnectError(err) {
  setConn(state.conn.everConnected || state.conn.attempt > 0 ? "reconnecting" : "connecting");
  // A refusal by the server's middleware stops automatic retries; anything else keeps them.
  if (!socket.active) {
    console.warn("alertflow: connection refused", err?.message);
    scheduleManualReconnect();
  }
}

function scheduleManualReconnect() {
  const c = state.conn;
  const delay = c.manualDelay * (0.75 + Math.random() * 0.5);
  c.manualDelay = Math.min(30000, c.manualDelay * 2);
  setTimeout(() => {
    if (!socket.connected && !socket.active) socket.connect();
  }, delay);
}

let subQueue = Promise.resolve();

/** Bring the server's subscription in line with the preferences (one change at a time). */
export function syncSubscription() {
  subQueue = subQueue.then(doSyncSubscription).catch((err) => {
    // A timeout means the connection dropped: the next connect's auth carries the new set.
    console.warn("alertflow: subscription change not acknowledged", err);
  });
}

async function doSyncSubscription() {
  if (!socket?.connected || !state.serverSub) return;
  const want = effectiveSub(state.prefs);
  if (sameSub(want, state.serverSub)) return;
  let ack = null;
  for (const [event, payload] of subscriptionOps(state.serverSub, want)) {
    const answer = await socket.timeout(10000).emitWithAck(event, payload);
    if (!answer || answer.error || !Array.isArray(answer.incidents)) {
      // The server changed nothing for this request; keep what it did accept so far.
      state.subError = answer?.error ? `${answer.error}${answer.field ? ` (${answer.field})` : ""}` : "invalid answer";
      if (ack) hooks.ack(ack);
      hooks.subscriptionChanged();
      return;
    }
    ack = answer;
    state.serverSub = applyOp(state.serverSub, event, payload);
  }
  state.subError = null;
  if (ack) hooks.ack(ack);
  hooks.subscriptionChanged();
}

export function setConn(kind, missed = 0) {
  state.conn.state = kind;
  state.conn.missed = missed;
  renderConn();
}

export function renderConn() {
  const c = state.conn;
  const node = $("#connection-state");
  node.dataset.state = c.state;
  node.dataset.missed = c.state === "resumed" ? String(c.missed) : "";
  let label;
  if (c.state === "connecting") label = t("conn.connecting");
  else if (c.state === "reconnecting") {
    label = c.awaitingReplay ? t("conn.resumed_pending") : t("conn.reconnecting");
  } else if (c.state === "resumed") {
    label = c.missed > 0 ? t("conn.resumed", { n: c.missed }) : t("conn.resumed_none");
  } else if (c.state === "resynced") label = t("conn.resynced");
  else label = t("conn.live");
  node.querySelector(".conn-label").textContent = label;
  const attempt = node.querySelector(".conn-attempt");
  const showAttempt = c.state === "reconnecting" && !c.awaitingReplay && c.attempt > 1;
  attempt.hidden = !showAttempt;
  attempt.textContent = showAttempt ? t("conn.attempt", { n: c.attempt }) : "";
  // While the connection is down, say so loudly: what is on screen may be stale.
  const offline = c.state === "reconnecting" && !c.awaitingReplay && c.everConnected;
  $("#offline-notice").hidden = !offline;
  document.body.classList.toggle("is-offline", offline);
}
