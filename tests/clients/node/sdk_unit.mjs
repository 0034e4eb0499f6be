// Our JS SDK against a scripted fake fetch (no network; no wall-clock waits): node sdk_unit.mjs
// Prints one JSON object of facts that tests/clients/test_sdks.py asserts.
import { createCollector } from "../../../clients/js/collector.js";

function scripted(statuses) {
  // Each answer: [status, Retry-After or null, JSON body (optional)]; then 200 for ever.
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url, body: init.body, auth: init.headers.Authorization, keepalive: init.keepalive });
    const [status, retryAfter, answer] = statuses.shift() || [200, null];
    const json = async () => {
      if (answer === undefined) throw new SyntaxError("no body");
      return answer;
    };
    return { status, json, headers: { get: (name) => (name === "Retry-After" ? retryAfter : null) } };
  };
  return { calls, fetch };
}
const bytes = (text) => new TextEncoder().encode(text).length;
const quiet = { storage: null, log: null, sleep: async () => {} };

const facts = {};

// 503 with Retry-After, then 429, then 200: retried with the same body, waits honour Retry-After.
{
  const { calls, fetch } = scripted([[503, "7"], [429, "2"], [200, null]]);
  const waits = [];
  const errors = [];
  const c = createCollector({
    apiUrl: "http://api.example/", writeKey: "k1", storage: null, fetch, flushAt: 100,
    baseDelay: 1, sleep: async (ms) => waits.push(ms), onError: (e) => errors.push(e.message),
  });
  const ids = [c.track("A", { i: 1 }), c.track("B", { i: 2 })];
  await c.close();
  facts.retry = {
    calls: calls.length,
    sameEvents: new Set(calls.map((call) => JSON.stringify(JSON.parse(call.body).events))).size === 1,
    idsInBody: JSON.parse(calls[0].body).events.map((e) => e.event_id),
    ids,
    url: calls[0].url,
    auth: calls[0].auth,
    waits,
    errors,
    stats: c.stats,
  };
}

// A 400 is not retried; the events are reported and counted as dropped.
{
  const { calls, fetch } = scripted([[400, null]]);
  const errors = [];
  const c = createCollector({ apiUrl: "http://api.example", writeKey: "k", storage: null, fetch, onError: (e, events) => errors.push([e.message, events.length]), sleep: async () => {} });
  c.track("A");
  await c.close();
  facts.rejected = { calls: calls.length, errors, stats: c.stats };
}

// Retries run out: given up after maxRetries + 1 attempts, reported.
{
  const { calls, fetch } = scripted([[503, null], [503, null], [503, null]]);
  const errors = [];
  const c = createCollector({ apiUrl: "http://api.example", writeKey: "k", storage: null, fetch, maxRetries: 2, onError: (e) => errors.push(e.message), sleep: async () => {} });
  c.track("A");
  await c.close();
  facts.exhausted = { calls: calls.length, errors, stats: c.stats };
}

// The queue is bounded: the newest events past maxQueue are refused and reported.
{
  const { fetch } = scripted([]);
  const errors = [];
  const c = createCollector({ apiUrl: "http://api.example", writeKey: "k", storage: null, fetch, flushAt: 1000, maxQueue: 3, onError: (e) => errors.push(e.message) });
  for (let i = 0; i < 5; i += 1) c.track("A", { i });
  facts.bounded = { queued: c.queued, errors, stats: { ...c.stats } };
  await c.close();
}

// flushAt: a full batch is sent without waiting for the interval; batches never exceed 500 events.
{
  const { calls, fetch } = scripted([]);
  const c = createCollector({ apiUrl: "http://api.example", writeKey: "k", storage: null, fetch, flushAt: 3, maxQueue: 2000 });
  c.track("A"); c.track("B");
  const before = calls.length;
  c.track("C");
  await c.flush();
  for (let i = 0; i < 1200; i += 1) c.track("X");
  await c.close();
  facts.batching = { before, sizes: calls.map((call) => JSON.parse(call.body).events.length) };
}

// A 200 that rejects some events: those are reported with the API's reasons (not retried), the rest are sent.
{
  const { calls, fetch } = scripted([
    [200, null, { accepted: 1, rejected: [{ index: 1, event_id: "bad-1", errors: ["name: too long", "x: unknown"] }] }],
    [400, null, { error: "no_valid_events", message: "No event is valid", details: [{ index: 0, event_id: "bad-2", errors: ["url: missing"] }] }],
    [400, null, { error: "invalid_request", message: "events: required" }],
  ]);
  const heard = [];
  const logged = [];
  const c = createCollector({
    ...quiet, apiUrl: "http://api.example", writeKey: "k", fetch, flushAt: 100, log: (text) => logged.push(text),
    onError: (e, events) => heard.push({ message: e.message, rejected: e.rejected, status: e.status, ids: events.map((x) => x.event_id) }),
  });
  c.track("fine", {}, { event_id: "good-1" });
  c.track("x".repeat(200), {}, { event_id: "bad-1" });
  await c.flush();
  c.page({ event_id: "bad-2", url: "https://x.example/" });
  await c.flush();
  c.track("A", {}, { event_id: "bad-3" });
  await c.close();
  facts.partial = { calls: calls.length, heard, logged, stats: c.stats };
}

// Batches keep under the API's 1 MiB body (counted in UTF-8 bytes, not characters); an event over the
// 32 KiB per event is dropped at once and reported, and does not hold up the queue.
{
  const { calls, fetch } = scripted([]);
  const heard = [];
  const c = createCollector({ ...quiet, apiUrl: "http://api.example", writeKey: "k", fetch, flushAt: 1000, maxQueue: 2000, onError: (e, events) => heard.push([e.message, events.length]) });
  const big = "é".repeat(10000); // 10,000 characters, 20,000 bytes
  for (let i = 0; i < 120; i += 1) c.track("big", { i, big });
  const huge = c.track("huge", { text: "x".repeat(40000) });
  c.track("after");
  const queued = c.queued;
  await c.close();
  facts.sized = {
    queued,
    huge,
    heard,
    bodies: calls.map((call) => bytes(call.body)),
    counts: calls.map((call) => JSON.parse(call.body).events.length),
    keepalive: calls.map((call) => call.keepalive),
    stats: c.stats,
  };
}

// Retry-After: capped at maxDelay, and its HTTP-date form honoured.
{
  const inSeconds = (s) => new Date(Date.now() + s * 1000).toUTCString();
  const { fetch } = scripted([
    [503, "3600"], [503, inSeconds(86400)], [503, inSeconds(30)], [503, inSeconds(-3600)], [503, "soon"], [200, null],
  ]);
  const waits = [];
  const c = createCollector({ ...quiet, apiUrl: "http://api.example", writeKey: "k", fetch, baseDelay: 1, maxRetries: 9, sleep: async (ms) => waits.push(ms) });
  c.track("A");
  await c.close();
  const capped = [];
  const { fetch: slow } = scripted([[429, "120"], [429, "120"]]);
  const d = createCollector({ ...quiet, apiUrl: "http://api.example", writeKey: "k", fetch: slow, maxDelay: 5000, maxRetries: 1, sleep: async (ms) => capped.push(ms) });
  d.track("A");
  await d.close();
  facts.retryAfter = { waits, capped, stats: c.stats };
}

// flushInterval: queued events leave on the timer alone (a tiny interval; the wait is for the request).
{
  let arrived;
  const sent = new Promise((resolve) => { arrived = resolve; });
  const calls = [];
  const fetch = async (url, init) => {
    calls.push(JSON.parse(init.body).events.length);
    arrived();
    return { status: 200, json: async () => ({ accepted: 1, rejected: [] }), headers: { get: () => null } };
  };
  const c = createCollector({ ...quiet, apiUrl: "http://api.example", writeKey: "k", fetch, flushAt: 1000, flushInterval: 10 });
  c.track("A"); c.track("B");
  let bounding;
  const bound = new Promise((resolve) => { bounding = setTimeout(() => resolve("no request within 30 s"), 30000); });
  const outcome = await Promise.race([sent.then(() => "sent"), bound]);
  clearTimeout(bounding);
  await c.close();
  facts.interval = { outcome, calls };
  process.exitCode = outcome === "sent" ? 0 : 1;
}

// Beacons: split under 64 KB each; one the browser refuses (its 64 KB in flight are used up) leaves the
// rest queued for later. A fake navigator keeps Chromium's quota.
{
  const beacons = [];
  let inFlight = 0;
  globalThis.navigator = {
    sendBeacon: (url, body) => {
      const size = bytes(body);
      if (inFlight + size > 65536) return false;
      inFlight += size;
      beacons.push({ url, size, ids: JSON.parse(body).events.map((e) => e.event_id) });
      return true;
    },
  };
  const { calls, fetch } = scripted([]);
  const c = createCollector({ ...quiet, apiUrl: "http://api.example", writeKey: "pk 1", fetch, flushAt: 1000 });
  const ids = [];
  for (let i = 0; i < 12; i += 1) ids.push(c.track("page", { i, text: "y".repeat(10000) }));
  const first = c.beacon();
  const left = c.queued;
  inFlight = 0; // the first beacons were answered
  const second = c.beacon();
  const third = c.beacon();
  delete globalThis.navigator;
  await c.close();
  facts.beacon = {
    ids, first, left, second, third, calls: calls.length, sent: c.stats.sent,
    sizes: beacons.map((b) => b.size), urls: [...new Set(beacons.map((b) => b.url))], beaconIds: beacons.flatMap((b) => b.ids),
  };
}

// send(): a tenant's own type, its fields beside the envelope the SDK adds.
{
  const { calls, fetch } = scripted([[200, null]]);
  const c = createCollector({ apiUrl: "http://api.example/", writeKey: "k1", storage: null, fetch, flushAt: 100 });
  c.identify("user-9");
  const id = c.send("order_completed", { order_id: "A-1", total: 12, event_type: "page_view" }, { event_id: "e-1" });
  await c.close();
  facts.custom = { id, event: JSON.parse(calls[0].body).events[0] };
}

console.log(JSON.stringify(facts));
