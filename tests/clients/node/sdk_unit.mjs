// Our JS SDK against a scripted fake fetch (no network, no timers): node sdk_unit.mjs
// Prints one JSON object of facts that tests/clients/test_sdks.py asserts.
import { createCollector } from "../../../clients/js/collector.js";

function scripted(statuses) {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url, body: init.body, auth: init.headers.Authorization });
    const [status, retryAfter] = statuses.shift() || [200, null];
    return { status, headers: { get: (name) => (name === "Retry-After" ? retryAfter : null) } };
  };
  return { calls, fetch };
}

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

console.log(JSON.stringify(facts));
