"""Monthly figures for docs/cost.md from the measured units: the usage assumed per person, Heping's scale, and the
prices (see docs/cost.md for which are confirmed).

    .venv/bin/python -m infra.proof.cost_units --json /tmp/units.json && .venv/bin/python -m infra.proof.cost_month /tmp/units.json
"""
import json
import sys

_UNITS = json.load(open(sys.argv[1] if len(sys.argv) > 1 else "units.json"))
U = {r["route"]: r for r in _UNITS["rows"]}
STORAGE = _UNITS["results"]["storage"]


def units(route):
    r = U[route]
    return r.get("rru", 0), r.get("wru_table", 0) + r.get("wru_gsi", 0)


def growth(route):
    """Bytes a request adds for good (the Idempotency-Key record expires in 24 h: left out)."""
    r = U[route]
    return sum(v for k, v in r["by_table"].items() if k.endswith(":storage_delta") and not k.startswith("idempotency"))


WECHAT_ROUTES = {"POST /v1/auth/login (returning user)", "POST /v1/auth/login (new user)", "POST /v1/wishes",
                 "POST /v1/requests", "GET /v1/events/{event_id}/qrcode"}
MS_PLAIN, MS_WECHAT, MS_MESSAGE, MS_FANOUT, MS_SCHEDULER = 60, 200, 200, 100, 400  # billed ms (assumed)
MEMORY_GB = 0.5

RESIDENT = {
    "POST /v1/auth/login (returning user)": 8, "GET /v1/me": 8, "GET /v1/wishes": 8, "GET /v1/events": 8,
    "GET /v1/wishes/{wish_id}": 3, "POST /v1/wishes": 0.5, "POST /v1/wishes/{wish_id}/confirm": 0.5,
    "GET /v1/wishes/mine": 1,
    "GET /v1/events/{event_id}": 2, "POST /v1/events/{event_id}/signup": 1, "POST /v1/checkins": 2,
    "GET /v1/me/events": 1,
    "GET /v1/me/points": 2, "GET /v1/leaderboard": 1,
    "GET /v1/stores": 1, "GET /v1/stores/{store_id}/goods": 2, "POST /v1/redemptions": 0.5,
    "POST /v1/redemptions/verify": 0.5, "GET /v1/redemptions/mine": 1,
    "POST /v1/requests": 0.2, "GET /v1/requests/{request_id}": 1, "POST /v1/requests/{request_id}/rate": 0.2,
    "GET /v1/requests/mine": 0.5,
    "POST /v1/me/subscriptions": 1, "GET /v1/me/subscriptions": 1,
}
RESIDENT_MESSAGES, RESIDENT_FANOUTS = 3, 0.2 + 0.1  # request_new to the grid; share of an event reminder

VOLUNTEER = {
    "POST /v1/auth/login (returning user)": 12, "GET /v1/me": 12, "GET /v1/wishes": 12, "GET /v1/events": 12,
    "GET /v1/wishes/{wish_id}": 4, "POST /v1/wishes/{wish_id}/claim": 1, "POST /v1/wishes/{wish_id}/fulfil": 1,
    "GET /v1/wishes/claimed": 2,
    "GET /v1/events/{event_id}": 4, "POST /v1/events/{event_id}/signup": 3, "DELETE /v1/events/{event_id}/signup": 0.5,
    "POST /v1/checkins": 6, "GET /v1/me/events": 2, "GET /v1/me/volunteer-record": 2,
    "GET /v1/me/points": 2, "GET /v1/leaderboard": 2,
    "GET /v1/stores/{store_id}/goods": 1, "POST /v1/redemptions": 0.5, "POST /v1/redemptions/verify": 0.5,
    "GET /v1/redemptions/mine": 1,
    "POST /v1/me/subscriptions": 1, "GET /v1/me/subscriptions": 1,
}
VOLUNTEER_MESSAGES, VOLUNTEER_FANOUTS = 4, 0.1

WORKER_FIXED = {
    "POST /v1/auth/login (returning user)": 22, "GET /v1/me": 22, "GET /v1/grid/tasks": 44,
    "POST /v1/points/awards": 10, "POST /v1/me/subscriptions": 2, "GET /v1/me/subscriptions": 1,
}
PER_REQUEST_HANDLED = {"GET /v1/requests/{request_id}": 2, "POST /v1/requests/{request_id}/accept": 1,
                       "POST /v1/requests/{request_id}/resolve": 1, "POST /v1/requests/{request_id}/escalate": 0.1}
WORKER_REQUESTS = 40
WORKER = {**WORKER_FIXED, **{k: v * WORKER_REQUESTS for k, v in PER_REQUEST_HANDLED.items()}}
WORKER_MESSAGES = WORKER_REQUESTS  # request_new, one per request of their grid (they accepted it)

MESSAGE = "sender: one message"
FANOUT = "sender: fan-out expanded"
SCHEDULER = "scheduler: an idle run"
RUNS = 30 * 24 * 12


def persona(usage, messages, fanouts):
    rru = wru = requests = gbs = grow = 0.0
    for route, n in usage.items():
        r, w = units(route)
        rru += n * r
        wru += n * w
        requests += n
        gbs += n * MEMORY_GB * (MS_WECHAT if route in WECHAT_ROUTES else MS_PLAIN) / 1000
        grow += n * growth(route)
    r, w = units(MESSAGE)
    rru += messages * r
    wru += messages * w
    grow += messages * growth(MESSAGE)
    r, w = units(FANOUT)
    rru += fanouts * r
    wru += fanouts * w
    grow += fanouts * growth(FANOUT)
    invocations = requests + messages + fanouts
    gbs += messages * MEMORY_GB * MS_MESSAGE / 1000 + fanouts * MEMORY_GB * MS_FANOUT / 1000
    return {"requests": requests, "messages": messages, "rru": rru, "wru": wru, "invocations": invocations,
            "gbs": gbs, "growth": grow}


P = {"resident": persona(RESIDENT, RESIDENT_MESSAGES, RESIDENT_FANOUTS),
     "volunteer": persona(VOLUNTEER, VOLUNTEER_MESSAGES, VOLUNTEER_FANOUTS),
     "grid worker": persona(WORKER, WORKER_MESSAGES, 0)}

# --- prices (CNY, cn-northwest-1) ---------------------------------------------------------------------------------
PRICE = {
    "wru": 11.1538 / 1e6, "rru": 2.2308 / 1e6, "storage_gb": 2.0, "pitr_gb": 1.6,
    "lambda_req": 1.36 / 1e6, "lambda_gbs": 0.0000907816, "apigw_req": 28.9 / 1e6,
    "logs_gb": 4.0, "logs_store_gb": 0.2, "metric": 2.0, "alarm_metric": 0.7,
}
LOG_BYTES_PER_REQUEST = 1200  # START/END/REPORT + our request line + a use-case line (+ an EMF line when counted)


def cost(p):
    return {"dynamodb": p["wru"] * PRICE["wru"] + p["rru"] * PRICE["rru"],
            "lambda": p["invocations"] * PRICE["lambda_req"] + p["gbs"] * PRICE["lambda_gbs"],
            "apigw": p["requests"] * PRICE["apigw_req"],
            "logs": p["invocations"] * LOG_BYTES_PER_REQUEST / 1e9 * PRICE["logs_gb"]}


def main():
    print("## per route")
    print("| route | RRU | WRU (table) | WRU (indexes) | WRU total | bytes stored for good |")
    print("|---|---|---|---|---|---|")
    for route, r in U.items():
        print(f"| {route} | {r.get('rru', 0):g} | {r.get('wru_table', 0):g} | {r.get('wru_gsi', 0):g} | "
              f"{r.get('wru_table', 0) + r.get('wru_gsi', 0):g} | {growth(route):.0f} |")
    print()
    print("## personas")
    for name, p in P.items():
        c = cost(p)
        print(name, {k: round(v, 3) for k, v in p.items()}, {k: round(v, 4) for k, v in c.items()},
              "total ¥", round(sum(c.values()), 4))
    for label, share in (("all active", 1.0), ("30% active", 0.3)):
        residents, volunteers, workers = (355_600 - 110_000) * share, 110_000 * share, 804
        total = {k: residents * P["resident"][k] + volunteers * P["volunteer"][k] + workers * P["grid worker"][k]
                 for k in P["resident"]}
        # the grid workers' request handling follows the residents' submissions: scale it
        submitted = residents * RESIDENT["POST /v1/requests"]
        handled = workers * WORKER_REQUESTS
        scale = submitted / handled
        extra = {"rru": 0, "wru": 0, "requests": 0, "invocations": 0, "gbs": 0, "messages": 0, "growth": 0}
        for route, n in PER_REQUEST_HANDLED.items():
            r, w = units(route)
            extra["rru"] += (scale - 1) * handled * n * r
            extra["wru"] += (scale - 1) * handled * n * w
            extra["requests"] += (scale - 1) * handled * n
            extra["invocations"] += (scale - 1) * handled * n
            extra["gbs"] += (scale - 1) * handled * n * MEMORY_GB * MS_PLAIN / 1000
            extra["growth"] += (scale - 1) * handled * n * growth(route)
        r, w = units(MESSAGE)
        extra_msgs = (scale - 1) * handled * 2.28  # each request_new reaches the grid's workers
        extra["messages"] = extra_msgs - (scale - 1) * handled
        for k in ("rru", "wru"):
            extra[k] += extra["messages"] * (r if k == "rru" else w)
        extra["invocations"] += extra["messages"]
        total = {k: total[k] + extra[k] for k in total}
        sr, sw = units(SCHEDULER)
        total["rru"] += RUNS * sr
        total["invocations"] += RUNS
        total["gbs"] += RUNS * MEMORY_GB * MS_SCHEDULER / 1000
        c = cost(total)
        print(label, f"request-scale {scale:.2f}", {k: f"{v:,.0f}" for k, v in total.items()},
              {k: f"¥{v:,.0f}" for k, v in c.items()}, f"total ¥{sum(c.values()):,.0f}")
    print(STORAGE)


main()


def by_table(usage, messages, fanouts):
    out = {}
    for route, n in list(usage.items()) + [(MESSAGE, messages), (FANOUT, fanouts)]:
        for k, v in U[route]["by_table"].items():
            if k.endswith(":storage_delta"):
                t = k.split(":")[0].split(".")[0]
                out[t] = out.get(t, 0) + n * v
    return out


for name, args in (("resident", (RESIDENT, RESIDENT_MESSAGES, RESIDENT_FANOUTS)),
                   ("volunteer", (VOLUNTEER, VOLUNTEER_MESSAGES, VOLUNTEER_FANOUTS)),
                   ("worker", (WORKER, WORKER_MESSAGES, 0))):
    print(name, {k: round(v) for k, v in sorted(by_table(*args).items(), key=lambda kv: -kv[1])})
