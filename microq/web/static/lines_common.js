"use strict";
// Shared by the lines pages: the line's API base and a fetch that reports {"error": ...} bodies.
const LINE = {
  tenant: document.body.dataset.tenant,
  queue: document.body.dataset.queue,
  get base() { return `/api/${this.tenant}/${this.queue}`; },
};

async function api(method, path, body, adminKey) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (adminKey) headers["X-Admin-Key"] = adminKey;
  const response = await fetch(LINE.base + path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = {};
  try { data = await response.json(); } catch (e) { /* an empty or non-JSON answer */ }
  if (!response.ok) {
    const error = new Error(data.error || `HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return data;
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
