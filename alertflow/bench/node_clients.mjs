// `alertflow bench --node-clients/--polling-clients`: Socket.IO clients of the official
// socket.io-client, in a process of their own, for the benchmark.
//
//   node node_clients.mjs URL MODE COUNT ALERT_TYPE [keepalive]
//
// MODE default: io(URL) with default options (long-polling, then the upgrade);
// MODE polling: transports: ["polling"]. In Node, engine.io-client's long-polling opens a new
// TCP connection for every request (it is given no http.Agent); browsers keep theirs alive:
// `keepalive` gives the clients a keep-alive agent, as a browser's would be.
// socket.io-client is loaded from the directory in ALERTFLOW_NODE_MODULES
// (tests/js/node_modules, installed by `npm ci`).
//
// Prints {"ready": N} once every client has its snapshot; when stdin closes, one JSON line:
// per-client open counts, duplicates, and the latency of each open after the listener
// accepted it (Date.now() − received_at, ms; the same clock on one machine).
import { createRequire } from "node:module";

const require = createRequire(`${process.env.ALERTFLOW_NODE_MODULES}/`);
const { io } = require("socket.io-client");

const [url, mode, count, alertType, connections] = process.argv.slice(2);
const agent = connections === "keepalive"
  ? new (require("node:http").Agent)({ keepAlive: true }) : undefined;
const clients = [];
const latencies = [];
let ready = 0;

for (let i = 0; i < Number(count); i++) {
  const state = { opens: 0, duplicates: 0, lastSeq: -1, transport: "", lost: 0 };
  const options = mode === "polling" ? { transports: ["polling"] } : {};
  if (agent) options.agent = agent;
  const socket = io(url, { ...options, reconnection: false });
  socket.on("snapshot", (snapshot) => {
    state.lastSeq = snapshot.seq;
    state.transport = socket.io.engine.transport.name;
    if (++ready === Number(count)) process.stdout.write(JSON.stringify({ ready }) + "\n");
  });
  socket.on("alerts", (events) => {
    const now = Date.now();
    for (const event of events) {
      if (event.seq <= state.lastSeq) { state.duplicates++; continue; }
      state.lastSeq = event.seq;
      if (event.kind === "open" && event.type === alertType) {
        state.opens++;
        latencies.push(now - event.received_at);
      }
    }
  });
  socket.on("disconnect", () => { state.lost++; });
  clients.push({ socket, state });
}

process.stdin.on("data", () => {});
process.stdin.on("end", () => {
  const transports = {};
  for (const { socket } of clients) {
    const name = socket.connected ? socket.io.engine.transport.name : "disconnected";
    transports[name] = (transports[name] ?? 0) + 1;
  }
  const summary = {
    clients: clients.length, ready, opens: clients.map((c) => c.state.opens),
    duplicates: clients.reduce((n, c) => n + c.state.duplicates, 0),
    lost: clients.reduce((n, c) => n + c.state.lost, 0),
    transports, latencies_ms: latencies,
  };
  for (const { socket } of clients) socket.close();
  // Exit once the line is written: a pipe takes it asynchronously, exit() would cut it short.
  process.stdout.write(JSON.stringify(summary) + "\n", () => process.exit(0));
});
