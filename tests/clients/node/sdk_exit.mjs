// Our JS SDK in Node, never closed: node sdk_exit.mjs <api url> <run id> <count>
// The script only queues and ends; the SDK's 'beforeExit' hook must send the events before Node exits.
import { createCollector } from "../../../clients/js/collector.js";

const [apiUrl, run, count] = process.argv.slice(2);
const collector = createCollector({ apiUrl, writeKey: "k1", storage: null, flushAt: 1000, flushInterval: 3600000 });
for (let i = 0; i < Number(count); i += 1) collector.track("Exit", { i }, { event_id: `${run}-${i}` });
