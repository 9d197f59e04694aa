"use strict";
// The kiosk for a TV: the queue's title, now serving per counter (tickets; names only when the
// queue sets show_names), the next tickets, and on every new call or recall a flash of that
// counter, a spoken-style banner and a chime. Browsers allow sound only after a click, so the
// chime is off until someone clicks the sound button (or anywhere on the screen).
const SHOW_NAMES = document.body.dataset.showNames === "1";
const NEXT_COUNT = 8;
const FLASH_MS = 4000;
let lastCalls = null;  // counter key -> call identity at the last render; null before the first
let audio = null;
let chimes = 0;

function label(person) {  // "RET-014", or "RET-014 · Alex Rivera"; a pre-ticket entry: its name or "–"
  if (!person.ticket) return SHOW_NAMES ? person.name : "–";
  return SHOW_NAMES ? `${person.ticket} · ${person.name}` : person.ticket;
}

// The tiles: one per open counter; with no counters, one for the line's own now serving.
function tiles(line) {
  const open = (line.counters || []).filter((c) => c.open);
  if (open.length === 0) {
    const n = line.now_serving;
    return [{ key: "", name: "", serving: n, call: n ? `${n.id} ${n.served_at}` : "" }];
  }
  return open.map((c) => ({ key: c.id, name: c.name, serving: c.now_serving,
                            call: c.now_serving ? `${c.now_serving.id} ${c.now_serving.called_at}` : "" }));
}

function renderTile(tile, flashing) {
  const li = MQ.el("li", { class: "kiosk-tile" });
  li.dataset.counter = tile.key;
  if (tile.serving) {
    li.append(MQ.el("span", { class: "kiosk-ticket" }, tile.serving.ticket || (SHOW_NAMES ? "" : "–")));
    if (SHOW_NAMES) li.append(MQ.el("span", { class: "kiosk-person" }, tile.serving.name));
  } else {
    li.classList.add("idle");
    li.append(MQ.el("span", { class: "kiosk-idle" }, "Waiting for the next call"));
  }
  if (tile.name) li.append(MQ.el("span", { class: "kiosk-counter" }, tile.name));
  if (flashing) {
    li.classList.add("flash");
    li.dataset.flash = "1";
  }
  return li;
}

function announce(tile) {
  const banner = document.getElementById("announce");
  const who = tile.serving.ticket || (SHOW_NAMES ? tile.serving.name : "Next person");
  banner.textContent = tile.name ? `${who} → ${tile.name}` : `${who}, please come forward`;
  banner.classList.remove("show");
  void banner.offsetWidth;  // restart the animation when two calls come close together
  banner.classList.add("show");
}

function flashScreen() {  // the screen's edge too: a call is seen from across the room
  const edge = document.getElementById("flash");
  edge.classList.remove("on");
  void edge.offsetWidth;  // restart the animation
  edge.classList.add("on");
}

function chime() {
  if (!audio) return;
  const start = audio.currentTime;
  for (const [i, freq] of [[0, 880], [1, 660]]) {  // a two-note "ding-dong"
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, start + i * 0.35);
    gain.gain.exponentialRampToValueAtTime(0.4, start + i * 0.35 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + i * 0.35 + 0.9);
    osc.connect(gain).connect(audio.destination);
    osc.start(start + i * 0.35);
    osc.stop(start + i * 0.35 + 1);
  }
  chimes += 1;
  document.body.dataset.chimes = String(chimes);
}

// A tile whose call and text are unchanged is kept as it is, so a line update during a flash
// (someone joins) neither cuts the flash short nor restarts it.
const shownTiles = new Map();  // counter key -> {signature, node}
let calls = 0;

function render(line) {
  const list = tiles(line);
  const fresh = list.filter((t) => lastCalls !== null && t.call && lastCalls.get(t.key) !== t.call);
  lastCalls = new Map(list.map((t) => [t.key, t.call]));
  const nodes = list.map((t) => {
    const signature = JSON.stringify([t.call, t.name, t.serving && t.serving.ticket, t.serving && t.serving.name]);
    const kept = shownTiles.get(t.key);
    if (kept && kept.signature === signature && !fresh.includes(t)) return kept.node;
    const node = renderTile(t, fresh.includes(t));
    if (fresh.includes(t)) setTimeout(() => node.classList.remove("flash"), FLASH_MS);
    shownTiles.set(t.key, { signature, node });
    return node;
  });
  for (const key of shownTiles.keys()) if (!list.some((t) => t.key === key)) shownTiles.delete(key);
  const box = document.getElementById("counters");
  nodes.forEach((node, i) => { if (box.children[i] !== node) box.insertBefore(node, box.children[i] || null); });
  while (box.children.length > nodes.length) box.lastElementChild.remove();
  box.dataset.tiles = String(list.length);
  if (fresh.length > 0) {
    announce(fresh[fresh.length - 1]);
    flashScreen();
    chime();
    calls += fresh.length;
    document.body.dataset.calls = String(calls);  // how many calls this screen has shown
  }
  const minutes = Math.round(line.avg_service_time);
  document.getElementById("waiting").textContent = `${line.count} waiting · about ${minutes} min each`;
  const next = line.queue.slice(0, NEXT_COUNT).map((p) => MQ.el("li", { class: "kiosk-chip" }, label(p)));
  document.getElementById("next").replaceChildren(...next);
  document.getElementById("next-empty").hidden = next.length > 0;
}

function soundOn() {
  if (audio) return;
  audio = new AudioContext();
  const button = document.getElementById("sound");
  button.textContent = "\u266A Sound on";
  button.setAttribute("aria-pressed", "true");
  document.body.dataset.sound = "on";
}

document.addEventListener("click", soundOn);
follow(`/stream?limit=${NEXT_COUNT}`, "line", render);
