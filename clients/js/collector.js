// Event collector browser and Node SDK: a dependency-free ES module (docs/clients.md).
//
//   import { createCollector } from "https://<your API>/sdk/collector.js";   // or a copy on your CDN
//   const collector = createCollector({ apiUrl: "https://<your API>", writeKey: "<publishable key>" });
//   collector.page();
//   collector.track("Signed Up", { plan: "pro" });
//
// Events are queued (bounded), sent in batches when `flushAt` are waiting, every `flushInterval` ms,
// and when the page is hidden (with navigator.sendBeacon, which survives the page closing). A 429 or
// 5xx is retried with exponential back-off, honouring Retry-After; every event has its id from the
// moment it is queued, so a retry never stores it twice. Nothing is dropped silently: `onError`
// hears about every event given up, and `stats` counts them.

const DEFAULTS = {
  flushAt: 20,
  flushInterval: 5000,
  maxQueue: 1000,
  maxRetries: 6,
  baseDelay: 500,
  maxBatch: 500,
};

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

export function createCollector(options) {
  const settings = { ...DEFAULTS, ...options };
  if (!settings.apiUrl || !settings.writeKey) throw new Error("createCollector needs apiUrl and writeKey");
  const api = settings.apiUrl.replace(/\/+$/, "");
  const send = settings.fetch || globalThis.fetch.bind(globalThis);
  const storage = settings.storage !== undefined ? settings.storage : globalThis.localStorage;
  const onError = settings.onError || (() => {});
  const sleep = settings.sleep || ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  const queue = [];
  const stats = { queued: 0, sent: 0, dropped: 0, retried: 0 };
  const identity = { anonymous_id: anonymousId(storage), user_id: undefined };
  let sending = null;
  let closed = false;

  function enqueue(event) {
    if (closed) throw new Error("the collector is closed");
    if (queue.length >= settings.maxQueue) {
      stats.dropped += 1; // the newest is refused, so what was queued first keeps its place
      onError(new Error("queue full: event dropped"), [event]);
      return event.event_id;
    }
    queue.push(event);
    stats.queued += 1;
    if (queue.length >= settings.flushAt) flush();
    return event.event_id;
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

  async function post(events) {
    for (let attempt = 0; ; attempt += 1) {
      const body = JSON.stringify({ events, sent_at: Date.now() }); // sent_at of this attempt: skew stays right
      let response;
      try {
        response = await send(api + "/v1/events", {
          method: "POST",
          headers: { Authorization: basicAuth(settings.writeKey), "Content-Type": "application/json" },
          body,
          keepalive: body.length < 60000,
        });
      } catch (error) {
        response = { status: 0, error };
      }
      if (response.status >= 200 && response.status < 300) {
        stats.sent += events.length;
        return;
      }
      const retryable = response.status === 0 || response.status === 429 || response.status >= 500;
      if (!retryable || attempt >= settings.maxRetries) {
        stats.dropped += events.length;
        onError(new Error(`the API answered ${response.status || "nothing"}; events given up`), events);
        return;
      }
      stats.retried += 1;
      const header = response.headers && response.headers.get && response.headers.get("Retry-After");
      const told = header && Number.isFinite(Number(header)) ? Number(header) * 1000 : 0;
      const backoff = Math.random() * settings.baseDelay * 2 ** attempt;
      await sleep(Math.max(told, backoff));
    }
  }

  function flush() {
    // Resolves once the queue is empty and nothing is in flight (a batch started by someone else included).
    if (sending) return sending.then(() => flush());
    if (!queue.length) return Promise.resolve();
    const events = queue.splice(0, settings.maxBatch);
    sending = post(events).finally(() => {
      sending = null;
    });
    return sending.then(() => flush());
  }

  function beacon() {
    // The page is going away: hand what is queued to the browser, which sends it after the page closes.
    if (!queue.length || typeof navigator === "undefined" || typeof navigator.sendBeacon !== "function") return false;
    const events = queue.splice(0, settings.maxBatch);
    const url = api + "/v1/events?writeKey=" + encodeURIComponent(settings.writeKey);
    const accepted = navigator.sendBeacon(url, JSON.stringify({ events, sent_at: Date.now() }));
    if (accepted) stats.sent += events.length;
    else queue.unshift(...events); // refused (too large): the next flush tries again
    return accepted;
  }

  const timer = setInterval(() => flush(), settings.flushInterval);
  if (typeof timer.unref === "function") timer.unref();
  if (typeof document !== "undefined" && typeof document.addEventListener === "function") {
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "hidden") beacon();
    });
    globalThis.addEventListener("pagehide", beacon);
  }

  async function close() {
    clearInterval(timer);
    await flush();
    closed = true;
  }

  return { track, page, click, identify, flush, beacon, close, stats, get queued() { return queue.length; } };
}
