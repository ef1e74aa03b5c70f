// The Node floor for bench/fanout.py: a minimal `ws` server that broadcasts what ioredis reads from Redis.
//
// The same job as bench/floor.py, in Node: accept websocket clients (no authentication, no
// subscriptions, no access rules, no recovery), read the events Homeroom's broker publishes on
// one Redis pub/sub channel, and send each one to every client (one string, `ws` frames it
// per socket as the usual Node broadcast does).
//
//     node bench/node/floor.js --port 9002 --redis redis://127.0.0.1:6379/0 --key homeroom:ev:class:1
"use strict";

const { WebSocketServer, WebSocket } = require("ws");
const Redis = require("ioredis");

function option(name) {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0 || at + 1 >= process.argv.length) {
    console.error(`floor.js: --${name} is required`);
    process.exit(2);
  }
  return process.argv[at + 1];
}

const port = Number(option("port"));
const redis = new Redis(option("redis"));
const key = option("key");
const wss = new WebSocketServer({ host: "127.0.0.1", port, perMessageDeflate: false });

// A ping every 25 s, as the other servers send.
const pings = setInterval(() => {
  for (const client of wss.clients) client.ping();
}, 25000);

redis.on("message", (_channel, message) => {
  for (const client of wss.clients) {
    if (client.readyState === WebSocket.OPEN) client.send(message);
  }
});

Promise.all([
  new Promise((resolve) => wss.on("listening", resolve)),
  redis.subscribe(key),
]).then(() => console.log("floor ready"));

function stop() {
  clearInterval(pings);
  for (const client of wss.clients) client.terminate();
  wss.close();
  redis.disconnect();
  process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
