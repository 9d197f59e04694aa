"use strict";
// The kiosk: now serving, the next few, big type; live from the line's event stream.
follow("/stream?limit=5", "line", (line) => {
  document.getElementById("now-serving").textContent = line.now_serving ? line.now_serving.name : "–";
  document.getElementById("waiting").textContent = `${line.count} waiting · about ${Math.round(line.avg_service_time)} min each`;
  const items = line.queue.map((p) => {
    const li = document.createElement("li");
    li.textContent = p.service_type_code ? `${p.name} (${p.service_type_code})` : p.name;
    return li;
  });
  document.getElementById("next").replaceChildren(...items);
});
