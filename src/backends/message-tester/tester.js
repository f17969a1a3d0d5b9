// The message tester page: plain browser JavaScript, no build step, no external code.
const $ = (id) => document.getElementById(id);
const identityInput = $("identity");
const textInput = $("text");
let page = 1;
// The page is always at <where the host mounted RapidSMS>/tester/<number>/: everything else is relative to it.
const base = new URL("../", location.href);
const at = (path) => new URL(path, base).href;

function currentIdentity() {
  const match = /\/(\d+)\/$/.exec(location.pathname);
  return match ? match[1] : "";
}

function validIdentity() {
  const value = identityInput.value.trim();
  const error = value === "" ? "Phone number is required" : /^\d+$/.test(value) ? "" : "Phone number must be all numeric";
  $("identity-error").textContent = error;
  $("identity-error").hidden = error === "";
  identityInput.setAttribute("aria-invalid", String(error !== ""));
  return error === "" ? value : null;
}

function flash(text) {
  $("flash").textContent = text;
}

async function post(path, body) {
  const response = await fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const answer = await response.json().catch(() => ({ error: `the server answered ${response.status}` }));
  if (!response.ok) throw new Error(answer.error);
  return answer;
}

async function act(work) {
  try {
    flash((await work()).flash);
    await refresh();
  } catch (error) {
    flash(error.message);
  }
}

function send() {
  const identity = validIdentity();
  if (identity === null) return;
  const text = textInput.value;
  act(async () => {
    const answer = await post(at("api/send"), { identity, text });
    textInput.value = "";
    return answer;
  });
}

function sendFile(file) {
  const identity = validIdentity();
  if (identity === null || !file) return;
  act(async () => {
    const lines = (await file.text()).split(/\r?\n/);
    if (lines.at(-1) === "") lines.pop();
    return post(at("api/bulk"), { identity, lines });
  });
}

function row(message, mine) {
  const tr = document.createElement("tr");
  tr.className = `${message.direction === "I" ? "in" : "out"}${message.identity === mine ? " mine" : ""}`;
  const cells = [
    ["date", new Date(message.date).toLocaleString()],
    ["number", message.identity],
    ["direction", message.direction === "I" ? "» incoming" : "« outgoing"],
    ["text", message.text],
  ];
  for (const [name, value] of cells) {
    const td = document.createElement("td");
    td.className = name;
    td.textContent = value;
    tr.append(td);
  }
  return tr;
}

async function refresh() {
  const response = await fetch(at(`api/messages?page=${page}`));
  if (!response.ok) return;
  const data = await response.json();
  page = data.page;
  const mine = identityInput.value.trim();
  $("messages").tBodies[0].replaceChildren(...data.messages.map((message) => row(message, mine)));
  $("empty").hidden = data.total > 0;
  $("messages").hidden = data.total === 0;
  $("page-info").textContent = `Page ${data.page} of ${data.pages}`;
  $("prev").disabled = data.page <= 1;
  $("next").disabled = data.page >= data.pages;
}

function listen() {
  // Server-sent events push every change; if they fail, poll.
  if (!("EventSource" in window)) return setInterval(refresh, 1000);
  const events = new EventSource(at("api/events"));
  events.onmessage = () => refresh();
  events.onerror = () => {
    events.close();
    setInterval(refresh, 1000);
  };
}

identityInput.value = currentIdentity();
identityInput.addEventListener("input", () => {
  const identity = validIdentity();
  if (identity !== null) history.replaceState(null, "", at(`${identity}/`));
  refresh();
});
$("compose").addEventListener("submit", (event) => {
  event.preventDefault();
  send();
});
textInput.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    send();
  }
});
$("bulk").addEventListener("change", (event) => {
  sendFile(event.target.files[0]);
  event.target.value = "";
});
$("clear").addEventListener("click", () => {
  const identity = validIdentity();
  if (identity !== null) act(() => post(at("api/clear"), { identity }));
});
$("clear-all").addEventListener("click", () => {
  if (confirm("Clear the messages of every tester number? This cannot be undone.")) act(() => post(at("api/clear"), {}));
});
$("prev").addEventListener("click", () => {
  page -= 1;
  refresh();
});
$("next").addEventListener("click", () => {
  page += 1;
  refresh();
});
refresh();
listen();
