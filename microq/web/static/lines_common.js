"use strict";
// Shared by the lines pages: the line's API base, its calls (with the admin key when one is
// given) and its live event streams. Fetch, errors and elements are microq.js's.
const LINE = {
  tenant: document.body.dataset.tenant,
  queue: document.body.dataset.queue,
  get base() { return `/api/${this.tenant}/${this.queue}`; },
  get config() { return `/api/${this.tenant}/queues/${this.queue}`; },
};

// api("POST", "/serve-next", {counter}, adminKey): a call under the line's base
function api(method, path, body, adminKey) {
  return MQ.api(LINE.base + path, { method, body, headers: adminKey ? { "X-Admin-Key": adminKey } : {} });
}

function showError(error) {
  document.getElementById("error").textContent = error ? error.message || String(error) : "";
}

function minutes(eta) {
  if (eta === null || eta === undefined) return "";
  return eta < 1 ? "less than a minute" : `about ${Math.round(eta)} min`;
}

// An EventSource that the browser reconnects by itself; `onData` gets each parsed event.
function follow(path, eventName, onData) {
  const source = new EventSource(LINE.base + path);
  source.addEventListener(eventName, (e) => onData(JSON.parse(e.data)));
  return source;
}

