#!/usr/bin/env python3
"""Failover and handoff times of a Bourse cluster (active/standby, or routing by shard), measured on this machine.

    scripts/with-postgres python3 scripts/bench-failover.py [--bourse PATH] [--rounds N]

Starts three `bourse start` processes (node-a, node-b, node-c) on one fresh PostgreSQL database
(POSTGRES_URL's server), all on 127.0.0.1, with a cluster secret. Loads some state (users, deposits,
orders), then for each round:

  * failover: `kill -9` the active node; a client polling a surviving node (GET /v1/orders?limit=1 with a
    user's token, every 5 ms, giving up on a request after 250 ms) measures its outage: the longest time without a 200 until a request succeeds
    after the old active has exited. Then the killed node is restarted (as a standby);
  * handoff: the same with SIGTERM (a graceful handoff).

With `--routing shard` every node serves its share of the shards: the node killed or stopped each round is
the owner of the bench user's account shard (polled through another node), and each round starts once the
restarted node has its share back.

With `--load R`, a background client places R orders per second during those rounds (so the moving
shards have changed and must be snapshotted), through the live nodes in turn.

Then places orders one at a time through the active node and through a standby (forwarded), and reports
the latency of each; and with h2load measures saturated order throughput with every client on the active
node against the same clients spread over the three nodes (two of three forwarded): the 3-vs-1 ratio. Prints a table and, as its last line, one JSON object with every figure.
Everything started here is stopped on exit; the database is dropped.
"""

import argparse
import datetime
import random
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

SECRET = "bench-failover-secret"
ADMIN_PASSWORD = "bench-failover-admin"


_HANDED_OUT = set()


def free_port():
    """A port nobody listens on now, below the kernel's ephemeral range (32768-60999 on Linux): outgoing
    connections take their local ports there, so a port picked there could be taken before a node binds it,
    or while a killed node is down before its restart on the same port."""
    while True:
        port = random.randint(20000, 32000)
        if port in _HANDED_OUT:
            continue
        _HANDED_OUT.add(port)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


def request(port, method, path, body=None, token=None, timeout=10):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, None
    except (urllib.error.URLError, ConnectionError, TimeoutError, socket.timeout):
        return None, None


class Node:
    def __init__(self, binary, node_id, database_url, config, work, routing=None, extra_env=None):
        self.binary, self.node_id, self.database_url, self.config, self.work = binary, node_id, database_url, config, work
        self.routing = routing  # BOURSE_ROUTING: None (the default, active/standby) or "shard"
        self.extra_env = extra_env or {}  # e.g. LD_PRELOAD
        self.process = None
        self.port = None

    def start(self):
        self.port = free_port()
        log = open(os.path.join(self.work, f"{self.node_id}.log"), "ab")
        env = {k: v for k, v in os.environ.items() if not k.startswith("BOURSE_")}
        env["BOURSE_CLUSTER_SECRET"] = SECRET
        env["BOURSE_FEEDS"] = "off"  # no demo feeds or paper liquidity: the figures are the exchange's alone
        if self.routing:
            env["BOURSE_ROUTING"] = self.routing
        env.update(self.extra_env)
        self.process = subprocess.Popen(
            [self.binary, "start", "--config", self.config, "--node-id", self.node_id,
             "--listen", f"127.0.0.1:{self.port}", "--peer-listen", f"127.0.0.1:{free_port()}",
             "--database-url", self.database_url],
            stdout=log, stderr=log, env=env)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.node_id} exited with {self.process.returncode}")
            if request(self.port, "GET", "/readyz", timeout=2)[0] == 200:
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.node_id} not ready")

    def signal(self, number):
        if self.process and self.process.poll() is None:
            self.process.send_signal(number)

    def wait(self, timeout=60):
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def fresh_database(name):
    """Drops and creates database `name` on POSTGRES_URL's server; returns (admin URL, the database's URL)."""
    parts = urllib.parse.urlsplit(os.environ["POSTGRES_URL"])
    admin_url = urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
    database_url = urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))
    subprocess.run(["psql", admin_url, "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True)
    subprocess.run(["psql", admin_url, "-qc", f"CREATE DATABASE {name}"], check=True)
    return admin_url, database_url


def login_admin(port):
    status, login = request(port, "POST", "/v1/auth/login", {"username": "admin", "password": ADMIN_PASSWORD})
    if status != 200:
        raise RuntimeError(f"admin login answered {status}")
    return login["access_token"]


def lease_owners(port, admin_token):
    """Shard → the node id holding its lease (GET /admin/v1/shards), or None if the node did not answer."""
    status, shards = request(port, "GET", "/admin/v1/shards", token=admin_token, timeout=5)
    if status != 200 or not shards:
        return None
    return {shard["shard"]: shard["owner"].split("#")[0] for shard in shards}


def wait_for_spread(nodes, timeout=180):
    """Routing by shard: waits until every shard's lease is held by one of `nodes` and each holds at least 4/5 of
    its fair share (the first node takes everything, then hands shares off as the others join)."""
    token = login_admin(nodes[0].port)
    names = {node.node_id for node in nodes}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        owners = lease_owners(nodes[0].port, token)
        if owners:
            counts = {name: list(owners.values()).count(name) for name in names}
            if set(owners.values()) <= names and min(counts.values()) * 5 >= len(owners) // len(names) * 4:
                print(f"   shards spread: {counts}", flush=True)
                return
        time.sleep(0.5)
    raise RuntimeError("the shards never spread over the nodes")


def account_shard(user_id, shards=1024):
    """`ShardKey.accountShardIndex`: SplitMix64's finalizer of the user id, modulo the shard count."""
    mask = (1 << 64) - 1
    z = (user_id + 0x9E3779B97F4A7C15) & mask
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    return f"accounts/{(z ^ (z >> 31)) % shards:04d}"


def percentile(values, p):
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[index]


def summary(values):
    return {"count": len(values), "p50": percentile(values, 50), "p99": percentile(values, 99),
            "max": max(values), "min": min(values), "mean": statistics.fmean(values)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bourse", default=os.path.join(os.path.dirname(__file__), "../.build/release/bourse"))
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--throughput-seconds", type=int, default=10)
    parser.add_argument("--load", type=float, default=0,
                        help="orders per second placed during the failover and handoff rounds by a background "
                             "client (through the live nodes in turn; failures ignored), so that the shards "
                             "have changed when they move")
    parser.add_argument("--routing", choices=["active_standby", "shard"], default="active_standby",
                        help="cluster.routing of the nodes; with shard, the node killed or stopped each round is "
                             "the owner of the bench user's account shard, and the next round waits until the "
                             "restarted node has its share again (no throughput phase: see bench-load.py)")
    args = parser.parse_args()
    if args.routing == "shard":
        args.throughput_seconds = 0
    database = "bourse_bench_failover"
    admin_url, database_url = fresh_database(database)
    work = tempfile.mkdtemp(prefix="bourse-bench-failover.")
    config = os.path.join(work, "cluster.yaml")
    with open(config, "w") as f:
        f.write(f'auth:\n  admin_password: "{ADMIN_PASSWORD}"\n'
                "limits:\n  requests_per_second: 1000000\n  burst: 1000000\n  login_per_minute: 100000\n")
    binary = os.path.abspath(args.bourse)
    nodes = {i: Node(binary, i, database_url, config, work, routing=args.routing)
             for i in ("node-a", "node-b", "node-c")}
    sharded = args.routing == "shard"
    try:
        for node in nodes.values():
            node.start()
        if sharded:
            wait_for_spread(list(nodes.values()))
        entry = nodes["node-b"]
        credentials = {"username": "bench", "password": "correct horse battery"}
        user_shard = account_shard(int(request(entry.port, "POST", "/v1/auth/register", credentials)[1]["user_id"]))
        token = request(entry.port, "POST", "/v1/auth/login", credentials)[1]["access_token"]
        admin = request(entry.port, "POST", "/v1/auth/login",
                        {"username": "admin", "password": ADMIN_PASSWORD})[1]["access_token"]
        for currency, amount in (("USD", "10000000"), ("BTC", "100")):
            status, _ = request(entry.port, "POST", "/v1/account/deposits", {"currency": currency, "amount": amount},
                                token)
            assert status == 201, status

        def active():
            if sharded:  # the owner of the user's account shard
                for node in nodes.values():
                    if node.process.poll() is None:
                        owners = lease_owners(node.port, admin)
                        if owners and owners.get(user_shard) in nodes:
                            return nodes[owners[user_shard]]
                return None
            for node in nodes.values():
                if node.process.poll() is not None:
                    continue
                status, cluster = request(node.port, "GET", "/admin/v1/cluster", token=admin)
                if status == 200:
                    for member in cluster["members"]:
                        if member["status"] == "serving":
                            return nodes[member["id"]]
            return None

        def place(port, index):
            side = "buy" if index % 2 == 0 else "sell"
            price = "50010" if side == "buy" else "49990"
            started = time.perf_counter()
            status, _ = request(port, "POST", "/v1/orders", {"symbol": "BTC-USD", "side": side, "type": "limit",
                                                            "quantity": "0.001", "price": price}, token)
            assert status == 201, status
            return (time.perf_counter() - started) * 1000

        for index in range(200):
            place(entry.port, index)
        results = {}

        def h2load(port, body_file, seconds, clients, streams):
            out = subprocess.run(
                ["h2load", "-t", "1", "-c", str(clients), "-m", str(streams), "-D", str(seconds),
                 "--warm-up-time=2", "-H", f"authorization: Bearer {token}", "-H", "content-type: application/json",
                 "-d", body_file, f"http://127.0.0.1:{port}/v1/orders"],
                capture_output=True, text=True, check=True).stdout
            for line in out.splitlines():
                if line.startswith("status codes:"):
                    return int(line.split()[2])  # 2xx
            raise RuntimeError(out)

        if args.throughput_seconds > 0:
            bodies = []
            for side, price in (("buy", "50010"), ("sell", "49990")):
                path = os.path.join(work, f"{side}.json")
                with open(path, "w") as f:
                    json.dump({"symbol": "BTC-USD", "side": side, "type": "limit", "quantity": "0.001",
                               "price": price}, f)
                bodies.append(path)
            seconds = args.throughput_seconds
            leader = active()

            def run_parallel(targets):
                import concurrent.futures
                with concurrent.futures.ThreadPoolExecutor(len(targets)) as pool:
                    futures = [pool.submit(h2load, port, body, seconds, clients, 16) for port, body, clients in targets]
                    return sum(f.result() for f in futures) / seconds

            one = run_parallel([(leader.port, bodies[0], 6), (leader.port, bodies[1], 6)])
            ports = [n.port for n in nodes.values()]
            three = run_parallel([(ports[i % 3], bodies[i % 2], 2) for i in range(6)])
            results["orders_per_s_one_entry"] = one
            results["orders_per_s_three_entries"] = three
            results["three_vs_one"] = three / one

        stop_load = threading.Event()
        load_counts = {"placed": 0, "failed": 0}

        def background_load():
            index = 0
            while not stop_load.wait(1.0 / args.load):
                live = [n for n in nodes.values() if n.process and n.process.poll() is None]
                if not live:
                    continue
                node = live[index % len(live)]
                side = "buy" if index % 2 == 0 else "sell"
                status, _ = request(node.port, "POST", "/v1/orders",
                                    {"symbol": "BTC-USD", "side": side, "type": "limit", "quantity": "0.001",
                                     "price": "50010" if side == "buy" else "49990"}, token, timeout=5)
                load_counts["placed" if status == 201 else "failed"] += 1
                index += 1

        loader = threading.Thread(target=background_load, daemon=True) if args.load > 0 else None
        if loader:
            loader.start()
        for mode, number in (("failover", signal.SIGKILL), ("handoff", signal.SIGTERM)):
            times = []
            worst = (0.0, [], None, None, None)
            for _ in range(args.rounds):
                current = active()
                assert current, "no active node"
                survivor = next(n for n in nodes.values() if n is not current and n.process.poll() is None)
                signalled = time.perf_counter()
                signalled_at = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")
                # What the client saw of the round: every answer that was not a quick 200 (ms after the signal,
                # status or "timeout", ms the request took), to tell a slow answer from a refusal.
                trace = []
                current.signal(number)
                # The outage a client sees: the longest time without a 200, from the signal until a request
                # succeeds after the old active has exited (a stopping active still answers for a while).
                last_ok = time.perf_counter()
                longest = 0.0
                deadline = last_ok + 120
                while time.perf_counter() < deadline:
                    # A short client timeout: a request the survivor forwarded to the dead node waits for the
                    # transport's deadline; the client gives up on it and asks again.
                    sent = time.perf_counter()
                    status = request(survivor.port, "GET", "/v1/orders?limit=1", token=token, timeout=0.25)[0]
                    now = time.perf_counter()
                    if status != 200 or now - sent > 0.05:
                        trace.append((round((sent - signalled) * 1000, 1), status or "timeout",
                                      round((now - sent) * 1000, 1)))
                    if status == 200:
                        longest = max(longest, now - last_ok)
                        last_ok = now
                        if current.process.poll() is not None:
                            break
                    time.sleep(0.005)
                times.append(longest * 1000)
                if longest * 1000 > worst[0]:
                    worst = (longest * 1000, trace[:40], current.node_id, survivor.node_id, signalled_at)
                current.wait()
                current.start()
                if sharded:
                    wait_for_spread(list(nodes.values()))
            results[mode] = summary(times)
            results[f"{mode}_worst_round"] = {
                "outage_ms": round(worst[0], 1), "answers": worst[1], "stopped": worst[2], "client_on": worst[3],
                "signalled_at": worst[4], "logs": work}

        if loader:
            stop_load.set()
            loader.join()
            results["background_load"] = {"orders_per_s": args.load, **load_counts}
        # The nodes' side of the handoffs: how long each graceful stop took and what it snapshotted.
        stops = []
        for name in os.listdir(work):
            if name.endswith(".log"):
                with open(os.path.join(work, name), errors="replace") as f:
                    for line in f:
                        if '"exchange stopped' in line and '"stop_ms"' in line:
                            entry = json.loads(line)
                            stops.append((int(entry["stop_ms"]), int(entry["shards_snapshotted"]),
                                          int(entry["snapshot_bytes"])))
        if stops:
            results["node_stop_ms"] = summary([stop[0] for stop in stops])
            results["node_stop_shards_snapshotted"] = summary([stop[1] for stop in stops])
            results["node_stop_snapshot_bytes"] = summary([stop[2] for stop in stops])
        current = active()
        standby = next(n for n in nodes.values() if n is not current)
        results["order_direct_ms"] = summary([place(current.port, i) for i in range(args.orders)])
        results["order_forwarded_ms"] = summary([place(standby.port, i) for i in range(args.orders)])
    finally:
        for node in nodes.values():
            node.signal(signal.SIGKILL)
            if node.process:
                node.process.wait()
        subprocess.run(["psql", admin_url, "-qc", f"DROP DATABASE IF EXISTS {database}"])

    print(f"{'phase':<22}{'count':>6}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    for name in ("failover", "handoff", "order_direct_ms", "order_forwarded_ms"):
        r = results[name]
        print(f"{name:<22}{r['count']:>6}{r['p50']:>10.1f}{r['p99']:>10.1f}{r['max']:>10.1f}")
    if "three_vs_one" in results:
        print(f"orders/s, all clients on the active node: {results['orders_per_s_one_entry']:.0f}; "
              f"spread over 3 nodes: {results['orders_per_s_three_entries']:.0f} "
              f"(ratio {results['three_vs_one']:.2f})")
    print(json.dumps(results))


if __name__ == "__main__":
    sys.exit(main())
