"use strict";
// The kiosk: now serving, the next few, big type; live from the line's event stream. A public
// screen shows tickets only, unless the queue's show_names is set (data-show-names).
const SHOW_NAMES = document.body.dataset.showNames === "1";

function label(person) {  // "RET-014", "RET-014 · Alex Rivera"; a pre-ticket entry: its name
  if (!person.ticket) return SHOW_NAMES ? person.name : "–";
  return SHOW_NAMES ? `${person.ticket} · ${person.name}` : person.ticket;
}

follow("/stream?limit=5", "line", (line) => {
  document.getElementById("now-serving").textContent = line.now_serving ? label(line.now_serving) : "–";
  document.getElementById("waiting").textContent = `${line.count} waiting · about ${Math.round(line.avg_service_time)} min each`;
  const items = line.queue.map((p) => {
    const li = document.createElement("li");
    li.textContent = label(p);
    return li;
  });
  document.getElementById("next").replaceChildren(...items);
});
