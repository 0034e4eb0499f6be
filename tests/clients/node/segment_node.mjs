// Segment's own Node library, unchanged, pointed at our API: node segment_node.mjs <api url> <write key> <run id>
import { Analytics } from "@segment/analytics-node";

const [apiUrl, writeKey, run] = process.argv.slice(2);
const analytics = new Analytics({ writeKey, host: apiUrl, flushAt: 4, maxRetries: 3 });
const errors = [];
analytics.on("error", (error) => errors.push(String(error && (error.reason || error.message || error))));

analytics.track({ userId: "node-user", event: "Node Track", properties: { n: 1 }, messageId: `${run}-track` });
analytics.page({ userId: "node-user", name: "Home", properties: { url: "https://node.example/" }, messageId: `${run}-page` });
analytics.screen({ userId: "node-user", name: "Cart", messageId: `${run}-screen` });
analytics.identify({ userId: "node-user", traits: { plan: "pro" }, messageId: `${run}-identify` });
analytics.group({ userId: "node-user", groupId: "node-group", traits: { seats: 3 }, messageId: `${run}-group` });
analytics.alias({ previousId: "node-anon", userId: "node-user", messageId: `${run}-alias` });
await analytics.closeAndFlush({ timeout: 20000 });
console.log(JSON.stringify({ errors }));
