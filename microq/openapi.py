"""The API description: OpenAPI 3.1 at `/openapi.json`, and Swagger UI at `/docs`.

The document is written here by hand, operation by operation, from docs/compat.md (each part's
contract); tests/ops/test_openapi.py holds it against the live route table, both ways, so a
route added without a description (or a description left after its route went) fails CI.
Swagger UI's files come from the swagger-ui-py package (served under /docs/static/), never a CDN.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from aiohttp import web

from microq import __version__

try:  # the assets only; the package's framework glue is not used
    import swagger_ui

    SWAGGER_ASSETS: Path | None = Path(swagger_ui.__file__).resolve().parent / "static"
except ImportError:  # pragma: no cover - an install without it still serves /openapi.json
    SWAGGER_ASSETS = None

#: routes that are not part of an API: pages, static files, the description itself
UNDESCRIBED = {"/static", "/docs", "/docs/static"}

# --- building blocks ------------------------------------------------------------------------

ERROR = {"$ref": "#/components/schemas/Error"}
TOPIC = {"type": "string", "pattern": r"^[a-zA-Z0-9._-]{1,255}$", "not": {"enum": [".", ".."]},
         "examples": ["orders.eu"]}
ID64 = {"type": "string", "pattern": r"^[A-Za-z0-9_-]{1,64}$"}
ANY_JSON: dict[str, Any] = {}


def path_param(name: str, schema: dict, description: str = "") -> dict:
    return {"name": name, "in": "path", "required": True, "schema": schema, "description": description}


def query(name: str, schema: dict, description: str = "", required: bool = False) -> dict:
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


def header(name: str, description: str, required: bool = False) -> dict:
    return {"name": name, "in": "header", "required": required, "schema": {"type": "string"},
            "description": description}


def json_body(schema: dict, example: Any, required: bool = True) -> dict:
    return {"required": required, "content": {"application/json": {"schema": schema, "example": example}}}


def answer(description: str, schema: dict | None = None, example: Any = None,
           media: str = "application/json") -> dict:
    out: dict[str, Any] = {"description": description}
    if schema is not None:
        content: dict[str, Any] = {"schema": schema}
        if example is not None:
            content["example"] = example
        out["content"] = {media: content}
    return out


def obj(properties: dict | None = None, required: tuple[str, ...] = ()) -> dict:
    schema: dict[str, Any] = {"type": "object"}
    if properties:
        schema["properties"] = properties
    if required:
        schema["required"] = list(required)
    return schema


def op(tag: str, summary: str, responses: dict, parameters: list | None = None, body: dict | None = None,
       security: list | None = None, description: str = "") -> dict:
    out: dict[str, Any] = {"tags": [tag], "summary": summary, "responses": {
        **responses, "default": answer("An error: every error of every part has this shape", ERROR,
                                       {"error": "queue_name is required"})}}
    if description:
        out["description"] = description
    if parameters:
        out["parameters"] = parameters
    if body:
        out["requestBody"] = body
    if security is not None:
        out["security"] = security
    return out


STRING, INT, BOOL, NUMBER = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}, {"type": "number"}
NULLABLE_STRING = {"type": ["string", "null"]}
ANY_OBJECT = {"type": "object"}

# --- lines (seed 000) -------------------------------------------------------------------------

LINE = [path_param("tenant_id", ID64, "tenant id"), path_param("queue_id", ID64, "queue (line) id")]
USER = path_param("user_id", {"type": "string", "maxLength": 200}, "the user id join returned")
TYPE_ID = path_param("type_id", {"type": "string", "maxLength": 200}, "a service type id")
ADMIN = [{"AdminKey": []}, {"BearerJWT": []}]
COUNTER_ID = path_param("counter_id", {"type": "string", "maxLength": 32}, "a counter id")
PERSON = obj({"id": STRING, "name": STRING, "joined_at": STRING, "status": STRING,
              "service_type_id": NULLABLE_STRING, "service_type_name": NULLABLE_STRING,
              "service_type_code": NULLABLE_STRING}, ("id", "name", "status"))
PERSON_EXAMPLE = {"id": "d70e965f-8ee5-478b-ad0d-89507ec22674", "name": "Ada", "joined_at": "2026-12-01T21:20:01.130+00:00",
                  "service_type_id": None, "service_type_name": None, "service_type_code": None,
                  "tenant_id": "acme", "queue_id": "main", "status": "waiting"}
ENTRY = obj({"entry": PERSON, "position": {"type": ["integer", "null"]}, "eta_minutes": {"type": ["number", "null"]}},
            ("entry",))
QUEUE_CONFIG = obj({"tenant_id": STRING, "queue_id": STRING, "name": STRING, "is_public": BOOL,
                    "avg_service_time": NUMBER, "admin_key": STRING, "created_at": STRING},
                   ("tenant_id", "queue_id", "name", "is_public", "avg_service_time"))
SERVICE_TYPE = obj({"id": STRING, "name": STRING, "code": NULLABLE_STRING})
PERCENTILES = obj({"p50": {"type": ["number", "null"]}, "p90": {"type": ["number", "null"]}}, ("p50", "p90"))
ANALYTICS = obj({"queue_id": STRING, "time_zone": STRING, "from": STRING, "to": STRING, "served": INT,
                 "no_shows": INT, "left": INT, "wait_seconds": PERCENTILES, "service_seconds": PERCENTILES,
                 "served_per_hour": {"type": "array", "items": INT, "minItems": 24, "maxItems": 24},
                 "by_service_type": {"type": "array", "items": obj({
                     "type_id": NULLABLE_STRING, "name": NULLABLE_STRING, "served": INT, "no_shows": INT, "left": INT,
                     "wait_seconds": PERCENTILES, "service_seconds": PERCENTILES})},
                 "by_counter": {"type": "array", "items": obj({
                     "counter_id": NULLABLE_STRING, "name": NULLABLE_STRING, "served": INT,
                     "service_seconds": PERCENTILES})},
                 "days": {"type": "array", "items": obj({
                     "date": STRING, "served": INT, "no_shows": INT, "left": INT, "wait_seconds": PERCENTILES,
                     "service_seconds": PERCENTILES})}},
                ("queue_id", "time_zone", "from", "to", "served", "no_shows", "left", "wait_seconds",
                 "service_seconds", "served_per_hour", "by_service_type", "by_counter", "days"))
ANALYTICS_EXAMPLE = {
    "queue_id": "support", "time_zone": "Europe/Berlin", "from": "2026-12-01", "to": "2026-12-01", "served": 2,
    "no_shows": 1, "left": 0, "wait_seconds": {"p50": 312.4, "p90": 540.0}, "service_seconds": {"p50": 181.0, "p90": 240.2},
    "served_per_hour": [0] * 9 + [2] + [0] * 14,
    "by_service_type": [{"type_id": "6f1c0a52-4b0e-4a43-9d3e-0d1e5b7a9c11", "name": "Returns", "served": 2, "no_shows": 1,
                         "left": 0, "wait_seconds": {"p50": 312.4, "p90": 540.0},
                         "service_seconds": {"p50": 181.0, "p90": 240.2}}],
    "by_counter": [{"counter_id": "desk-3", "name": "Desk 3", "served": 2,
                    "service_seconds": {"p50": 181.0, "p90": 240.2}}],
    "days": [{"date": "2026-12-01", "served": 2, "no_shows": 1, "left": 0, "wait_seconds": {"p50": 312.4, "p90": 540.0},
              "service_seconds": {"p50": 181.0, "p90": 240.2}}]}
SSE = answer("Server-Sent Events: `retry: 2000`, an event per change, a comment every 15 s", STRING,
             media="text/event-stream")


def lines_paths() -> dict:
    t = "lines"
    cfg_body = json_body(obj({"queue_id": ID64, "name": {"type": "string", "minLength": 1, "maxLength": 200},
                              "is_public": BOOL, "avg_service_time": {"type": "number", "exclusiveMinimum": 0,
                                                                      "maximum": 1440}}, ("queue_id", "name")),
                         {"queue_id": "main", "name": "Front desk", "is_public": True, "avg_service_time": 4})
    patch_body = json_body(obj({"name": STRING, "is_public": BOOL, "avg_service_time": NUMBER}),
                           {"name": "Front desk (ground floor)", "avg_service_time": 5})
    type_body = json_body(obj({"name": {"type": "string", "maxLength": 100}, "code": NULLABLE_STRING},
                              ("name",)), {"name": "Returns", "code": "R"})
    served = answer("The person now served, or `{\"message\": \"queue is empty\"}`", ANY_OBJECT,
                    {"served": {**PERSON_EXAMPLE, "status": "served", "served_at": "2026-12-01T21:24:10.002+00:00"}})
    return {
        "/api/{tenant_id}/queues": {
            "parameters": [LINE[0]],
            "post": op(t, "Create a line (201 with its admin key; a repeat is 200 without it)",
                       {"200": answer("Already existed: its config", QUEUE_CONFIG),
                        "201": answer("Created: the config and admin_key (shown once)", QUEUE_CONFIG,
                                      {"tenant_id": "acme", "queue_id": "main", "name": "Front desk",
                                       "is_public": True, "avg_service_time": 4.0,
                                       "admin_key": "02ad8301540b839cae378d7303a2620b35a85a5a7a3b8a43",
                                       "created_at": "2026-12-01T21:20:01.127+00:00"})},
                       body=cfg_body),
            "get": op(t, "The tenant's lines, in creation order", {"200": answer(
                "Lines", obj({"count": INT, "queues": {"type": "array", "items": QUEUE_CONFIG}}, ("count", "queues")),
                {"count": 1, "queues": [{"tenant_id": "acme", "queue_id": "main", "name": "Front desk",
                                         "is_public": True, "avg_service_time": 4.0,
                                         "created_at": "2026-12-01T21:20:01.127+00:00"}]})}),
        },
        "/api/{tenant_id}/queues/{queue_id}": {
            "parameters": LINE,
            "get": op(t, "A line's config", {"200": answer("Config", QUEUE_CONFIG)}),
            "patch": op(t, "Change a line's config", {"200": answer("The new config", QUEUE_CONFIG)},
                        body=patch_body, security=ADMIN),
        },
        "/api/{tenant_id}/queues/{queue_id}/rotate-key": {
            "parameters": LINE,
            "post": op(t, "Replace the admin key", {"200": answer("The new admin key", ANY_OBJECT)}, security=ADMIN),
        },
        "/api/{tenant_id}/{queue_id}/join": {
            "parameters": LINE,
            "post": op(t, "Join the line", {"201": answer(
                "The entry, position, ETA and the leave token (needed to leave)",
                obj({**ENTRY["properties"], "leave_token": STRING}, ("entry", "leave_token")),
                {"entry": PERSON_EXAMPLE, "position": 1, "eta_minutes": 4.0,
                 "leave_token": "aAbW71uanEHwRdy5gMX7xj0Vu-_YgtbY"})},
                       body=json_body(obj({"name": {"type": "string", "minLength": 1, "maxLength": 100},
                                           "service_type_id": NULLABLE_STRING, "tenant_id": STRING,
                                           "queue_id": STRING}, ("name",)), {"name": "Ada"}),
                       description="A private line (`is_public: false`) needs X-Admin-Key."),
        },
        "/api/{tenant_id}/{queue_id}/status/{user_id}": {
            "parameters": [*LINE, USER],
            "get": op(t, "A person's place (finished entries answer for 24 h)", {"200": answer(
                "Entry", ENTRY, {"entry": PERSON_EXAMPLE, "position": 1, "eta_minutes": 4.0})}),
        },
        "/api/{tenant_id}/{queue_id}/status/{user_id}/stream": {
            "parameters": [*LINE, USER],
            "get": op(t, "A person's place, live (SSE)", {"200": SSE}),
        },
        "/api/{tenant_id}/{queue_id}/leave/{user_id}": {
            "parameters": [*LINE, USER],
            "post": op(t, "Leave the line (authorised by the user id)", {"200": answer("Left", ANY_OBJECT)}),
        },
        "/api/{tenant_id}/{queue_id}/boost": {
            "parameters": LINE,
            "post": op(t, "Retired: always 410", {"410": answer("Gone", ERROR)}),
        },
        "/api/{tenant_id}/{queue_id}/serve-next": {
            "parameters": LINE,
            "post": op(t, "Serve the next person", {"200": served}, security=ADMIN),
        },
        "/api/{tenant_id}/{queue_id}/call/{user_id}": {
            "parameters": [*LINE, USER],
            "post": op(t, "Serve a given person out of turn", {"200": served}, security=ADMIN),
        },
        "/api/{tenant_id}/{queue_id}/remove/{user_id}": {
            "parameters": [*LINE, USER],
            "post": op(t, "Remove a person", {"200": answer("Removed", ANY_OBJECT)}, security=ADMIN),
        },
        "/api/{tenant_id}/{queue_id}/no-show/{user_id}": {
            "parameters": [*LINE, USER],
            "post": op(t, "Mark a person as not showing up", {"200": answer("Marked", ANY_OBJECT)}, security=ADMIN),
        },
        "/api/{tenant_id}/{queue_id}/list": {
            "parameters": LINE,
            "get": op(t, "Everyone waiting, in order (paged)",
                      {"200": answer("The line", obj({"count": INT, "queue": {"type": "array"}, "offset": INT},
                                                     ("count", "queue")),
                                     {"count": 1, "queue": [{**PERSON_EXAMPLE, "position": 1, "eta_minutes": 4.0}],
                                      "offset": 0, "avg_service_time": 4.0, "now_serving": None})},
                      [query("offset", {"type": "integer", "minimum": 0}),
                       query("limit", {"type": "integer", "minimum": 1, "maximum": 1000})]),
        },
        "/api/{tenant_id}/{queue_id}/stream": {
            "parameters": LINE,
            "get": op(t, "The line, live (SSE)", {"200": SSE},
                      [query("limit", {"type": "integer", "minimum": 1})]),
        },
        "/api/{tenant_id}/{queue_id}/qr": {
            "parameters": LINE,
            "get": op(t, "QR code (SVG) of the line's public page",
                      {"200": answer("SVG image", STRING, media="image/svg+xml")}),
        },
        "/api/{tenant_id}/{queue_id}/service-types": {
            "parameters": LINE,
            "get": op(t, "The line's service types (public)", {"200": answer(
                "Types", obj({"count": INT, "service_types": {"type": "array", "items": SERVICE_TYPE}},
                             ("count", "service_types")),
                {"count": 1, "service_types": [{"id": "returns", "name": "Returns", "code": "R"}]})}),
            "post": op(t, "Add a service type (at most 100)", {"201": answer("The type", SERVICE_TYPE)},
                       body=type_body, security=ADMIN),
        },
        "/api/{tenant_id}/{queue_id}/service-types/{type_id}": {
            "parameters": [*LINE, TYPE_ID],
            "patch": op(t, "Rename a service type", {"200": answer("The type", SERVICE_TYPE)},
                        body=type_body, security=ADMIN),
            "delete": op(t, "Delete a service type", {"200": answer("Deleted", ANY_OBJECT)}, security=ADMIN),
        },
        "/api/{tenant_id}/queues/{queue_id}/pause": {
            "parameters": LINE,
            "post": op(t, "Pause joins (409 with the message until resume)", {"200": answer("The config", QUEUE_CONFIG)},
                       body=json_body(obj({"message": {"type": "string", "maxLength": 200}}),
                                      {"message": "back at 14:00"}, required=False), security=ADMIN),
        },
        "/api/{tenant_id}/queues/{queue_id}/resume": {
            "parameters": LINE,
            "post": op(t, "Take joins again", {"200": answer("The config", QUEUE_CONFIG)}, security=ADMIN),
        },
        "/api/{tenant_id}/queues/{queue_id}/close-day": {
            "parameters": LINE,
            "post": op(t, "End the day: the people still waiting finish as closed (500 per call)",
                       {"200": answer("How many closed, how many remain", obj({"closed": INT, "remaining": INT}),
                                      {"closed": 3, "remaining": 0})}, security=ADMIN),
        },
        "/api/{tenant_id}/queues/{queue_id}/analytics": {
            "parameters": LINE,
            "get": op(t, "Served, no-shows, left, wait and service percentiles, by hour, type, counter and day",
                      {"200": answer("The analytics of the local days from..to", ANALYTICS, ANALYTICS_EXAMPLE)},
                      [query("from", {"type": "string", "format": "date"}, "first local day (default: to, or today)"),
                       query("to", {"type": "string", "format": "date"}, "last local day (default: today); "
                             "at most 92 days from `from`")], security=ADMIN,
                      description="From per-day counts and histograms (bucket edges about 26% apart; "
                                  "percentiles interpolated within a bucket), kept 400 days."),
        },
        "/api/{tenant_id}/{queue_id}/webhooks": {
            "parameters": LINE,
            "get": op(t, "The line's webhook urls and event topic",
                      {"200": answer("Webhooks", obj({"topic": STRING, "count": INT, "webhooks": {"type": "array"}}),
                                     {"topic": "lines.acme.support", "count": 1,
                                      "webhooks": [{"url": "https://example.com/hook"}]})}, security=ADMIN),
            "post": op(t, "Add a signed webhook for every line event (at most 10)",
                       {"201": answer("Added", ANY_OBJECT), "200": answer("Already there", ANY_OBJECT)},
                       body=json_body(obj({"url": {"type": "string", "maxLength": 2000},
                                           "secret": {"type": "string", "maxLength": 200}}, ("url",)),
                                      {"url": "https://example.com/hook", "secret": "s3cret"}), security=ADMIN),
            "delete": op(t, "Remove a webhook", {"200": answer("Removed", ANY_OBJECT)},
                         [query("url", STRING, "the webhook's url (or {\"url\"} in the body)")], security=ADMIN),
        },
        "/api/{tenant_id}/{queue_id}/history": {
            "parameters": LINE,
            "get": op(t, "The most recently finished people (24 h), newest first",
                      {"200": answer("A page of finished people", obj({"people": {"type": "array", "items": obj({
                          "user_id": STRING, "name": STRING, "ticket": NULLABLE_STRING, "status": STRING,
                          "joined_at": STRING, "called_at": NULLABLE_STRING, "finished_at": STRING,
                          "waited_seconds": NUMBER, "service_seconds": {"type": ["number", "null"]},
                          "counter_id": NULLABLE_STRING})}, "next": NULLABLE_STRING}, ("people", "next")),
                          {"people": [{"user_id": "d70e965f-8ee5-478b-ad0d-89507ec22674", "name": "Ada",
                                       "ticket": "A-014", "status": "served",
                                       "joined_at": "2026-12-01T09:02:11.130+00:00",
                                       "called_at": "2026-12-01T09:14:40.512+00:00",
                                       "finished_at": "2026-12-01T09:14:40.512+00:00", "waited_seconds": 749.4,
                                       "service_seconds": 182.3, "counter_id": "desk-3"}],
                           "next": "1764580480512-d70e965f-8ee5-478b-ad0d-89507ec22674"})},
                      [query("limit", {"type": "integer", "minimum": 1, "maximum": 200}, "default 50"),
                       query("before", STRING, "the previous page's next")], security=ADMIN),
        },
        "/api/{tenant_id}/{queue_id}/counters": {
            "parameters": LINE,
            "get": op(t, "The line's counters and whom each serves (public)", {"200": answer(
                "Counters", obj({"count": INT, "counters": {"type": "array"}}, ("count", "counters")),
                {"count": 1, "counters": [{"id": "desk-3", "name": "Desk 3", "open": True, "service_type_ids": [],
                                           "now_serving": None}]})}),
            "post": op(t, "Add a counter (at most 50)", {"201": answer("The counter", ANY_OBJECT)},
                       body=json_body(obj({"name": {"type": "string", "minLength": 1, "maxLength": 60},
                                           "id": STRING, "open": BOOL,
                                           "service_type_ids": {"type": "array", "items": STRING}}, ("name",)),
                                      {"id": "desk-3", "name": "Desk 3"}), security=ADMIN),
        },
        "/api/{tenant_id}/{queue_id}/counters/{counter_id}": {
            "parameters": [*LINE, COUNTER_ID],
            "patch": op(t, "Rename, open or close a counter, or choose its service types",
                        {"200": answer("The counter", ANY_OBJECT)},
                        body=json_body(obj({"name": STRING, "open": BOOL,
                                            "service_type_ids": {"type": "array", "items": STRING}}),
                                       {"open": False}), security=ADMIN),
            "delete": op(t, "Delete a counter", {"200": answer("Deleted", ANY_OBJECT)}, security=ADMIN),
        },
        "/api/{tenant_id}/{queue_id}/counters/{counter_id}/recall": {
            "parameters": [*LINE, COUNTER_ID],
            "post": op(t, "Announce the person a counter serves again", {"200": answer("The counter", ANY_OBJECT)},
                       security=ADMIN),
        },
        "/api/{tenant_id}/{queue_id}/events": {
            "parameters": LINE,
            "get": op(t, "The line's event log, oldest first",
                      {"200": answer("Events", obj({"count": INT, "events": {"type": "array"}}),
                                     {"count": 1, "events": [{"id": "1764620000000-0", "type": "JOIN"}],
                                      "next": "1764620000000-0"})},
                      [query("since", STRING, "an event id (after it) or a time in ms"),
                       query("limit", {"type": "integer", "minimum": 1})], security=ADMIN),
        },
        "/queue": {"get": op("pages", "Lines: a form to open a line's pages", {"200": answer("HTML page", STRING, media="text/html")})},
        "/queue/{tenant_id}/{queue_id}": {
            "parameters": LINE,
            "get": op("pages", "Lines: public page", {"200": answer("HTML page", STRING, media="text/html")}),
        },
        "/queue/{tenant_id}/{queue_id}/kiosk": {
            "parameters": LINE,
            "get": op("pages", "Lines: kiosk view", {"200": answer("HTML page", STRING, media="text/html")}),
        },
        "/queue/{tenant_id}/{queue_id}/admin": {
            "parameters": LINE,
            "get": op("pages", "Lines: admin panel", {"200": answer("HTML page", STRING, media="text/html")}),
        },
    }


# --- work (seed 001) ---------------------------------------------------------------------------

API_KEY = [{"ApiKey": []}]
QUEUE_NAME = path_param("queue_name", {"type": "string", "minLength": 1, "maxLength": 100}, "work queue name")
ITEM_ID = path_param("item_id", {"type": "string", "maxLength": 100}, "item id (UUID4)")
TRIGGER_NAME = path_param("trigger_name", {"type": "string", "minLength": 1, "maxLength": 100})
STATUS = {"type": "string", "enum": ["NEW", "IN_PROGRESS", "DONE", "FAILED", "ABANDONED"]}
ITEM = obj({"id": STRING, "queue_name": STRING, "status": STATUS, "data": ANY_JSON, "reference": NULLABLE_STRING,
            "message": NULLABLE_STRING, "created_by": NULLABLE_STRING, "created_date": STRING,
            "lease_expires": NULLABLE_STRING, "retries": INT,
            "priority": {"type": "string", "enum": ["High", "Normal", "Low"]}, "defer_until": NULLABLE_STRING,
            "due_date": NULLABLE_STRING, "overdue": BOOL, "exception_type": NULLABLE_STRING, "retry_number": INT,
            "parent_id": NULLABLE_STRING, "retried_as": NULLABLE_STRING})
ITEM_FIELDS = {"data": {"type": ["string", "object", "array", "null"]}, "reference": NULLABLE_STRING,
               "status": STATUS, "message": NULLABLE_STRING, "created_by": NULLABLE_STRING,
               "created_date": NULLABLE_STRING, "priority": {"type": ["string", "null"], "enum": ["High", "Normal", "Low", None]},
               "defer_until": NULLABLE_STRING, "due_date": NULLABLE_STRING}
LEASE = {"type": ["string", "number"], "description": "a duration (90s, 10m, 1h30m) or seconds; at most 24 h",
         "examples": ["10m"]}
LEASE_OR_NULL = {"type": ["string", "number", "null"], "description": "a duration or seconds; null: the default"}
QUEUE_SETTINGS = obj({"max_retries": {"type": ["integer", "null"], "minimum": 0, "maximum": 10},
                      "unique_reference": {"type": ["boolean", "null"]}, "lease": LEASE_OR_NULL,
                      "retention": LEASE_OR_NULL, "events_topic": {"type": ["boolean", "null"]}})
CLAIMED = obj({"success": BOOL, "item": {"oneOf": [ITEM, {"type": "null"}]}, "lease_token": STRING,
               "lease_expires": STRING}, ("success", "item"))
CLAIMED_EXAMPLE = {"success": True, "item": {"id": "75c281b8-c050-4b67-8a3b-f1d66a1633b3", "queue_name": "invoices",
                                             "status": "IN_PROGRESS", "data": None, "reference": None, "message": None,
                                             "created_by": None, "created_date": "2026-12-01T21:20:01.140Z",
                                             "claimed_by": "worker-7", "claimed_date": "2026-12-01T21:20:01.145Z",
                                             "lease_expires": "2026-12-01T21:30:01.145Z", "retries": 0},
                   "lease_token": "17", "lease_expires": "2026-12-01T21:30:01.145Z"}
QUEUE_ROW = obj({"name": STRING, "counts": {"type": "object", "additionalProperties": INT}, "overdue": INT,
                 "deferred": INT, "total": INT}, ("name", "counts", "overdue", "total"))
RUN = obj({"run_id": STRING, "status": {"type": "string", "enum": ["RUNNING", "done", "failed", "expired"]},
           "fired_at": STRING, "ended_at": NULLABLE_STRING}, ("run_id", "status", "fired_at"))
TRIGGER = obj({"trigger_name": STRING, "type": {"type": "string", "enum": ["SINGLE", "QUEUE"]}, "process_status": STRING,
               "queue_name": NULLABLE_STRING, "description": NULLABLE_STRING, "webhook_url": NULLABLE_STRING,
               "webhook_topic": NULLABLE_STRING, "topic": NULLABLE_STRING, "waiting": INT, "min_items": INT,
               "max_running": INT, "run_timeout": {"type": "number"}, "running": INT, "fired": INT,
               "last_fired": NULLABLE_STRING, "runs": {"type": "array", "items": RUN}})
TRIGGER_FIELDS = {"trigger_name": {"type": "string", "minLength": 1, "maxLength": 100},
                  "type": {"type": "string", "enum": ["SINGLE", "QUEUE"]}, "process_status": STRING,
                  "queue_name": NULLABLE_STRING, "description": NULLABLE_STRING,
                  "min_items": {"type": "integer", "minimum": 1, "maximum": 1000000,
                                "description": "QUEUE: a run per min_items waiting items (1)"},
                  "max_running": {"type": "integer", "minimum": 1, "maximum": 100,
                                  "description": "QUEUE: runs active at once at most (1)"},
                  "run_timeout": {"type": ["string", "number"], "description": "QUEUE: a run nobody ends expires (1h)"},
                  "webhook_url": {"type": "string", "maxLength": 2000,
                                  "description": "firings (QUEUE) or status changes (SINGLE) POSTed, signed"},
                  "secret": {"type": "string", "maxLength": 1024,
                             "description": "signs the webhook's deliveries (X-TinyMQ-Signature, X-MicroQ-Signature); never shown"},
                  "publish": {"type": "boolean", "description": "also publish them to a topic"}}


def work_paths() -> dict:
    t = "work"
    item_body = json_body(obj({"queue_name": {"type": "string", "minLength": 1, "maxLength": 100}, **ITEM_FIELDS},
                              ("queue_name",)),
                          {"queue_name": "invoices", "data": {"invoice": 1042}, "reference": "INV-1042"})
    return {
        "/api/queue": {"get": op(
            t, "Every work queue with its counts, by name, paged", {"200": answer(
                "Queues", obj({"queues": {"type": "array", "items": QUEUE_ROW},
                               "next": {"type": ["string", "null"], "description": "the `cursor` of the next page"}},
                              ("queues", "next")),
                {"queues": [{"name": "invoices", "counts": {"NEW": 2, "IN_PROGRESS": 1, "DONE": 7, "FAILED": 0,
                                                            "ABANDONED": 0}, "overdue": 1, "deferred": 0,
                             "total": 10}], "next": None})},
            [query("limit", {"type": "integer", "minimum": 1, "maximum": 100}, "50 unless given"),
             query("cursor", {"type": "string", "maxLength": 100}, "the last name of the previous page")],
            security=API_KEY),
            "post": op(t, "Add a work item", {"201": answer(
            "Created", obj({"success": BOOL, "id": STRING}, ("success", "id")),
            {"success": True, "id": "0b6f5c1e-8a2d-4f0e-9b57-2f1a3c4d5e6f"})},
            [header("Idempotency-Key", "retrying with the same key within 24 h creates nothing more")],
            item_body, API_KEY)},
        "/api/trigger": {"post": op(t, "Set a SINGLE trigger's process status", {"200": answer(
            "Changed", obj({"success": BOOL, "trigger_name": STRING, "new_status": STRING}),
            {"success": True, "trigger_name": "nightly", "new_status": "RUNNING"})},
            body=json_body(obj({"trigger_name": STRING, "process_status": STRING}, ("trigger_name", "process_status")),
                           {"trigger_name": "nightly", "process_status": "RUNNING"}), security=API_KEY)},
        "/api/queue/{queue_name}": {"parameters": [QUEUE_NAME], "get": op(
            t, "Item counts by status", {"200": answer(
                "Counts", obj({"queue_name": STRING, "counts": {"type": "object", "additionalProperties": INT}},
                              ("queue_name", "counts")),
                {"queue_name": "invoices", "counts": {"NEW": 1, "IN_PROGRESS": 0, "DONE": 0, "FAILED": 0,
                                                      "ABANDONED": 0}})}, security=API_KEY)},
        "/api/queue/{queue_name}/items": {"parameters": [QUEUE_NAME], "get": op(
            t, "Items of one status, FIFO, paged", {"200": answer(
                "Items", obj({"queue_name": STRING, "status": STATUS, "total": INT,
                              "items": {"type": "array", "items": ITEM},
                              "next": {"type": ["string", "null"], "description": "the `after` of the next page"}},
                             ("items",)))},
            [query("status", STATUS), query("limit", {"type": "integer", "minimum": 1}),
             query("after", {"type": "integer", "minimum": 0})], security=API_KEY)},
        "/api/queue/{queue_name}/items/{item_id}": {"parameters": [QUEUE_NAME, ITEM_ID], "get": op(
            t, "One item", {"200": answer("Item", ITEM)}, security=API_KEY)},
        "/api/queue/{queue_name}/claim": {"parameters": [QUEUE_NAME], "post": op(
            t, "Claim the oldest NEW item for a lease (it becomes IN_PROGRESS)", {"200": answer(
                "The item and its lease token, or `item: null` when none waits", CLAIMED, CLAIMED_EXAMPLE)},
            [header("Idempotency-Key", "a retried claim gets the same item while its lease holds")],
            json_body(obj({"claimed_by": NULLABLE_STRING, "lease": LEASE}), {"claimed_by": "worker-7", "lease": "10m"},
                      required=False), API_KEY)},
        "/api/queue/{queue_name}/items/{item_id}/heartbeat": {"parameters": [QUEUE_NAME, ITEM_ID], "post": op(
            t, "Renew a claim's lease", {"200": answer("The claim, renewed", CLAIMED, CLAIMED_EXAMPLE)},
            [header("Idempotency-Key", "retries apply once")],
            json_body(obj({"lease_token": STRING, "lease": LEASE}, ("lease_token",)),
                      {"lease_token": "17", "lease": "10m"}), API_KEY,
            description="409 when the token's claim no longer holds the item; 400 without a token.")},
        "/api/queue/{queue_name}/items/{item_id}/status": {"parameters": [QUEUE_NAME, ITEM_ID], "post": op(
            t, "Move an item to another status", {"200": answer("The item", ANY_OBJECT)},
            body=json_body(obj({"status": STATUS, "message": NULLABLE_STRING, "lease_token": STRING}, ("status",)),
                           {"status": "DONE", "message": "sent", "lease_token": "17"}), security=API_KEY)},
        "/api/triggers": {
            "get": op(t, "Every trigger", {"200": answer(
                "Triggers", obj({"triggers": {"type": "array", "items": TRIGGER}}, ("triggers",)))}, security=API_KEY),
            "post": op(t, "Create a trigger", {"201": answer("Created", TRIGGER)},
                       body=json_body(obj(TRIGGER_FIELDS, ("trigger_name",)),
                                      {"trigger_name": "invoice-robot", "type": "QUEUE", "queue_name": "invoices",
                                       "min_items": 10, "max_running": 2, "webhook_url": "https://rpa.example/start"}),
                       security=API_KEY)},
        "/api/triggers/{trigger_name}/runs/{run_id}": {
            "parameters": [TRIGGER_NAME, path_param("run_id", {"type": "string", "maxLength": 200}, "a run's id")],
            "post": op(t, "End a run a QUEUE trigger started (frees its place under max_running)", {"200": answer(
                "The trigger's runs after the end (a next run may have started)",
                obj({"success": BOOL, "trigger_name": STRING, "run_id": STRING, "status": STRING,
                     "process_status": STRING, "running": INT, "fired": INT,
                     "runs": {"type": "array", "items": RUN}}, ("success", "run_id")))},
                [header("Idempotency-Key", "retries apply once")],
                json_body(obj({"status": {"type": "string", "enum": ["done", "failed"]}}), {"status": "done"},
                          required=False), API_KEY,
                description="404 for an unknown trigger or run or a SINGLE trigger; 409 for a run that has ended.")},
        "/api/triggers/{trigger_name}": {
            "parameters": [TRIGGER_NAME],
            "get": op(t, "One trigger", {"200": answer("Trigger", TRIGGER)}, security=API_KEY),
            "delete": op(t, "Delete a trigger", {"200": answer("Deleted", ANY_OBJECT)}, security=API_KEY)},
        "/api/queue/{queue_name}/bulk": {"parameters": [QUEUE_NAME], "post": op(
            t, "Add 1-1000 items, all or nothing", {"201": answer(
                "Created", obj({"success": BOOL, "queue_name": STRING, "count": INT,
                                "ids": {"type": "array", "items": STRING}}, ("success", "ids")))},
            [header("Idempotency-Key", "retrying with the same key within 24 h creates nothing more")],
            json_body({"type": "array", "minItems": 1, "maxItems": 1000, "items": obj(ITEM_FIELDS)},
                      [{"data": {"invoice": 1}, "reference": "INV-1"}, {"reference": "INV-2", "priority": "High"}]),
            API_KEY, description="400 names each invalid item; each item counts against the create rate limit.")},
        "/api/queue/{queue_name}/settings": {
            "parameters": [QUEUE_NAME],
            "get": op(t, "A queue's settings", {"200": answer("Settings", ANY_OBJECT)}, security=API_KEY),
            "put": op(t, "Change a queue's settings", {"200": answer("Settings", ANY_OBJECT)},
                      [header("Idempotency-Key", "retries apply once")],
                      json_body(QUEUE_SETTINGS, {"unique_reference": True, "max_retries": 2, "lease": "10m"},
                                required=False), API_KEY)},
        "/api/queue/{queue_name}/find": {"parameters": [QUEUE_NAME], "get": op(
            t, "Items by exact reference, or by status and creation time, paged", {"200": answer(
                "Items", obj({"queue_name": STRING, "items": {"type": "array", "items": ITEM},
                              "next": {"type": ["string", "null"]}}, ("items",)))},
            [query("reference", STRING), query("status", STATUS), query("from", STRING, "ISO 8601"),
             query("to", STRING, "ISO 8601"), query("limit", {"type": "integer", "minimum": 1}),
             query("after", {"type": "integer", "minimum": 0})], security=API_KEY)},
        "/api/queue/{queue_name}/items/{item_id}/history": {"parameters": [QUEUE_NAME, ITEM_ID], "get": op(
            t, "An item's transitions", {"200": answer("History", obj({"id": STRING, "status": STATUS, "dropped": INT,
                                                                        "history": {"type": "array"}}))},
            security=API_KEY)},
        "/work": {"get": op("pages", "Work: console", {"200": answer("HTML page", STRING, media="text/html")})},
    }


# --- topics (seed 002) ---------------------------------------------------------------------------

MESSAGE = obj({"id": STRING, "topic": STRING, "payload": {"type": "string", "contentEncoding": "base64"},
               "timestamp": STRING, "retry_count": INT, "payload_encoding": STRING, "payload_text": STRING,
               "expires_at": STRING, "deliver_at": STRING, "headers": {"type": "object"},
               "priority": {"type": "string", "enum": ["high", "normal", "low"]}},
              ("id", "topic", "payload", "retry_count"))
PRIORITY = query("priority", {"type": "string", "enum": ["high", "normal", "low"]},
                 "high before normal before low (TinyMQ 3); X-MQ-* request headers are kept as the message's headers")
DURATION = {"type": "string", "examples": ["30s", "500ms", "5m"]}
TOPIC_PATH = path_param("topic", TOPIC, "topic name")


def topics_paths() -> dict:
    t = "topics"
    def missing() -> dict:
        return op(t, "Missing topic: always 400", {"400": answer("missing topic", ERROR, {"error": "missing topic"})})

    publish_params = [query("ttl", DURATION, "drop the message when not consumed in time"),
                      query("delay", DURATION, "hide the message until then"), PRIORITY,
                      query("idempotency", {"type": "string", "enum": ["auto"]},
                            "auto: the same body within 5 min is a duplicate (200 ignored)")]
    accepted = answer("Accepted", obj({"status": STRING, "topic": STRING, "id": STRING}),
                      {"status": "accepted", "topic": "orders.eu", "id": "2b1c0f0e-..."})
    ignored = answer("A duplicate (Idempotency-Key or ?idempotency=auto): nothing stored; the first publish's id(s)",
                     obj({"status": STRING, "reason": STRING, "topic": STRING}),
                     {"status": "ignored", "reason": "idempotency_key_exists", "topic": "orders.eu", "id": "2b1c0f0e-..."})
    return {
        "/publish": {"post": missing()}, "/publish/": {"post": missing()},
        "/consume": {"get": missing()}, "/consume/": {"get": missing()},
        "/webhook": {"post": missing()}, "/webhook/": {"post": missing()},
        "/publish/{topic}": {"parameters": [TOPIC_PATH], "post": op(
            t, "Publish one message (the body is the payload)", {"202": accepted, "200": ignored},
            [*publish_params, query("broadcast", {"type": "string", "enum": ["true", "false", "1", "0"]},
                                    "deliver only to long-polls waiting now")],
            {"required": True, "content": {"*/*": {"schema": {"type": "string", "format": "binary"},
                                                   "example": '{"order": 42}'}}})},
        "/publish/{topic}/batch": {"parameters": [TOPIC_PATH], "post": op(
            t, "Publish many messages at once, all or nothing", {"202": answer(
                "Accepted", obj({"status": STRING, "count": INT, "ids": {"type": "array", "items": STRING}})),
                "200": ignored},
            publish_params, json_body(
                obj({"messages": {"type": "array", "items": obj(
                    {"payload": {"type": "string", "contentEncoding": "base64"}, "ttl": DURATION, "delay": DURATION,
                     "content_type": STRING}, ("payload",))}}, ("messages",)),
                {"messages": [{"payload": "eyJvcmRlciI6IDQyfQ=="}]}))},
        "/consume/{topic}": {"parameters": [path_param("topic", {"type": "string", "maxLength": 255},
                                                        "topic name or a wildcard pattern (orders.*)")],
                             "get": op(t, "Take messages (long-poll with timeout)", {
                                 "200": answer("A message (limit 1) or a list (limit > 1)",
                                               {"oneOf": [MESSAGE, {"type": "array", "items": MESSAGE}]},
                                               {"id": "228c5805-3349-4d34-9f44-34a1887dd07d", "topic": "orders.eu",
                                                "payload": "eyJvcmRlciI6IDQyfQ==",
                                                "timestamp": "2026-12-01T21:20:01.136Z", "retry_count": 0}),
                                 "404": answer("no messages available", ERROR)},
                                       [query("timeout", DURATION, "wait this long for a message (max 60 s)"),
                                        query("limit", {"type": "integer", "minimum": 1, "maximum": 1000}),
                                        query("auto_ack", {"type": "string", "enum": ["true", "false"]}),
                                        query("visibility", DURATION, "lease before redelivery"),
                                        query("peek", {"type": "string", "enum": ["true", "false"]},
                                              "look without leasing (TinyMQ 3)"),
                                        query("filter_key", {"type": "string", "maxLength": 200},
                                              "only messages whose JSON payload has this key ..."),
                                        query("filter_val", {"type": "string", "maxLength": 1000},
                                              "... with this value; the others stay ready"),
                                        query("group", TOPIC, "consume as a member of this consumer group")])},
        "/ack/{topic}/{id}": {"parameters": [TOPIC_PATH, path_param("id", {"type": "string", "maxLength": 200})],
                              "post": op(t, "Acknowledge a consumed message", {"200": answer(
                                  "Acknowledged", ANY_OBJECT, {"status": "success", "message": "Message acknowledged"})},
                                  [query("group", TOPIC, "the consumer group that took it")])},
        "/ack/{topic}": {"parameters": [TOPIC_PATH], "post": op(
            t, "Acknowledge many messages", {"200": answer("Acknowledged", obj({"acknowledged": INT}))},
            body=json_body(obj({"ids": {"type": "array", "items": STRING}}, ("ids",)), {"ids": ["2b1c0f0e-..."]}))},
        "/requeue": {"post": op(t, "Give a message back (or dead-letter it after 3 attempts)", {"202": answer(
            "Requeued", obj({"status": STRING, "id": STRING, "topic": STRING}))},
            body=json_body(obj({"id": STRING, "topic": STRING, "payload": STRING, "retry_count": INT},
                               ("id", "topic")), {"id": "2b1c0f0e-...", "topic": "orders.eu"}))},
        "/webhook/{topic}": {
            "parameters": [TOPIC_PATH],
            "post": op(t, "Register a webhook (push delivery); a secret signs its POSTs", {"201": answer(
                "Registered", obj({"status": STRING, "id": STRING, "url": STRING, "has_secret": BOOL}))},
                body=json_body(obj({"url": {"type": "string", "format": "uri"}, "secret": STRING}, ("url",)),
                               {"url": "https://hooks.example.com/orders", "secret": "s3cret"})),
            "get": op(t, "The topic's webhooks", {"200": answer("Webhooks", obj({"webhooks": {"type": "array"}}))}),
            "delete": op(t, "Remove a webhook by URL", {"200": answer("Removed", ANY_OBJECT)},
                         [query("url", STRING, required=True)])},
        "/webhook/{topic}/{hook_id}": {"parameters": [TOPIC_PATH, path_param("hook_id", STRING)],
                                       "delete": op(t, "Remove a webhook by id", {"200": answer("Removed", ANY_OBJECT)})},
        "/api/topics": {"post": op(t, "Create a topic", {"201": answer(
            "Created", obj({"status": STRING, "name": STRING}), {"status": "created", "name": "orders.eu"})},
            body=json_body(obj({"name": TOPIC, "policy": {"type": "string", "enum": ["reject", "drop-oldest"]},
                                "retain": DURATION}, ("name",)), {"name": "orders.eu", "retain": "24h"}))},
        "/api/stats": {"get": op(t, "Every topic's counts", {"200": answer(
            "Stats", obj({"stats": {"type": "array", "items": obj({"Name": STRING, "MessageCount": INT,
                                                                   "WaitingConsumers": INT, "IsDLQ": BOOL},
                                                                  ("Name", "MessageCount"))},
                          "total_messages": INT}, ("stats",)),
            {"stats": [{"Name": "orders.eu", "MessageCount": 1, "WaitingConsumers": 0, "IsDLQ": False,
                        "HasWebhooks": False, "Ready": 0, "InFlight": 1, "Delayed": 0, "Webhooks": 0,
                        "PendingDeliveries": 0, "FailingDeliveries": 0, "DeadLetters": 0}], "total_webhooks": 0, "total_messages": 1})})},
        "/api/groups": {
            "get": op(t, "A topic's consumer groups (TinyMQ 3)", {"200": answer(
                "Groups", obj({"topic": STRING, "groups": {"type": "array", "items": STRING}}),
                {"topic": "orders", "groups": ["billing"]})}, [query("topic", TOPIC, required=True)]),
            "post": op(t, "Create a consumer group (TinyMQ 3's CreateGroup)", {"201": answer(
                "Created", obj({"status": STRING, "virtual_topic": STRING}),
                {"status": "created", "virtual_topic": "orders::billing"})},
                body=json_body(obj({"topic": TOPIC, "group": TOPIC}, ("topic", "group")),
                               {"topic": "orders", "group": "billing"}))},
        "/api/groups/redrive": {"post": op(t, "Hand a consumer group's dead letters back to it", {"200": answer(
            "Redriven", obj({"moved": INT, "left": INT}))}, [query("topic", TOPIC, required=True),
                                                              query("group", TOPIC, required=True)])},
        "/api/queues/peek": {"get": op(t, "Look at ready messages without taking them", {"200": answer(
            "Messages", {"type": "array", "items": MESSAGE})}, [query("queue", TOPIC, required=True),
                                              query("limit", {"type": "integer", "minimum": 1, "maximum": 100})])},
        "/api/topics/{topic}": {"parameters": [TOPIC_PATH], "delete": op(
            t, "Forget a topic: its messages, webhooks and delivery state", {"200": answer(
                "Deleted", obj({"status": STRING, "topic": STRING, "deleted": INT}, ("status", "topic")),
                {"status": "deleted", "topic": "orders.eu", "deleted": 3})},
            [query("dlq", {"type": "string", "enum": ["true", "false", "1", "0"]}, "its .dlq topic too"),
             header("Idempotency-Key", "a retried delete answers as the first did")])},
        "/api/topics/{topic}/purge": {"parameters": [TOPIC_PATH], "post": op(
            t, "Delete a topic's messages", {"200": answer("Purged", obj({"deleted": INT}))})},
        "/api/topics/{topic}/redrive": {"parameters": [TOPIC_PATH], "post": op(
            t, "Move a .dlq topic's messages back to its source", {"200": answer("Redriven", ANY_OBJECT)})},
        "/dashboard": {"get": op("pages", "Topics: dashboard", {"200": answer("HTML page", STRING, media="text/html")})},
        **tinymq3_paths(),
    }


def tinymq3_paths() -> dict:
    """TinyMQ 3's admin API, streams and cluster status (docs/compat.md, TinyMQ 3)."""
    t = "topics (TinyMQ 3)"
    queue = query("queue", TOPIC, "topic (TinyMQ 3 says queue)", required=True)
    any_json = {"200": answer("TinyMQ 3's answer", ANY_JSON)}
    return {
        "/api/queues": {
            "get": op(t, "Topics as TinyMQ 3's bare array of stats rows", {"200": answer("Rows", {"type": "array"})}),
            "post": op(t, "Create a topic (tmq create)", {"201": answer("Created", ANY_OBJECT,
                       {"status": "topic_created", "name": "orders"})},
                       body=json_body(obj({"name": STRING}, ("name",)), {"name": "orders"}))},
        "/api/queues/publish": {"post": op(t, "Publish (tmq publish)", {"202": answer("Accepted", ANY_OBJECT)},
                                           body=json_body(obj({"queue": STRING, "payload": ANY_JSON}, ("queue",)),
                                                          {"queue": "orders", "payload": "hello"}))},
        "/api/queues/consume": {"post": op(t, "Take one message, acknowledged as taken (tmq consume)",
                                           {"200": answer("A message", ANY_OBJECT), "404": answer("None", ERROR)},
                                           body=json_body(obj({"queue": STRING}, ("queue",)), {"queue": "orders"}))},
        "/api/queues/purge": {
            "post": op(t, "Delete a topic's messages (tmq purge)", {"200": answer("Purged", ANY_OBJECT)}, [queue]),
            "delete": op(t, "Delete a topic's messages", {"200": answer("Purged", ANY_OBJECT)}, [queue])},
        "/api/queues/delete": {
            "delete": op(t, "Forget a topic: its messages, webhooks and delivery state (tmq rm)",
                         {"200": answer("Deleted", ANY_OBJECT, {"status": "deleted", "queue": "orders", "deleted": 3}),
                          "404": answer("No such topic", ERROR)}, [queue]),
            "post": op(t, "Forget a topic (as DELETE)", {"200": answer("Deleted", ANY_OBJECT)}, [queue])},
        "/api/queues/redrive": {"post": op(t, "Move dead letters back (tmq dlq redrive)",
                                           {"200": answer("Redriven", ANY_OBJECT)}, [queue])},
        "/api/queues/webhooks": {
            "get": op(t, "A topic's webhook URLs (tmq webhook list)", {"200": answer("URLs", {"type": "array"})}, [queue]),
            "post": op(t, "Register a webhook", {"201": answer("Registered", ANY_OBJECT)}, [queue],
                       body=json_body(obj({"url": STRING, "secret": STRING}, ("url",)),
                                      {"url": "https://example.com/hook"})),
            "delete": op(t, "Remove a webhook by URL", {"200": answer("Removed", ANY_OBJECT)},
                         [queue, query("url", STRING, "the webhook's URL", required=True)])},
        "/api/cluster/status": {"get": op(t, "This node and its peers (ClusterStatus)", any_json)},
        "/stream/{topic}": {"parameters": [TOPIC_PATH], "get": op(
            t, "Server-Sent Events subscription: messages as they arrive (consumed)",
            {"200": answer("text/event-stream", STRING, media="text/event-stream")})},
        "/ws": {"get": op(t, "WebSocket subscriptions (subscribe, unsubscribe, publish, ping)",
                          {"101": answer("Switching protocols")})},
    }


# --- the foundation ------------------------------------------------------------------------------

def foundation_paths() -> dict:
    t = "operations"
    html = {"200": answer("HTML page", STRING, media="text/html")}
    return {
        "/": {"get": op(t, "Index page: links to every page, the docs and health", html)},
        "/healthz": {"get": op(t, "Liveness; version and role as TinyMQ 3 says them", {"200": answer(
            "Alive", obj({"status": STRING, "version": STRING, "uptime_seconds": INT, "cluster_role": STRING,
                          "cluster_term": INT}, ("status",)),
            {"status": "ok", "version": "0.1.0", "uptime_seconds": 42, "cluster_role": "leader", "cluster_term": 0})})},
        "/readyz": {"get": op(t, "Readiness: Redis answers, scripts loaded", {
            "200": answer("Ready", obj({"status": STRING}), {"status": "ready"}), "503": answer("Not ready", ERROR)})},
        "/metrics": {"get": op(t, "Prometheus metrics", {"200": answer("Text format 0.0.4", STRING, media="text/plain")})},
        "/openapi.json": {"get": op(t, "This document", {"200": answer("OpenAPI 3.1", ANY_OBJECT)})},
    }


def operation_id(method: str, path: str) -> str:
    """`post /webhook/{topic}` -> `post_webhook_topic`; `/` alone is `index`; a trailing slash `_slash`."""
    words = re.findall(r"[A-Za-z0-9]+", path) or ["index"]
    return "_".join([method, *words]) + ("_slash" if path.endswith("/") and path != "/" else "")


def document() -> dict:
    paths = {**foundation_paths(), **lines_paths(), **work_paths(), **topics_paths()}
    for path, item in paths.items():
        for method, operation in item.items():
            if method != "parameters":
                operation.setdefault("operationId", operation_id(method, path))
    return {
        "openapi": "3.1.0",
        "info": {"title": "MicroQ", "version": __version__,
                 "description": "Waiting lines (seed 000), work items and triggers (seed 001) and topics "
                                "(seed 002, TinyMQ) over HTTP, on Redis. Interpretations of each seed: "
                                "docs/compat.md."},
        "tags": [{"name": "lines", "description": "Waiting lines of people"},
                 {"name": "work", "description": "Work items and triggers (X-API-Key)"},
                 {"name": "topics", "description": "The TinyMQ broker"},
                 {"name": "pages"}, {"name": "operations"}],
        "paths": paths,
        "components": {
            "schemas": {"Error": obj({"error": STRING}, ("error",))},
            "securitySchemes": {
                "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key",
                           "description": "MICROQ_API_KEYS or `microq api-key create`"},
                "AdminKey": {"type": "apiKey", "in": "header", "name": "X-Admin-Key",
                             "description": "the line's admin key, returned once by create"},
                "BearerJWT": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                              "description": "with MICROQ_JWT_* set: claims tenant_id (the URL's) and role "
                                             "admin or staff (staff may not change the queue's setup)"}},
        },
    }


def described_operations(doc: dict) -> set[tuple[str, str]]:
    """{(METHOD, path template)} the document describes."""
    return {(method.upper(), path) for path, item in doc["paths"].items()
            for method in item if method in ("get", "post", "put", "patch", "delete")}


def served_operations(app: web.Application) -> set[tuple[str, str]]:
    """{(METHOD, path template)} the app's route table serves, HEAD and non-API routes left out."""
    out = set()
    for route in app.router.routes():
        resource = route.resource
        if resource is None or route.method in ("HEAD", "OPTIONS", "*"):
            continue
        if any(resource.canonical == p or resource.canonical.startswith(p + "/") for p in UNDESCRIBED):
            continue
        out.add((route.method, resource.canonical))
    return out


# --- serving ---------------------------------------------------------------------------------------

_DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>MicroQ API</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script src="/docs/static/docs-init.js"></script>
</body></html>
"""
_DOCS_INIT = """window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true});\n"""

routes = web.RouteTableDef()
_BODY = json.dumps(document(), ensure_ascii=False).encode()


@routes.get("/openapi.json")
async def openapi_json(request: web.Request) -> web.Response:
    return web.Response(body=_BODY, content_type="application/json")


@routes.get("/docs")
async def docs(request: web.Request) -> web.Response:
    if SWAGGER_ASSETS is None:
        raise web.HTTPNotFound()
    return web.Response(text=_DOCS_PAGE, content_type="text/html")


@routes.get("/docs/static/docs-init.js")
async def docs_init(request: web.Request) -> web.Response:
    return web.Response(text=_DOCS_INIT, content_type="application/javascript")


def setup(app: web.Application) -> None:
    app.add_routes(routes)
    if SWAGGER_ASSETS is not None:
        app.router.add_static("/docs/static/", SWAGGER_ASSETS)
