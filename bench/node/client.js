// Node load clients for bench/fanout.py (`--client node`): the same protocol as its Python clients.
//
//     node bench/node/client.js <spec.json>
//
// The spec names the connections to open ([url, token] pairs), the channel to subscribe to
// (Homeroom only; the floors send everything), the event type to count and where to write
// results. Then, driven on stdin: `expect N DEADLINE LABEL` clears the counters, waits until
// every connection has N distinct events (or the deadline) and writes
// {lat, received, lost, dupes, last} to `<out>.<LABEL>`, printing `done <path>`; `stop` ends.
"use strict";

const fs = require("fs");
const os = require("os");
const readline = require("readline");
const WebSocket = require("ws");

const spec = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
try {
  os.setPriority(0, spec.nice); // the clients stand in for phones elsewhere: servers get the CPU first
} catch (error) {
  console.error(`client.js: cannot set niceness ${spec.nice}: ${error.message}`);
}

const now = () => (performance.timeOrigin + performance.now()) / 1000;
const conns = [];
const seen = [];
let lat = [];
let dupes = 0;
let last = 0;
let expected = 0;
let wake = null;

function open(url, token) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${token}` }, perMessageDeflate: false });
    const index = conns.length;
    conns.push(ws);
    seen.push(new Set());
    let subscribed = spec.kind !== "homeroom";
    ws.on("error", reject);
    // A socket closed (or refused a channel) before it subscribed would wait for ever: fail loudly.
    ws.on("close", (code) => {
      if (!subscribed) reject(new Error(`closed with ${code} before subscribing`));
    });
    ws.on("open", () => {
      if (subscribed) resolve(ws);
      else ws.send(JSON.stringify({ op: "sub", channel: spec.channel }));
    });
    ws.on("message", (data) => {
      const arrived = now();
      const raw = data.toString();
      if (!subscribed) {
        const answer = JSON.parse(raw);
        if (answer.op === "subbed") {
          subscribed = true;
          resolve(ws);
        } else if (answer.op === "error") {
          reject(new Error(`subscribing refused: ${answer.code} ${answer.message}`));
        }
        return;
      }
      if (!raw.includes(spec.event_type)) return; // cheap filter before parsing
      const frame = JSON.parse(raw);
      if (frame.type !== spec.event_type) return;
      const key = `${frame.epoch}:${frame.seq}`;
      const mine = seen[index];
      if (mine.has(key)) {
        dupes += 1;
        return;
      }
      mine.add(key);
      lat.push(arrived - Date.parse(frame.ts) / 1000);
      last = arrived;
      if (wake && mine.size >= expected) wake();
    });
  });
}

async function main() {
  for (let start = 0; start < spec.clients.length; start += 50) {
    await Promise.all(spec.clients.slice(start, start + 50).map(([url, token]) => open(url, token)));
  }
  console.log("ready");
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    const words = line.trim().split(/\s+/);
    if (words[0] === "expect") {
      expected = Number(words[1]);
      lat = [];
      dupes = 0;
      for (const set of seen) set.clear();
      const deadline = Date.now() + Number(words[2]) * 1000;
      while (Date.now() < deadline && Math.min(...seen.map((s) => s.size)) < expected) {
        await new Promise((resolve) => {
          wake = resolve;
          setTimeout(resolve, 200);
        });
        wake = null;
      }
      const out = `${spec.out}.${words[3]}`;
      const received = seen.reduce((sum, s) => sum + s.size, 0);
      const lost = seen.reduce((sum, s) => sum + Math.max(0, expected - s.size), 0);
      fs.writeFileSync(out, JSON.stringify({ lat, received, lost, dupes, last }));
      console.log(`done ${out}`);
    } else if (words[0] === "stop") {
      break;
    }
  }
  for (const ws of conns) ws.terminate();
  process.exit(0);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
