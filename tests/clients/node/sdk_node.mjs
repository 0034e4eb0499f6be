// Our JS SDK in Node: node sdk_node.mjs <api url> <write key> <run id> <count>
import { createCollector } from "../../../clients/js/collector.js";

const [apiUrl, writeKey, run, count] = process.argv.slice(2);
const given = [];
const collector = createCollector({
  apiUrl,
  writeKey,
  storage: null,
  flushAt: 7,
  onError: (error) => given.push(String(error.message)),
});
const ids = [];
for (let i = 0; i < Number(count); i += 1) ids.push(collector.track("Node SDK", { i }, { event_id: `${run}-${i}` }));
await collector.close();
console.log(JSON.stringify({ ids, stats: collector.stats, errors: given }));
