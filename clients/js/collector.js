// Event collector browser and Node SDK: a dependency-free ES module (docs/clients.md).
//
//   import { createCollector } from "https://YOUR-SITE/js/collector.js";   // your copy of this file
//   const collector = createCollector({ apiUrl: "https://<your API>", writeKey: "<publishable key>" });
//   collector.page();
//   collector.track("Signed Up", { plan: "pro" });
//
// Events are queued (bounded), sent in batches when `flushAt` are waiting, every `flushInterval` ms,
// when the page is hidden (navigator.sendBeacon, which survives the page closing) and, in Node, when
// the process runs out of work ('beforeExit'). Batches keep to the API's limits (500 events, 1 MiB;
// 64 KB per beacon). A 429 or 5xx is retried with exponential back-off, honouring Retry-After (capped
// at `maxDelay`); every event has its id from the moment it is queued, so a retry never stores it
// twice. Nothing is dropped silently: `onError` hears about every event given up (the API's reasons
// for those it rejected in `error.rejected`), `log` (console.warn) tells it, and `stats` counts it.

const DEFAULTS = {
  flushAt: 20,
  flushInterval: 5000,
  maxQueue: 1000,
  maxRetries: 6,
  baseDelay: 500,
  maxDelay: 60000,
  maxBatch: 500,
  maxBytes: 1024 * 1024 - 1024, // the API's 1 MiB body, less the envelope
  maxEventBytes: 32 * 1024, // the API's limit per event: a larger one could never be stored
  beaconBytes: 60000, // browsers refuse beacons beyond 64 KB in flight
};
const encoder = new TextEncoder();
const bytes = (text) => encoder.encode(text).length;

function randomId() {
  if (globalThis.crypto && typeof globalThis.crypto.randomUUID === "function") return globalThis.crypto.randomUUID();
  return "e-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
}

function basicAuth(writeKey) {
  const text = writeKey + ":";
  return "Basic " + (typeof btoa === "function" ? btoa(text) : Buffer.from(text).toString("base64"));
}

function anonymousId(storage) {
  try {
    const found = storage && storage.getItem("ec_anonymous_id");
    if (found) return found;
    const made = randomId();
    if (storage) storage.setItem("ec_anonymous_id", made);
    return made;
  } catch {
    return randomId(); // storage blocked: an id for this page only
  }
}

function pageContext() {
  if (typeof document === "undefined" || typeof location === "undefined") return {};
  return {
    page: { url: location.href, path: location.pathname, title: document.title, referrer: document.referrer },
    userAgent: typeof navigator !== "undefined" ? navigator.userAgent : undefined,
  };
}

function retryAfter(response) {
  // Retry-After in ms: delay-seconds or an HTTP-date; 0 when absent or unreadable.
  const header = response.headers && response.headers.get && response.headers.get("Retry-After");
  if (!header) return 0;
  const told = /^\s*\d+(\.\d+)?\s*$/.test(header) ? Number(header) * 1000 : Date.parse(header) - Date.now();
  return Number.isFinite(told) && told > 0 ? told : 0;
}

async function answerOf(response) {
  try {
    return typeof response.json === "function" ? await response.json() : null;
  } catch {
    return null;
  }
}

export function createCollector(options) {
  const settings = { ...DEFAULTS, ...options };
  if (!settings.apiUrl || !settings.writeKey) throw new Error("createCollector needs apiUrl and writeKey");
  const api = settings.apiUrl.replace(/\/+$/, "");
  const transport = settings.fetch || globalThis.fetch.bind(globalThis);
  const storage = settings.storage !== undefined ? settings.storage : globalThis.localStorage;
  const onError = settings.onError || (() => {});
  const log = settings.log !== undefined ? settings.log : (text) => console.warn(text);
  const sleep = settings.sleep || ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  const queue = []; // { event, size }: size is the event's JSON in bytes
  const stats = { queued: 0, sent: 0, dropped: 0, rejected: 0, retried: 0 };
  const identity = { anonymous_id: anonymousId(storage), user_id: undefined };
  let sending = null;
  let closed = false;

  function giveUp(error, events) {
    stats.dropped += events.length;
    if (log) log("event-collector: " + error.message);
    try {
      onError(error, events);
    } catch (thrown) {
      if (log) log("event-collector: onError threw " + thrown);
    }
  }

  function enqueue(event) {
    if (closed) throw new Error("the collector is closed");
    const size = bytes(JSON.stringify(event)); // throws here, to the caller, on what JSON cannot hold
    if (size > settings.maxEventBytes) {
      giveUp(new Error(`event ${event.event_id} is ${size} bytes, over the ${settings.maxEventBytes} per event: dropped`), [event]);
    } else if (queue.length >= settings.maxQueue) {
      giveUp(new Error("queue full: event dropped"), [event]); // the newest is refused: the queued keep their place
    } else {
      queue.push({ event, size });
      stats.queued += 1;
      if (queue.length >= settings.flushAt) flush();
    }
    return event.event_id;
  }

  function take(maxBytes) {
    // The next batch from the queue: at most maxBatch events and maxBytes of JSON (one event at least).
    let count = 0;
    let total = 40; // {"events":[],"sent_at":<ms>}
    while (count < queue.length && count < settings.maxBatch && (!count || total + queue[count].size < maxBytes)) {
      total += queue[count].size + 1;
      count += 1;
    }
    return queue.splice(0, count);
  }

  function base(eventType, fields) {
    const event = { event_type: eventType, event_id: randomId(), timestamp: Date.now(), ...fields };
    event.anonymous_id = identity.anonymous_id;
    if (identity.user_id) event.user_id = identity.user_id;
    const context = { ...pageContext(), library: { name: "event-collector-js", version: "1" }, ...fields.context };
    event.context = JSON.parse(JSON.stringify(context)); // drops undefined values
    return event;
  }

  function track(name, properties = {}, extra = {}) {
    return enqueue(base("track", { name, properties, ...extra }));
  }

  function send(eventType, fields = {}, extra = {}) {
    // An event of a type registered for the tenant (docs/schemas.md): its own fields, then envelope fields.
    return enqueue({ ...base(eventType, { ...fields, ...extra }), event_type: eventType }); // a field cannot retype it
  }

  function page(extra = {}) {
    const href = typeof location !== "undefined" ? location.href : extra.url;
    const fields = { url: href, session_id: settings.sessionId || identity.anonymous_id, ...extra };
    if (typeof document !== "undefined" && document.referrer) fields.referral_url = document.referrer;
    return enqueue(base("page_view", fields));
  }

  function click(buttonId, extra = {}) {
    const fields = { button_id: buttonId, session_id: settings.sessionId || identity.anonymous_id, ...extra };
    return enqueue(base("button_click", fields));
  }

  function identify(userId) {
    identity.user_id = String(userId);
  }

  function rejectedOnes(events, rejected, status) {
    // Events the API refused for good (a resend would be refused again): reported with its reasons.
    const gone = status >= 300 ? events : rejected.map((entry) => events[entry.index]).filter(Boolean);
    stats.sent += events.length - gone.length;
    stats.rejected += gone.length;
    const reasons = rejected.map((entry) => `${entry.event_id}: ${(entry.errors || []).join(", ")}`).join("; ");
    const error = new Error(`the API rejected ${gone.length} event(s): ${reasons}`);
    error.status = status;
    error.rejected = rejected;
    giveUp(error, gone);
  }

  async function post(events) {
    for (let attempt = 0; ; attempt += 1) {
      const body = JSON.stringify({ events, sent_at: Date.now() }); // sent_at of this attempt: skew stays right
      let response;
      try {
        response = await transport(api + "/v1/events", {
          method: "POST",
          headers: { Authorization: basicAuth(settings.writeKey), "Content-Type": "application/json" },
          body,
          keepalive: bytes(body) < settings.beaconBytes,
        });
      } catch (error) {
        response = { status: 0, error };
      }
      const status = response.status;
      const answer = status ? await answerOf(response) : null;
      const rejected = answer && (status < 300 ? answer.rejected : answer.error === "no_valid_events" && answer.details);
      if (status >= 200 && status < 300 && !(rejected && rejected.length)) {
        stats.sent += events.length;
        return;
      }
      if (Array.isArray(rejected) && rejected.length) return rejectedOnes(events, rejected, status);
      if (!(status === 0 || status === 429 || status >= 500) || attempt >= settings.maxRetries) {
        const why = answer && answer.error ? ` (${answer.error}: ${answer.message})` : "";
        const error = new Error(`the API answered ${status || "nothing"}${why}; events given up`);
        error.status = status;
        return giveUp(error, events);
      }
      stats.retried += 1;
      const backoff = Math.random() * Math.min(settings.maxDelay, settings.baseDelay * 2 ** attempt);
      await sleep(Math.min(settings.maxDelay, Math.max(retryAfter(response), backoff)));
    }
  }

  function flush() {
    // Resolves once the queue is empty and nothing is in flight (a batch started by someone else included).
    if (sending) return sending.then(() => flush());
    if (!queue.length) return Promise.resolve();
    const events = take(settings.maxBytes).map((item) => item.event);
    sending = post(events).finally(() => {
      sending = null;
    });
    return sending.then(() => flush());
  }

  function beacon() {
    // The page is going away: hand the queue to the browser, which sends it after the page closes, in
    // beacons under 64 KB. The browser refuses one when 64 KB are already in flight: what is left stays
    // queued for the next flush. Returns how many events were handed over.
    if (typeof navigator === "undefined" || typeof navigator.sendBeacon !== "function") return 0;
    const url = api + "/v1/events?writeKey=" + encodeURIComponent(settings.writeKey);
    let handed = 0;
    while (queue.length) {
      const items = take(settings.beaconBytes);
      const events = items.map((item) => item.event);
      if (!navigator.sendBeacon(url, JSON.stringify({ events, sent_at: Date.now() }))) {
        queue.unshift(...items);
        break;
      }
      stats.sent += events.length; // the answer is never seen: rejections are not reported for beacons
      handed += events.length;
    }
    return handed;
  }

  const timer = setInterval(() => flush(), settings.flushInterval);
  if (typeof timer.unref === "function") timer.unref();
  if (typeof document !== "undefined" && typeof document.addEventListener === "function") {
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState !== "hidden") return;
      beacon();
      if (queue.length) flush(); // over the beacon quota: a hidden page may still finish a fetch
    });
    globalThis.addEventListener("pagehide", beacon);
  }
  // Node: send what is queued when the event loop runs dry ('exit' is too late for async work;
  // process.exit() and signals skip 'beforeExit': call close() first).
  const node = typeof process !== "undefined" && process.versions && process.versions.node && process.on;
  const atExit = () => {
    if (queue.length) flush();
  };
  if (node) process.on("beforeExit", atExit);

  async function close() {
    clearInterval(timer);
    if (node) process.off("beforeExit", atExit);
    await flush();
    closed = true;
  }

  return { track, send, page, click, identify, flush, beacon, close, stats, get queued() { return queue.length; } };
}
