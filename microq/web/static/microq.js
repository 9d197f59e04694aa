"use strict";
// Shared by every MicroQ page (loaded in <head>, before the page's own script): the theme,
// a fetch that turns {"error": ...} answers into thrown errors, elements built with
// textContent (so names, payloads and messages can never become markup), and times shown
// relative ("3 min ago") with the absolute time on hover.
const MQ = (() => {
  // -- theme: auto (the system's), light or dark, kept per browser; the kiosk fixes its own
  const THEME_KEY = "microq-theme";
  const THEMES = ["auto", "light", "dark"];
  const root = document.documentElement;
  function applyTheme(theme) {
    if (root.dataset.themeFixed !== undefined) return;
    if (theme === "auto") delete root.dataset.theme; else root.dataset.theme = theme;
  }
  function storedTheme() {
    try { return THEMES.includes(localStorage.getItem(THEME_KEY)) ? localStorage.getItem(THEME_KEY) : "auto"; }
    catch (e) { return "auto"; }  // storage refused (private mode): follow the system
  }
  applyTheme(storedTheme());
  function themeButton() {  // the bar's #theme button cycles auto -> light -> dark
    const b = document.getElementById("theme");
    if (!b) return;
    const show = () => { b.textContent = `Theme: ${storedTheme()}`; };
    b.addEventListener("click", () => {
      const next = THEMES[(THEMES.indexOf(storedTheme()) + 1) % THEMES.length];
      try { localStorage.setItem(THEME_KEY, next); } catch (e) { /* this page only */ }
      applyTheme(next);
      show();
    });
    show();
  }

  // -- fetch. Every change carries an Idempotency-Key. One that got no answer (the network
  // failed, or a 502/503/504) keeps its key, so pressing the button again retries the same
  // request and the server applies it at most once; any other answer ends it.
  const unanswered = new Map();  // method, path, headers and body -> the key they were sent with
  const NO_ANSWER = [502, 503, 504];
  function randomKey() {  // crypto.randomUUID exists only on https pages; this works on http too
    return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
  }
  class ApiError extends Error {
    constructor(message, status, data, retryAfter) {
      super(message);
      this.status = status;          // 0: no answer at all
      this.data = data;
      this.retryAfter = retryAfter;  // seconds, from a 429's Retry-After
    }
  }
  // api(path, {method, body, headers, raw}): body is sent as JSON unless raw (a string sent
  // with the caller's Content-Type). Resolves to the parsed answer ({} when it has none).
  async function api(path, { method = "GET", body, headers = {}, raw = false } = {}) {
    const sent = { ...headers };
    let text;
    if (body !== undefined) {
      text = raw ? body : JSON.stringify(body);
      if (!raw) sent["Content-Type"] = "application/json";
    }
    const request = `${method} ${path} ${JSON.stringify(sent)} ${text || ""}`;
    if (method !== "GET") {
      if (!unanswered.has(request)) unanswered.set(request, randomKey());
      sent["Idempotency-Key"] = unanswered.get(request);
    }
    let response;
    try {
      response = await fetch(path, { method, headers: sent, body: text });
    } catch (e) {
      throw new ApiError("no answer from the server (network error): try again", 0, {}, null);
    }
    if (!NO_ANSWER.includes(response.status)) unanswered.delete(request);
    let data = {};
    try { data = await response.json(); } catch (e) { /* an empty or non-JSON answer */ }
    if (!response.ok) {
      const wait = response.headers.get("Retry-After");
      const message = (data && data.error) || `HTTP ${response.status} ${response.statusText}`.trim();
      throw new ApiError(message, response.status, data || {}, wait ? Number(wait) : null);
    }
    return data;
  }

  // -- elements. el("td", {class: "num", title: "..."}, "text", child, ...): strings become
  // text nodes; props: class, dataset (object), on (object of listeners), others as attributes.
  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name === "class") node.className = value;
      else if (name === "dataset") Object.assign(node.dataset, value);
      else if (name === "on") for (const [event, fn] of Object.entries(value)) node.addEventListener(event, fn);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  function button(label, onClick, className = "small") {
    return el("button", { type: "button", class: className, on: { click: onClick } }, label);
  }
  const SVG_NS = "http://www.w3.org/2000/svg";
  function svg(tag, attrs = {}, ...children) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
    for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    return node;
  }

  // -- times and durations
  function duration(seconds) {  // 42 s, 5 min, 1 h 5 min, 2 d 3 h
    if (seconds === null || seconds === undefined || !Number.isFinite(Number(seconds))) return "–";
    const s = Math.max(0, Math.round(Number(seconds)));
    if (s < 60) return `${s} s`;
    const m = Math.floor(s / 60);
    if (m < 60) return `${m} min`;
    const h = Math.floor(m / 60);
    if (h < 48) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
    return `${Math.floor(h / 24)} d ${h % 24} h`;
  }
  function relative(iso, now = Date.now()) {  // "just now", "5 min ago", "in 2 h"; a date beyond a week
    const at = Date.parse(iso);
    if (!Number.isFinite(at)) return "";
    const seconds = (at - now) / 1000;
    if (Math.abs(seconds) < 45) return "just now";
    if (Math.abs(seconds) > 7 * 86400) return new Date(at).toLocaleDateString([], { dateStyle: "medium" });
    return seconds < 0 ? `${duration(-seconds)} ago` : `in ${duration(seconds)}`;
  }
  function absolute(iso) {
    const at = new Date(iso);
    return Number.isNaN(at.getTime()) ? "" : at.toLocaleString([], { dateStyle: "medium", timeStyle: "medium" });
  }
  // <time> showing the relative time, the absolute one on hover; kept fresh by the timer below
  function time(iso) {
    if (!iso) return el("span", { class: "muted" }, "–");
    return el("time", { datetime: iso, title: absolute(iso), dataset: { relative: "1" } }, relative(iso));
  }
  function refreshTimes() {
    const now = Date.now();
    for (const node of document.querySelectorAll("time[data-relative]")) node.textContent = relative(node.dateTime, now);
  }
  setInterval(refreshTimes, 15000);

  document.addEventListener("DOMContentLoaded", themeButton);
  return { api, el, button, svg, duration, time };
})();
