// The message log page: plain browser JavaScript, no build step, no external code. It reads the
// JSON API only, and every text from a message goes in through textContent, never as markup.
const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const PAGE_SIZE = 50;
/** Recipients a row names at most, and the timeline shows at once (with the attempts of each). */
const LISTED = 3;
const RECIPIENTS_PAGE = 100;
const HOUR = 60 * 60 * 1000;
const FILTERS = ["identity", "backend", "direction", "status", "text", "since", "until"];
const STATUS = { Q: "queued", R: "received", P: "processing", S: "sent", D: "delivered", E: "failed" };
const OUTCOME = { S: "sent", retry: "failed, to be retried", E: "failed" };
// The page is at <where the host mounted RapidSMS>/messages/: the API is beside it.
const api = (path) => new URL(`../api/${path}`, location.href).href;

/** Newest first: `anchors[i]` is the `before` of page i (undefined for the first). */
let anchors = [undefined];

function el(name, attributes = {}, ...children) {
  const node = document.createElement(name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  node.append(...children);
  return node;
}

function svg(name, attributes = {}, title) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (title !== undefined) {
    const tip = document.createElementNS(SVG, "title");
    tip.textContent = title;
    node.append(tip);
  }
  return node;
}

const time = (iso) => (iso ? new Date(iso).toLocaleString() : "");
const flash = (text) => {
  $("flash").textContent = text;
};

async function getJson(path) {
  const response = await fetch(api(path), { headers: { accept: "application/json" } });
  const answer = await response.json().catch(() => ({ error: `the server answered ${response.status}` }));
  if (!response.ok) throw new Error(answer.error);
  return answer;
}

/** The form's filters as the API takes them; the times of datetime-local inputs are this browser's, sent with their offset. */
function filters() {
  const query = new URLSearchParams();
  for (const name of FILTERS) {
    const value = $(name).value.trim();
    if (value === "") continue;
    query.set(name, name === "since" || name === "until" ? new Date(value).toISOString() : value);
  }
  return query;
}

/** The search is kept in the page's address (as the form has it), so that it can be bookmarked, shared and reloaded. */
function keepInAddress() {
  const query = new URLSearchParams();
  for (const name of FILTERS) if ($(name).value.trim() !== "") query.set(name, $(name).value.trim());
  const search = query.toString();
  history.replaceState(null, "", search === "" ? location.pathname : `?${search}`);
}

function fromAddress() {
  const query = new URLSearchParams(location.search);
  for (const name of FILTERS) if (query.has(name)) $(name).value = query.get(name);
}

function updateExport() {
  const query = filters();
  $("export").href = api(`messages.csv${query.size > 0 ? `?${query}` : ""}`);
}

/** Its numbers and backends: a bulk message lists its first recipients only, and says how many more it has. */
function recipients(message) {
  const unique = (values) => [...new Set(values)].join(", ");
  const total = message.recipients?.total ?? message.transmissions.length;
  const listed = message.direction === "O" ? message.transmissions.slice(0, LISTED) : message.transmissions;
  const more = total > listed.length ? ` and ${total - listed.length} more` : "";
  return { numbers: `${unique(listed.map((t) => t.identity))}${more}`, backends: unique(listed.map((t) => t.backend)) };
}

/** "300 recipients: 280 sent, 20 failed". */
function recipientCounts(counts) {
  const parts = Object.entries(STATUS)
    .filter(([status]) => counts[status] > 0)
    .map(([status, name]) => `${counts[status]} ${name}`);
  return `${counts.total} ${counts.total === 1 ? "recipient" : "recipients"}: ${parts.join(", ")}`;
}

function row(message) {
  const { numbers, backends } = recipients(message);
  const open = el("button", { type: "button", class: "link", "data-id": message.id, "aria-label": `Open the timeline of message ${message.id}` });
  open.textContent = time(message.createdAt);
  open.addEventListener("click", () => showTimeline(message.id));
  const cells = [
    ["time", open],
    ["direction", message.direction === "I" ? "» incoming" : "« outgoing"],
    ["number", numbers],
    ["backend", backends],
    ["status", STATUS[message.status] ?? message.status],
    ["text", message.text],
  ];
  const tr = el("tr", { class: `${message.direction === "I" ? "in" : "out"} status-${message.status}`, "data-id": message.id });
  for (const [name, value] of cells) {
    const td = el("td", { class: name });
    if (typeof value === "string") td.textContent = value;
    else td.append(value);
    tr.append(td);
  }
  return tr;
}

async function search(page = 0) {
  keepInAddress();
  updateExport();
  const query = filters();
  query.set("limit", String(PAGE_SIZE));
  if (anchors[page] !== undefined) query.set("before", anchors[page]);
  let data;
  try {
    data = await getJson(`messages?${query}`);
  } catch (error) {
    flash(error.message);
    return;
  }
  // A text search looks through a bounded part of the log for each page: say so when it stopped there.
  flash(data.next && data.messages.length < PAGE_SIZE ? "The search stopped after looking through part of the log: Older › looks further back." : "");
  anchors = anchors.slice(0, page + 1);
  if (data.next) anchors.push(data.next);
  $("messages").tBodies[0].replaceChildren(...data.messages.map(row));
  $("messages").hidden = data.messages.length === 0;
  $("empty").hidden = data.messages.length > 0;
  $("page-info").textContent = data.messages.length === 0 ? "" : `Page ${page + 1}`;
  $("newer").disabled = page === 0;
  $("older").disabled = !data.next;
  $("newer").onclick = () => search(page - 1);
  $("older").onclick = () => search(page + 1);
}

function event(when, title, ...details) {
  const item = el("li", { class: "event" });
  const head = el("p", { class: "event-head" });
  const at = el("time", { datetime: when ?? "" });
  at.textContent = time(when);
  const what = el("strong");
  what.textContent = title;
  head.append(at, " ", what);
  item.append(head);
  for (const detail of details.filter((d) => d !== null && d !== undefined && d !== "")) {
    const line = el("p", { class: "event-detail" });
    if (typeof detail === "string") line.textContent = detail;
    else line.append(detail);
    item.append(line);
  }
  return item;
}

function messageLink(id, label) {
  const link = el("button", { type: "button", class: "link" });
  link.textContent = label;
  link.addEventListener("click", () => showTimeline(id));
  return link;
}

const replyCount = (replies) => (replies.length === 0 ? "No reply" : `${replies.length} ${replies.length === 1 ? "reply" : "replies"}`);

function timelineEvents(message) {
  const events = [];
  const { numbers, backends } = recipients(message);
  if (message.direction === "I") {
    events.push(event(message.createdAt, "Accepted", `From ${numbers} on ${backends}`));
    if (message.processedAt) {
      const handled = message.handledBy ? `Handled by the app "${message.handledBy}"` : "No app handled it";
      events.push(event(message.processedAt, "Processed", handled, replyCount(message.replies)));
    } else if (message.status === "R") {
      // Processed before the store recorded when and by which app (migration 0009).
      events.push(event(message.updatedAt, "Processed", replyCount(message.replies)));
    } else if (message.status === "E") {
      events.push(event(message.updatedAt, "Processing failed", message.error));
    } else {
      events.push(event(null, "Waiting to be processed"));
    }
    for (const reply of message.replies) {
      const to = recipients(reply);
      events.push(
        event(reply.createdAt, `Reply, ${STATUS[reply.status] ?? reply.status}`, `“${reply.text}” to ${to.numbers}`, messageLink(reply.id, "Open this reply")),
      );
    }
    return events;
  }
  events.push(event(message.createdAt, "Queued", `To ${numbers} on ${backends}`, message.recipients && recipientCounts(message.recipients)));
  if (message.inResponseTo) events.push(event(message.createdAt, "A reply", messageLink(message.inResponseTo, "Open the message it answers")));
  for (const t of message.transmissions) {
    for (const a of t.attemptLog) {
      const outcome = `Attempt ${a.attempt} to ${t.identity} on ${t.backend}: ${OUTCOME[a.outcome] ?? a.outcome}`;
      events.push(event(a.at, outcome, `Took ${a.durationMs} ms`, a.error && `Error: ${a.error}`, a.answer && `The gateway answered: ${a.answer}`));
    }
    for (const r of t.deliveryReports) {
      events.push(event(r.at, `Delivery report for ${t.identity}: ${STATUS[r.status] ?? r.status}`, r.detail && `Detail: ${r.detail}`));
    }
    if (t.status === "Q" && t.nextAttemptAt) events.push(event(t.nextAttemptAt, `Next attempt to ${t.identity}`));
  }
  return events.sort((a, b) => (a.querySelector("time").dateTime || "9").localeCompare(b.querySelector("time").dateTime || "9"));
}

async function showTimeline(id) {
  let message;
  try {
    message = await getJson(`messages/${encodeURIComponent(id)}?recipientsLimit=${RECIPIENTS_PAGE}`);
  } catch (error) {
    flash(error.message);
    return;
  }
  $("timeline-title").textContent = `${message.direction === "I" ? "Incoming" : "Outgoing"} message, ${STATUS[message.status] ?? message.status}`;
  $("timeline-text").textContent = message.text;
  drawTimeline(message);
  $("timeline").hidden = false;
  $("timeline").scrollIntoView({ block: "nearest" });
}

/** The events of the recipients read so far; a bulk message's next recipients come a page at a time. */
function drawTimeline(message) {
  const items = timelineEvents(message);
  if (message.nextRecipients !== null && message.nextRecipients !== undefined) {
    const more = el("button", { type: "button", id: "more-recipients" });
    const shown = message.transmissions.length;
    more.textContent = `Show the next ${Math.min(RECIPIENTS_PAGE, message.recipients.total - shown)} of ${message.recipients.total - shown} more recipients`;
    more.addEventListener("click", async () => {
      more.disabled = true;
      try {
        const next = await getJson(`messages/${encodeURIComponent(message.id)}?recipientsLimit=${RECIPIENTS_PAGE}&recipientsAfter=${message.nextRecipients}`);
        drawTimeline({ ...message, transmissions: [...message.transmissions, ...next.transmissions], nextRecipients: next.nextRecipients });
      } catch (error) {
        more.disabled = false;
        flash(error.message);
      }
    });
    items.push(el("li", { class: "event more" }, more));
  }
  $("timeline-events").replaceChildren(...items);
}

function hourlyChart(stats) {
  const chart = $("hourly-chart");
  const first = Math.floor(Date.parse(stats.since) / HOUR) * HOUR;
  const hours = Array.from({ length: 24 }, (_, i) => first + i * HOUR);
  const counts = new Map(stats.hourly.map((h) => [Date.parse(h.hour), h]));
  const max = Math.max(1, ...stats.hourly.map((h) => Math.max(h.in, h.out)));
  const [width, height, base] = [720, 200, 180];
  const slot = width / 24;
  const nodes = [svg("line", { x1: 0, y1: base, x2: width, y2: base, class: "axis" })];
  let totalIn = 0;
  let totalOut = 0;
  for (const [i, start] of hours.entries()) {
    const h = counts.get(start) ?? { in: 0, out: 0 };
    totalIn += h.in;
    totalOut += h.out;
    const label = `${new Date(start).toISOString().slice(0, 16).replace("T", " ")} UTC`;
    for (const [j, direction] of ["in", "out"].entries()) {
      const tall = (h[direction] / max) * (base - 10);
      nodes.push(
        svg(
          "rect",
          { x: i * slot + 3 + j * (slot / 2 - 3), y: base - tall, width: slot / 2 - 3, height: tall, class: `bar ${direction}`, "data-hour": start },
          `${label}: ${h[direction]} ${direction === "in" ? "incoming" : "outgoing"}`,
        ),
      );
    }
    if (i % 6 === 0) {
      const text = svg("text", { x: i * slot + 2, y: height - 4, class: "tick" });
      text.textContent = new Date(start).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      nodes.push(text);
    }
  }
  chart.replaceChildren(...nodes);
  const busiest = Math.max(0, ...stats.hourly.map((h) => h.in + h.out));
  $("hourly-summary").textContent = `${totalIn} incoming and ${totalOut} outgoing in the last 24 hours; the busiest hour had ${busiest}.`;
}

const SHARES = ["delivered", "sent", "pending", "failed"];

function backendChart(stats) {
  const chart = $("backend-chart");
  const rowHeight = 28;
  const labelWidth = 100;
  const width = 360 - labelWidth;
  chart.setAttribute("viewBox", `0 0 360 ${Math.max(1, stats.backends.length) * rowHeight + 4}`);
  const nodes = [];
  const lines = [];
  for (const [i, b] of stats.backends.entries()) {
    const total = SHARES.reduce((n, share) => n + b[share], 0);
    const name = svg("text", { x: 0, y: i * rowHeight + 19, class: "label" });
    name.textContent = b.backend;
    nodes.push(name);
    let x = labelWidth;
    for (const share of SHARES) {
      if (b[share] === 0) continue;
      const wide = (b[share] / total) * width;
      const percent = Math.round((b[share] / total) * 100);
      nodes.push(
        svg(
          "rect",
          { x, y: i * rowHeight + 4, width: wide, height: rowHeight - 8, class: `share ${share}`, "data-backend": b.backend },
          `${b.backend}: ${b[share]} ${share} (${percent}%)`,
        ),
      );
      x += wide;
    }
    lines.push(`${b.backend}: ${SHARES.map((share) => `${b[share]} ${share}`).join(", ")}`);
  }
  chart.replaceChildren(...nodes);
  $("backend-summary").textContent = lines.length === 0 ? "Nothing was sent in the last 24 hours." : `${lines.join("; ")}.`;
  $("backends").replaceChildren(...stats.backends.map((b) => el("option", { value: b.backend })));
}

async function charts() {
  try {
    // The 24 whole hours the chart draws, this one included; the outcomes count over the same window.
    const since = new Date(Math.floor(Date.now() / HOUR) * HOUR - 23 * HOUR).toISOString();
    const stats = await getJson(`messages/stats?since=${encodeURIComponent(since)}`);
    hourlyChart(stats);
    backendChart(stats);
  } catch (error) {
    flash(`The charts could not be drawn: ${error.message}`);
  }
}

fromAddress();
$("search").addEventListener("submit", (submitted) => {
  submitted.preventDefault();
  anchors = [undefined];
  search();
  charts();
});
$("search").addEventListener("input", updateExport);
$("search").addEventListener("reset", () =>
  setTimeout(() => {
    anchors = [undefined];
    search();
  }),
);
$("close-timeline").addEventListener("click", () => {
  $("timeline").hidden = true;
});
charts();
search();
