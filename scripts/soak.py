#!/usr/bin/env python3
"""Soak test: one Bourse node under sustained mixed load for a long time, watched for growth that does not stop.

    scripts/with-postgres python3 scripts/soak.py --bourse PATH --bench PATH [--seconds 1500] [--users 10]

Starts one `bourse start` node on a fresh PostgreSQL database (POSTGRES_URL's server; fsync on; no reference
feeds; rate limits out of the way; jemalloc preloaded as in the container image, `--malloc`) and runs `bourse-bench load` against it for `--seconds` (closed loop: every
worker sends its next request when the last one is answered; reads, limit orders and cancels, `--mix`). Every
`--interval` seconds it samples the node's resident memory, threads and open file descriptors, and from
`/metrics` the read-model writer's backlog and the journal's records. Afterwards it runs `GET /admin/v1/verify`
(the exchange's invariants checked against the database), stops the node with SIGTERM (it must exit 0), starts
it again on the same database and checks that every user's balances and open orders are what they were.

A user's in-memory history is capped (orders, fills, ledger rows), and the default mix cancels enough that the
open orders (sampled from the read models) stop growing, so memory grows while the histories fill and should
then stay flat: the script prints the growth of each sampled figure over the run's last `--window`
seconds (per 10 minutes) and fails when the node's memory grew more than `--max-growth-mb` per 10 minutes there,
when threads or descriptors ended that window higher than they began it (by more than 2), when a request was
answered anything but 2xx (a cancel of an order that filled meanwhile is 409 and expected) or not at all, when
verify reports a violation, or when the restart changed what a user owns. The defaults (10 users, 25 minutes)
let every history reach its cap before the window starts. Last line: one JSON object with every figure.
Everything started here is stopped on exit (SIGTERM included); the database is dropped.
"""

import argparse
import importlib.util
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("bench_failover", os.path.join(here, "bench-failover.py"))
failover = importlib.util.module_from_spec(spec)
spec.loader.exec_module(failover)


def process_figures(pid):
    status = open(f"/proc/{pid}/status").read()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return {
        "rss_mb": int(fields["VmRSS"].split()[0]) / 1024,
        "threads": int(fields["Threads"]),
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
    }


def metrics(port):
    """The node's /metrics as {name with labels: value} (the lines that parse as numbers)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    values = {}
    for line in text.splitlines():
        if line.startswith("#") or " " not in line:
            continue
        name, value = line.rsplit(" ", 1)
        try:
            values[name] = float(value)
        except ValueError:
            pass
    return values


def server_errors(values):
    """Responses with a 5xx status the node counted (its HTTP metrics, every route)."""
    return sum(v for k, v in values.items() if k.startswith("hb_requests{") and 'http_response_status_code="5' in k)


def jemalloc_env(allocator):
    """The node's environment for `allocator`: jemalloc preloaded, as the container image runs it, or glibc's."""
    if allocator == "glibc":
        return {}
    listing = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
    paths = [line.split("=>")[-1].strip() for line in listing.splitlines() if "libjemalloc.so.2 " in line]
    if not paths:
        sys.exit("soak: libjemalloc.so.2 not found: install Debian's libjemalloc2, or pass --malloc glibc")
    return {"LD_PRELOAD": paths[0]}


def open_orders(database_url):
    """Open orders (resting or untriggered) as the read models hold them: state that may grow with the load."""
    out = subprocess.run(["psql", database_url, "-tAc",
                          "SELECT count(*) FROM orders WHERE status IN ('new', 'partially_filled', 'pending_trigger')"],
                         capture_output=True, text=True)
    return int(out.stdout.strip()) if out.returncode == 0 and out.stdout.strip().isdigit() else -1


def slope_per_10_min(samples, key):
    """Least-squares growth of `key` per 10 minutes over the samples (time in seconds)."""
    n = len(samples)
    if n < 2:
        return 0.0
    xs = [s["t"] for s in samples]
    ys = [s[key] for s in samples]
    mx, my = sum(xs) / n, sum(ys) / n
    var = sum((x - mx) ** 2 for x in xs)
    return 0.0 if var == 0 else 600 * sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / var


def holdings(port, tokens):
    """Each user's balances and open orders, as the node answers them."""
    owned = {}
    for user, token in tokens.items():
        status, balances = failover.request(port, "GET", "/v1/account/balances", token=token, timeout=30)
        status2, orders = failover.request(port, "GET", "/v1/orders?status=open&limit=1000", token=token, timeout=30)
        if status != 200 or status2 != 200:
            raise RuntimeError(f"reading user {user} answered {status} / {status2}")
        owned[user] = {
            "balances": sorted((b["currency"], b["available"], b["locked"]) for b in balances),
            "open_orders": sorted((o["order_id"], o["remaining_quantity"], o["status"]) for o in orders),
        }
    return owned


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bourse", default=os.path.join(here, "../.build/release/bourse"))
    parser.add_argument("--bench", default=os.path.join(here, "../.build/release/bourse-bench"))
    parser.add_argument("--seconds", type=float, default=1500)
    parser.add_argument("--interval", type=float, default=30)
    parser.add_argument("--users", type=int, default=10,
                        help="few enough that their histories (orders, fills, ledger rows) reach their cap before "
                             "the window: memory grows until then")
    parser.add_argument("--window", type=float, default=600,
                        help="seconds at the end of the run over which growth is judged")
    parser.add_argument("--workers", type=int, default=48)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--mix", default="50,30,20",
                        help="percent of reads, orders, cancels; enough cancels that the open orders stop growing "
                             "(at 60,30,10 they grew by ~25 a second here, and memory with them)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--malloc", choices=("jemalloc", "glibc"), default="jemalloc",
                        help="the node's allocator: jemalloc as in the container image (glibc's grows a new arena "
                             "when the runtime starts another thread, a step of tens of MB)")
    parser.add_argument("--max-growth-mb", type=float, default=20,
                        help="largest growth of the node's memory per 10 minutes allowed over the window")
    args = parser.parse_args()

    node_env = jemalloc_env(args.malloc)
    database = "bourse_soak"
    admin_url, database_url = failover.fresh_database(database)
    work = tempfile.mkdtemp(prefix="bourse-soak.")
    config = os.path.join(work, "cluster.yaml")
    with open(config, "w") as f:
        f.write(f'auth:\n  admin_password: "{failover.ADMIN_PASSWORD}"\n  access_token_ttl_seconds: 86400\n'
                "limits:\n  requests_per_second: 1000000\n  burst: 1000000\n  login_per_minute: 100000\n")
    node = failover.Node(os.path.abspath(args.bourse), "soak", database_url, config, work,
                         extra_env=node_env)
    # Stopped from outside: unwind, so that the node, the load and the database go too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    load = None
    failures = []
    samples = []
    result = {"seconds": args.seconds, "users": args.users, "workers": args.workers, "mix": args.mix,
              "malloc": args.malloc}
    try:
        node.start()
        started = time.monotonic()
        command = [os.path.abspath(args.bench), "load", "--nodes", f"127.0.0.1:{node.port}",
                   "--users", str(args.users), "--workers", str(args.workers),
                   "--connections", str(args.connections), "--mix", args.mix,
                   "--seconds", str(args.seconds), "--warmup", "0", "--seed", str(args.seed), "--run", f"soak{args.seed}"]
        print(f"== soak: {' '.join(command[1:])}", flush=True)
        load = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        output = {}
        reader = threading.Thread(target=lambda: output.update(zip(("out", "err"), load.communicate())))
        reader.start()
        print(f"{'t':>6} {'rss MB':>8} {'threads':>7} {'fds':>5} {'journal rec':>12} {'read-model backlog':>18} "
              f"{'open orders':>11}", flush=True)
        while reader.is_alive():
            reader.join(timeout=args.interval)
            figures = process_figures(node.process.pid)
            values = metrics(node.port)
            figures["t"] = time.monotonic() - started
            figures["journal_records"] = values.get("bourse_journal_records_total", 0)
            figures["projection_pending_rows"] = values.get("bourse_projection_pending_rows", 0)
            figures["open_orders"] = open_orders(database_url)
            samples.append(figures)
            print(f"{figures['t']:6.0f} {figures['rss_mb']:8.1f} {figures['threads']:7d} {figures['fds']:5d} "
                  f"{figures['journal_records']:12.0f} {figures['projection_pending_rows']:18.0f} "
                  f"{figures['open_orders']:11d}", flush=True)
        if load.returncode != 0:
            failures.append(f"bourse-bench load exited with {load.returncode}: {output.get('err', '')[-2000:]}")
        else:
            sys.stdout.write(output["out"])
            result["load"] = json.loads(output["out"].strip().splitlines()[-1])
            unexpected = result["load"].get("failures") or {}
            if unexpected:
                failures.append(f"answers other than 2xx (and 409 to a cancel): {unexpected}")
            if result["load"].get("transport_errors"):
                failures.append(f"{result['load']['transport_errors']} requests got no answer")

        # The run's end, once every user's history is full.
        late = [s for s in samples if s["t"] >= samples[-1]["t"] - args.window]
        growth = {key: round(slope_per_10_min(late, key), 2) for key in ("rss_mb", "threads", "fds", "open_orders")}
        result["window_seconds"] = args.window
        result["growth_per_10_min_in_window"] = growth
        result["rss_mb"] = {"first": samples[0]["rss_mb"], "peak": max(s["rss_mb"] for s in samples),
                            "last": samples[-1]["rss_mb"]}
        print(f"growth per 10 minutes over the last {args.window:.0f} s: {growth}", flush=True)
        if growth["rss_mb"] > args.max_growth_mb:
            failures.append(f"memory grew {growth['rss_mb']} MB per 10 minutes over the last {args.window:.0f} s")
        for key in ("threads", "fds"):
            if late and late[-1][key] > late[0][key] + 2:
                failures.append(f"{key} grew from {late[0][key]} to {late[-1][key]} over the last {args.window:.0f} s")
        errors = server_errors(metrics(node.port))
        result["server_errors"] = errors
        if errors:
            failures.append(f"{errors:.0f} responses with a 5xx status")

        admin = failover.login_admin(node.port)
        status, verify = failover.request(node.port, "GET", "/admin/v1/verify", token=admin, timeout=300)
        result["verify"] = verify
        if status != 200 or not verify or not verify.get("ok", False):
            failures.append(f"verify answered {status}: {json.dumps(verify)[:2000]}")

        # What every user owns must survive a graceful restart on the same database.
        tokens = {}
        for index in range(args.users):
            username = f"loadsoak{args.seed}u{index}"
            status, login = failover.request(node.port, "POST", "/v1/auth/login",
                                             {"username": username, "password": "load-bench-password"})
            if status == 200:
                tokens[username] = login["access_token"]
        if len(tokens) != args.users:
            failures.append(f"only {len(tokens)} of {args.users} load users could log in")
        before = holdings(node.port, tokens)
        node.signal(15)
        stop_started = time.monotonic()
        code = node.wait(timeout=120)
        result["sigterm_exit"] = code
        result["sigterm_seconds"] = round(time.monotonic() - stop_started, 2)
        if code != 0:
            failures.append(f"SIGTERM: the node exited with {code}")
        restart_started = time.monotonic()
        node.start()
        result["restart_ready_seconds"] = round(time.monotonic() - restart_started, 2)
        after = holdings(node.port, tokens)
        changed = [user for user in before if before[user] != after.get(user)]
        result["users_changed_by_restart"] = len(changed)
        if changed:
            failures.append(f"{len(changed)} users own something else after the restart, e.g. {changed[0]}: "
                            f"{before[changed[0]]} then {after.get(changed[0])}")
    finally:
        if load and load.poll() is None:
            load.kill()
        node.signal(15)
        if node.process:
            node.wait(timeout=60)
        subprocess.run(["psql", admin_url, "-qc", f"DROP DATABASE IF EXISTS {database}"], check=False)
    result["samples"] = samples
    result["failures"] = failures
    for failure in failures:
        print(f"soak: FAILED: {failure}", file=sys.stderr)
    print(json.dumps(result, sort_keys=True))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
