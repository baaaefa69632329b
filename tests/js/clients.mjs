// Socket.IO clients as real apps write them, with the official socket.io-client, for the
// Python tests (tests/e2e/test_clients.py): each event a client receives is printed as one
// JSON line on stdout; the process ends when stdin closes.
//
//   node clients.mjs URL MODE COUNT
//
// MODE default: io(URL) with default options (long-polling, then the upgrade to websocket),
//               resuming with {since, epoch} on every reconnection, as the dashboard does.
// MODE polling: the same with transports: ["polling"] (networks that block websockets).
// MODE legacy:  the seed's frontend: io(URL) with default options, only the `alert` event,
//               shown when its location is one the frontend lists.
import { io } from "socket.io-client";

const [url, mode, count] = process.argv.slice(2);
const SEED_LOCATIONS = ["Nahariya", "Haifa", "Tel Aviv", "Jerusalem"];
const out = (line) => process.stdout.write(JSON.stringify(line) + "\n");
const sockets = [];

function resuming(i, options) {
  let last = null; // {since, epoch}: the newest seq seen and the stream's epoch
  const socket = io(url, {
    ...options,
    // Called on every (re)connection, as the Socket.IO docs show for credentials.
    auth: (give) => give(last ? { since: last.since, epoch: last.epoch } : {}),
  });
  socket.on("snapshot", (snapshot) => {
    last = { since: snapshot.seq, epoch: snapshot.epoch };
    out({ i, on: "snapshot", snapshot });
  });
  socket.on("alerts", (events) => {
    for (const event of events) if (last && event.seq > last.since) last.since = event.seq;
    out({ i, on: "alerts", events });
  });
  return socket;
}

function seedFrontend(i) {
  // What the seed's React app does: connect with defaults, listen for `alert`.
  const socket = io(url);
  socket.on("alert", (data) => {
    out({ i, on: "alert", data, shown: SEED_LOCATIONS.includes(data.location) });
  });
  // Not the frontend's: records any other event, which it must never be sent.
  socket.onAny((name) => { if (name !== "alert") out({ i, on: "other", name }); });
  return socket;
}

for (let i = 0; i < Number(count); i++) {
  const socket =
    mode === "legacy" ? seedFrontend(i)
    : mode === "polling" ? resuming(i, { transports: ["polling"] })
    : resuming(i, {});
  // The Engine.IO connection opens (with its first transport) before Socket.IO connects.
  socket.io.on("open", () => {
    const engine = socket.io.engine;
    out({ i, on: "open", transport: engine.transport.name });
    engine.once("upgrade", (transport) => out({ i, on: "upgrade", transport: transport.name }));
  });
  socket.on("connect", () => out({ i, on: "connect" }));
  socket.on("disconnect", (reason) => out({ i, on: "disconnect", reason }));
  socket.on("connect_error", (error) => out({ i, on: "connect_error", error: String(error) }));
  sockets.push(socket);
}

process.stdin.on("data", () => {});
process.stdin.on("end", () => {
  for (const socket of sockets) socket.close();
  process.exit(0);
});
