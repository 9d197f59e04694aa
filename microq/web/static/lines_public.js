"use strict";
// The public page: who is served now, why the line takes no joins (paused, closed, full), then
// join and follow your own entry live. The user id and the leave token (shown by join once)
// stay in localStorage, so a reload (or a closed tab) comes back to the same place in line and
// can still leave it.
const STORAGE = `microq:${LINE.tenant}/${LINE.queue}`;
const FINISHED = { served: "It's your turn! Please go to the counter.", left: "You left the line.",
                   removed: "You were removed from the line.", no_show: "You were marked as not present.",
                   closed: "The line has closed for today. Sorry!" };
const $ = (id) => document.getElementById(id);
const NO_TYPE = "-";  // the select's value for "Something else / not sure": joined with no service type
let source = null;
let config = {};      // the queue's config (hours, pause, capacity), read each minute
let lineCount = null; // people waiting, from the line's stream

function show(section) {
  $("join").hidden = section !== "join";
  $("ticket").hidden = section !== "ticket";
}

async function loadTypes() {
  try {
    const { service_types: types } = await api("GET", "/service-types");
    // a choice is asked for; "no type" is said as such, last, never as a type-like "General"
    // next to a real one
    const choose = new Option("Choose one", "", true, true);
    choose.disabled = true;
    $("service-type").replaceChildren(choose, ...types.map((t) => new Option(t.name, t.id)),
      new Option("Something else / not sure", NO_TYPE));
    $("service-type").required = types.length > 0;
    $("type-field").hidden = types.length === 0;
  } catch (e) { /* types are optional */ }
}

// Why the line takes no joins now (paused, outside its hours, full). The server decides at the
// join itself (a 409 says why), so this is a hint, checked again each minute and on changes.
function closedReason() {
  const j = config.joining;
  if (j && !j.open) {
    if (j.reason === "paused") {
      return config.pause_message ? `This line is paused: ${config.pause_message}` : "This line is paused for now.";
    }
    if (j.opens_at) {
      // in the queue's own time zone: the hours people read on the door
      const at = new Date(j.opens_at).toLocaleString([], { weekday: "long", hour: "2-digit", minute: "2-digit",
                                                           timeZone: config.time_zone });
      return `This line is closed now. It opens ${at}.`;
    }
    return "This line is closed now.";
  }
  if (config.max_waiting && lineCount !== null && lineCount >= config.max_waiting) {
    return `This line is full right now (${lineCount} waiting). Please try again in a little while.`;
  }
  return "";
}

function showClosed() {
  const reason = closedReason();
  $("closed").textContent = reason;
  $("closed").hidden = !reason;
  document.body.dataset.closed = reason ? "1" : "0";
}

async function checkOpen() {
  try {
    config = await MQ.api(LINE.config);
  } catch (e) { config = {}; /* unknown: let the join answer */ }
  showClosed();
}

// "A-014 → Desk 3" for each open counter serving someone; the line's own now serving when it
// has no counters. Tickets only: this is a public screen.
function renderLine(line) {
  const open = (line.counters || []).filter((c) => c.open && c.now_serving);
  const serving = open.length ? open.map((c) => [c.now_serving.ticket, c.name])
    : line.now_serving ? [[line.now_serving.ticket, ""]] : [];
  $("serving").replaceChildren(...(serving.length
    ? serving.map(([ticket, counter]) => MQ.el("li", {}, ticket || "–", counter ? MQ.el("span", {}, ` → ${counter}`) : null))
    : [MQ.el("li", { class: "none" }, "Nobody yet")]));
  lineCount = line.count;
  $("waiting").textContent = line.count === 1 ? "1 person waiting" : `${line.count} people waiting`;
  showClosed();
}

function render(status) {
  const { entry, position, eta_minutes: eta } = status;
  $("ticket-name").textContent = entry.name;
  $("ticket-number").textContent = entry.ticket || "–";
  const waiting = entry.status === "waiting";
  $("position").textContent = waiting ? position : "✓";
  $("eta").textContent = waiting ? `Estimated wait: ${minutes(eta)}` : "";
  let state = waiting ? (position === 1 ? "You're next!" : "") : FINISHED[entry.status] || entry.status;
  if (entry.status === "served" && entry.counter) state = `It's your turn! Please go to ${entry.counter.name}.`;
  $("state").textContent = state;
  document.body.dataset.status = entry.status;
  $("leave").hidden = !waiting;
  $("again").hidden = waiting;
  show("ticket");
}

function track(userId) {
  if (source) source.close();
  source = follow(`/status/${userId}/stream`, "status", (status) => { showError(null); render(status); });
  source.addEventListener("error", async () => {
    try { await api("GET", `/status/${userId}`); } catch (e) {
      if (e.status === 404) { forget(); }  // forgotten entry or another line's id: start over
    }
  });
}

// {id, token}; a value saved before leave tokens existed is the bare id (no token).
function saved() {
  const raw = localStorage.getItem(STORAGE);
  if (!raw) return null;
  try {
    const value = JSON.parse(raw);
    if (value && typeof value.id === "string") return { id: value.id, token: value.token || null };
  } catch (e) { /* the old form */ }
  return { id: raw, token: null };
}

function forget() {
  if (source) source.close();
  source = null;
  localStorage.removeItem(STORAGE);
  show("join");
}

$("join-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const body = { name: form.name.value };
  const type = form.service_type_id.value;
  if (type && type !== NO_TYPE) body.service_type_id = type;
  try {
    const joined = await api("POST", "/join", body);
    localStorage.setItem(STORAGE, JSON.stringify({ id: joined.entry.id, token: joined.leave_token }));
    showError(null);
    render(joined);
    track(joined.entry.id);
  } catch (e) { showError(e); if (e.status === 409) checkOpen(); }
});

$("leave").addEventListener("click", async () => {
  const me = saved();
  if (!me) { forget(); return; }
  // the token goes in a JSON body (the API also takes an X-Leave-Token header)
  const body = me.token ? { token: me.token } : {};
  try {
    render({ ...(await api("POST", `/leave/${me.id}`, body)), position: null, eta_minutes: null });
  } catch (e) { showError(e); }
});
$("again").addEventListener("click", forget);

loadTypes();
checkOpen();
setInterval(checkOpen, 60000);
follow("/stream?limit=1", "line", renderLine);
const returning = saved();
if (returning) { track(returning.id); } else { show("join"); }
