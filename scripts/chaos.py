#!/usr/bin/env python3
"""Chaos run of a Bourse cluster: random faults under continuous trading, and the invariants after each one.

    scripts/with-postgres python3 scripts/chaos.py --bourse PATH [--nodes 3..5] [--faults N] [--seconds S]
                                                   [--seed K] [--users U] [--kinds kill9,sigstop,...]

Short variant (CI, debug binary, under 3 minutes):
    scripts/with-postgres python3 scripts/chaos.py --bourse .build/debug/bourse --nodes 3 --faults 8 --seconds 170
Long variant (by hand):
    scripts/with-postgres python3 scripts/chaos.py --bourse .build/release/bourse --nodes 5 --faults 1000 \\
        --seconds 36000

What it does (docs/reliability.md says more):

* Creates its own database on POSTGRES_URL's server (dropped on exit) and starts NODES `bourse start` processes on
  loopback with a cluster secret, each in its own cgroup (v2) so that iptables' `cgroup` match can tell their
  outgoing connections apart (on loopback every connection's source address is 127.0.0.1, so addresses cannot).
* Registers USERS users (>= 20), deposits for them (with Idempotency-Key), and runs one trading thread per user:
  limit (gtc/ioc) and market orders, cancels, cancel-all and reads on BTC-USD and ETH-USD, each request through a
  random node. An order carries a client_order_id and a retry after a timeout, a connection error, a 503, 429 or
  5xx sends the very same body again (a retried deposit reuses its Idempotency-Key). Every acknowledged order
  (201, or 200 for a replay) and every fill a response told of is recorded.
* Injects FAULTS faults chosen with the seed: kill -9 of a random node then restart; SIGSTOP longer than the lease
  then SIGCONT (a thawed node that stops by itself is restarted); SIGTERM then restart; a node joining (an extra
  node, removed by SIGTERM a few faults later: `leave`); `bourse admin drain` of a node (the active one mostly)
  then its restart; a network partition (one node isolated, the nodes split in two groups, or one link cut:
  iptables DROP of the peer and client ports, both ways, by cgroup) healed after a bounded time. Before a node is
  killed, stopped or terminated its /metrics is scraped (counters restart at zero with the process).
  Opt-in (`--kinds ...,dbstop`, not in the default set): `dbstop`, PostgreSQL itself crashed (`pg_ctl stop -m
  immediate`) for 2-15 s and started again (`pg_ctl start -w`); it needs the server of scripts/with-postgres, which
  exports POSTGRES_PG_CTL, POSTGRES_DATA_DIR and POSTGRES_LOG_FILE (without them, e.g. POSTGRES_URL naming an
  outside server, the kind is skipped and the run says so). Client failures during the outage and until every node
  serves again (503s, timeouts, connection errors, all retried) are expected; a node that stops by itself then is
  expected only when it lost its role (its leases lapsed or were taken), any other self-exit is a violation.
* After each fault, once every node answers again (polled, no fixed sleeps), with the trading paused: every
  acknowledged order recorded since the last check, every one not yet final, and a random sample of the others
  (all of them while there are at most --full-check-limit, and all of them at the end) is read back by id
  through a random node and must be there, with the same content, a status that never went back from a final
  one, a filled quantity that never decreased and every fill told of still listed; `bourse admin verify` (the
  CLI) must pass; and in the database: journal epochs never decrease along a shard's sequence and no journal
  row is above its shard's lease epoch; no fill is settled twice (TRADE rows per user, fill and currency;
  trade_history rows per trade); no client_order_id names two orders. At the end, in addition: every fill told
  of is settled on both sides in the read models and every acknowledged order is in the `orders` read model.
* Prints a summary (faults by kind, requests, client-visible failures by kind -- 503s with Retry-After are
  expected during failovers and counted apart from real errors --, invariant violations, stale-epoch refusals,
  recovery times, faults per minute, duration) and, as its last line, one JSON object. Exits 1 on any invariant
  violation, lost acknowledged order, unrecovered cluster, node crash (a process dead of a signal it was not
  sent) or 5xx other than 503; 2 on a harness failure.
  Evidence (node logs, a pg_dump, the violations) goes to --evidence-dir/<run>/ when something fails.

Partitions need root, a cgroup2 mount and iptables with the cgroup match (`apt-get install -y iptables`);
without them partitions are skipped (said in the output). Everything started here is stopped on exit, Ctrl-C
and errors included (a PostgreSQL server stopped by a `dbstop` is started again).
"""

import argparse
import collections
import concurrent.futures
import datetime
import http.client
import json
import os
import random
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
from decimal import Decimal

SECRET = "chaos-cluster-secret"
ADMIN_PASSWORD = "chaos-admin-password"
USER_PASSWORD = "chaos user password"
MARKETS = {
    # symbol: (mid price, price step, quantity step); BTC-USD and ETH-USD are the built-in demo markets.
    "BTC-USD": (Decimal("100.00"), Decimal("0.01"), Decimal("0.0001")),
    "ETH-USD": (Decimal("50.00"), Decimal("0.01"), Decimal("0.01")),
}
DEPOSITS = (("USD", "10000000"), ("BTC", "100000"), ("ETH", "1000000"))
FINAL = {"filled", "cancelled", "rejected"}
FAULT_WEIGHTS = {"kill9": 20, "sigstop": 14, "sigterm": 14, "join": 10, "drain": 14, "partition": 28, "dbstop": 14}
# Drawn from only when named in --kinds: the default set is what CI runs.
OPT_IN_KINDS = ("dbstop",)
DEFAULT_KINDS = [k for k in FAULT_WEIGHTS if k not in OPT_IN_KINDS]
# Why a node that stops by itself after a `dbstop` may: it lost its role (ActiveRole.keepLeases: its leases lapsed
# while it could not renew them, or another node took them). Any other reason is a `node_exit` violation.
ROLE_LOSS_LINES = ("lease renewals failed for too long: stopping", "a lease was taken by another node: stopping")
METRIC = "bourse_journal_stale_epoch_refusals"


def log(message):
    print(f"[{datetime.datetime.now().strftime('%H:%M:%S.%f')[:-3]}] {message}", flush=True)


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


class Reply:
    __slots__ = ("status", "body", "retry_after", "error", "port")

    def __init__(self, status, body=None, retry_after=None, error=None, port=None):
        self.status, self.body, self.retry_after, self.error = status, body, retry_after, error
        self.port = port


def call(port, method, path, body=None, token=None, headers=None, timeout=5.0):
    """One HTTP/1.1 request on a fresh connection. Never raises: a transport failure is `Reply(None, error=kind)`."""
    data = None if body is None else json.dumps(body).encode()
    h = {"Content-Type": "application/json"} if data is not None else {}
    if token:
        h["Authorization"] = f"Bearer {token}"
    h.update(headers or {})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=data, headers=h)
        response = conn.getresponse()
        raw = response.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode(errors="replace")
        return Reply(response.status, parsed, response.getheader("Retry-After"), port=port)
    except (socket.timeout, TimeoutError):
        return Reply(None, error="timeout")
    except ConnectionRefusedError:
        return Reply(None, error="connection_refused")
    except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected, http.client.IncompleteRead):
        return Reply(None, error="connection_reset")
    except (OSError, http.client.HTTPException) as error:
        return Reply(None, error=f"transport_{type(error).__name__}")
    finally:
        conn.close()


class Stats:
    """Thread-safe counters by name."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts = collections.Counter()

    def add(self, name, n=1):
        with self.lock:
            self.counts[name] += n

    def get(self, name):
        with self.lock:
            return self.counts[name]

    def snapshot(self, prefix):
        with self.lock:
            return {k[len(prefix):]: v for k, v in sorted(self.counts.items()) if k.startswith(prefix)}


# --------------------------------------------------------------------------------------------------------------
# Nodes, partitions


class Node:
    def __init__(self, run, slot):
        self.run, self.slot = run, slot
        self.node_id = f"n{slot}"
        self.port = free_port()
        self.peer_port = free_port()
        self.process = None
        self.starts = 0
        self.directory = os.path.join(run.work, self.node_id)
        os.makedirs(self.directory, exist_ok=True)
        os.chmod(self.directory, 0o777)
        self.log_path = os.path.join(run.work, f"{self.node_id}.log")

    @property
    def incarnation(self):
        return self.generation

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def start(self):
        self.starts += 1
        self.generation = f"{self.node_id}#{len(self.run.incarnations) + 1}"
        self.run.incarnations.append(self.generation)
        with open(self.log_path, "ab") as f:
            f.write(f"=== chaos: start #{self.starts} of {self.node_id} at {time.time():.3f}\n".encode())
        out = open(self.log_path, "ab")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BOURSE_", "POSTGRES_"))}
        env.update({"BOURSE_CLUSTER_SECRET": SECRET, "BOURSE_FEEDS": "off", "HOME": self.directory,
                    "BOURSE_SHUTDOWN_DELAY_SECONDS": str(self.run.args.shutdown_delay),
                    "BOURSE_ROUTING": self.run.args.routing})
        command = [self.run.binary, "start", "--config", self.run.config, "--node-id", self.node_id,
                   "--listen", f"127.0.0.1:{self.port}", "--peer-listen", f"127.0.0.1:{self.peer_port}",
                   "--database-url", self.run.database_url, "--data-dir", self.directory]
        cgroup = self.run.firewall.cgroup_of(self)
        if cgroup is not None:
            # Into the node's own cgroup before the binary runs (exec keeps the pid), so that every socket it
            # opens belongs to that cgroup and the partition rules can match it.
            command = ["/bin/sh", "-c", f'echo $$ > {cgroup}/cgroup.procs && exec "$0" "$@"'] + command
        self.process = subprocess.Popen(command, stdout=out, stderr=out, stdin=subprocess.DEVNULL, env=env,
                                        cwd=self.directory, start_new_session=True)
        out.close()
        self.run.stats.add("node_starts")

    def send(self, number):
        if self.alive():
            try:
                os.kill(self.process.pid, number)
            except ProcessLookupError:
                pass

    def wait_exit(self, timeout):
        """The exit status, or None if still running after `timeout` seconds."""
        if self.process is None:
            return None
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        if self.process is not None and self.process.poll() is None:
            try:
                os.kill(self.process.pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
            self.process.kill()
            self.process.wait()


class Firewall:
    """Cuts the peer and client traffic between nodes: iptables DROP in OUTPUT on loopback, telling the nodes'
    connections apart by the cgroup (v2) of the process that opened them. Every node runs in its own cgroup.

    (Loopback cannot tell them apart by address: every connection's source is 127.0.0.1 whatever the
    destination; running the nodes under other uids for iptables' owner match broke the peer transport while it
    set SO_DEBUG, fixed since -- see docs/reliability.md, Findings 1 -- and cgroups need no extra users.)"""

    def __init__(self, tag):
        self.tag = tag
        self.available = False
        self.reason = ""
        self.root = None  # the cgroup2 mount
        self.base = None  # this run's cgroup directory under it

    def probe(self):
        if os.geteuid() != 0:
            self.reason = "not root"
            return False
        if not shutil.which("iptables"):
            self.reason = "iptables not installed (apt-get install -y iptables)"
            return False
        with open("/proc/mounts") as f:
            mounts = [line.split()[1] for line in f if line.split()[2:3] == ["cgroup2"]]
        if not mounts:
            self.reason = "no cgroup2 file system mounted"
            return False
        self.root = mounts[0]
        self.base = os.path.join(self.root, self.tag)
        try:
            os.makedirs(self.base, exist_ok=True)
        except OSError as error:
            self.reason = f"cannot create a cgroup: {error}"
            return False
        rule = ["OUTPUT", "-o", "lo", "-p", "tcp", "-m", "cgroup", "--path", self.tag, "--dport", "9",
                "-m", "comment", "--comment", self.tag, "-j", "DROP"]
        added = subprocess.run(["iptables", "-A"] + rule, capture_output=True, text=True)
        if added.returncode != 0:
            self.reason = f"iptables refused a cgroup rule: {added.stderr.strip()}"
            os.rmdir(self.base)
            return False
        subprocess.run(["iptables", "-D"] + rule, capture_output=True)
        self.available = True
        return True

    def cgroup_of(self, node):
        """The node's cgroup directory (created on first use), or None without partitions."""
        if not self.available:
            return None
        path = os.path.join(self.base, node.node_id)
        os.makedirs(path, exist_ok=True)
        return path

    def cut(self, a, b):
        """No TCP from a to b's ports nor from b to a's (an established connection stalls too)."""
        for sender, receiver in ((a, b), (b, a)):
            for port in (receiver.peer_port, receiver.port):
                subprocess.run(
                    ["iptables", "-A", "OUTPUT", "-o", "lo", "-p", "tcp", "-m", "cgroup", "--path",
                     f"{self.tag}/{sender.node_id}", "--dport", str(port), "-m", "comment", "--comment", self.tag,
                     "-j", "DROP"],
                    check=True, capture_output=True)

    def heal(self):
        if not self.available:
            return
        listing = subprocess.run(["iptables", "-S", "OUTPUT"], capture_output=True, text=True).stdout
        for line in listing.splitlines():
            if self.tag in line and line.startswith("-A OUTPUT "):
                args = [a.strip('"') for a in line.split()[2:]]
                subprocess.run(["iptables", "-D", "OUTPUT"] + args, capture_output=True)
        listing = subprocess.run(["iptables", "-S", "OUTPUT"], capture_output=True, text=True).stdout
        left = [line for line in listing.splitlines() if self.tag in line]
        if left:
            raise RuntimeError(f"could not remove iptables rules: {left}")

    def remove_cgroups(self):
        if not self.base or not os.path.isdir(self.base):
            return
        for name in os.listdir(self.base):
            path = os.path.join(self.base, name)
            if os.path.isdir(path):
                try:
                    os.rmdir(path)
                except OSError:
                    pass
        try:
            os.rmdir(self.base)
        except OSError:
            pass


class DatabaseServer:
    """Stops and starts the PostgreSQL server of scripts/with-postgres (the `dbstop` fault), through what it
    exports: POSTGRES_PG_CTL (a command prefix: pg_ctl, as the server's owner when root), POSTGRES_DATA_DIR and
    POSTGRES_LOG_FILE. Available only when all three are set and name the running server POSTGRES_URL points at
    (its postmaster.pid gives the port), so that no other server is ever stopped."""

    def __init__(self):
        self.available = False
        self.reason = ""
        self.pg_ctl = None
        self.data_dir = None
        self.log_file = None
        self.down = False  # stopped by this run and not started again yet
        self.output = None  # pg_ctl's own output (the server's goes to POSTGRES_LOG_FILE)

    def probe(self, postgres_url, work):
        names = ("POSTGRES_PG_CTL", "POSTGRES_DATA_DIR", "POSTGRES_LOG_FILE")
        missing = [name for name in names if not os.environ.get(name)]
        if missing:
            self.reason = (f"{', '.join(missing)} not set (POSTGRES_URL names a server that scripts/with-postgres "
                           "did not start here, so this run cannot stop and start it)")
            return False
        self.pg_ctl = shlex.split(os.environ["POSTGRES_PG_CTL"])
        self.data_dir = os.environ["POSTGRES_DATA_DIR"]
        self.log_file = os.environ["POSTGRES_LOG_FILE"]
        self.output = os.path.join(work, "pg_ctl.log")
        status = self.ctl(["status"], timeout=30)
        if status != 0:
            self.reason = f"`pg_ctl status` of {self.data_dir} exited {status}: the server is not running there"
            return False
        try:
            with open(os.path.join(self.data_dir, "postmaster.pid")) as f:
                port = f.read().splitlines()[3].strip()
        except (OSError, IndexError) as error:
            self.reason = f"cannot read the server's port from {self.data_dir}/postmaster.pid: {error}"
            return False
        wanted = str(urllib.parse.urlsplit(postgres_url).port or 5432)
        if port != wanted:
            self.reason = f"the server of {self.data_dir} listens on port {port}, POSTGRES_URL names port {wanted}"
            return False
        self.available = True
        return True

    def ctl(self, arguments, timeout):
        """Runs pg_ctl -D DATA_DIR ARGUMENTS (its output appended to pg_ctl.log); returns its exit status."""
        with open(self.output, "ab") as out:
            out.write(f"=== chaos {time.strftime('%H:%M:%S')}: pg_ctl {' '.join(arguments)}\n".encode())
            out.flush()
            try:
                return subprocess.run(self.pg_ctl + ["-D", self.data_dir] + arguments, stdout=out, stderr=out,
                                      stdin=subprocess.DEVNULL, cwd=os.path.dirname(self.data_dir),
                                      timeout=timeout).returncode
            except subprocess.TimeoutExpired:
                return None

    def stop(self):
        """An abrupt crash: every backend is ended at once, nothing is checkpointed (the next start recovers)."""
        self.down = True
        code = self.ctl(["-m", "immediate", "-w", "-t", "60", "stop"], timeout=90)
        if code != 0:
            raise HarnessError(f"pg_ctl stop -m immediate exited {code}; see {self.output}")

    def start(self):
        code = self.ctl(["-l", self.log_file, "-w", "-t", "120", "start"], timeout=150)
        if code != 0:
            raise HarnessError(f"pg_ctl start exited {code}; see {self.output} and {self.log_file}")
        self.down = False


# --------------------------------------------------------------------------------------------------------------
# What the clients were told


class OrderRecord:
    __slots__ = ("order_id", "user", "client_order_id", "symbol", "side", "type", "quantity", "price",
                 "final", "filled_max", "trade_ids", "seen_open", "acked_at", "told")

    def __init__(self, order_id, user, body):
        self.order_id, self.user = order_id, user
        self.client_order_id = body["client_order_id"]
        self.symbol, self.side, self.type = body["symbol"], body["side"], body["type"]
        self.quantity = Decimal(body["quantity"])
        self.price = Decimal(body["price"]) if body.get("price") is not None else None
        self.final = None
        self.filled_max = Decimal(0)
        self.trade_ids = set()
        self.seen_open = False
        self.acked_at = time.monotonic()
        self.told = ""  # how it was acknowledged: status, node, wall-clock time (for violation details)


class Ledger:
    """Every acknowledged order and every fill told of, and the checks of an order's view against them."""

    def __init__(self, run):
        self.run = run
        self.lock = threading.RLock()
        self.orders = {}
        self.by_client_id = {}
        self.checked_upto = 0  # index in `order_ids` of the first order not checked yet
        self.order_ids = []

    def acknowledged(self, user, body, view, replay, via=None):
        """Records a 201 (or a 200 replay) of POST /v1/orders; a replay names the order the first answer did.
        `via`: the node that answered."""
        order_id = str(view.get("order_id"))
        with self.lock:
            key = (user.index, body["client_order_id"])
            known = self.by_client_id.get(key)
            if known is not None and known != order_id:
                self.run.violation("idempotency", f"client_order_id {body['client_order_id']} of {user.name} "
                                   f"acknowledged as {known} and as {order_id}")
            record = self.orders.get(order_id)
            if record is None:
                record = OrderRecord(order_id, user, body)
                record.told = (f"{body['client_order_id']} acknowledged {'200' if replay else '201'} "
                               f"{view.get('status')} via {via or '?'} at "
                               f"{datetime.datetime.now().strftime('%H:%M:%S.%f')[:-3]}")
                self.orders[order_id] = record
                self.order_ids.append(order_id)
                self.by_client_id[key] = order_id
                self.run.stats.add("acknowledged_orders")
                if replay:
                    self.run.stats.add("acknowledged_by_replay")
            problems = self.merge(record, view, historic=replay)
        for problem in problems:
            self.run.violation("order_inconsistent", problem)
        return record

    def merge(self, record, view, historic=False):
        """Folds an answer's view of the order into what is known; returns the inconsistencies it shows.

        `historic`: the view is a replay of the first answer (idempotent POST), so it may be older than what
        is known: only its identity and fills count."""
        problems = []
        oid = record.order_id

        def same(field, expected, convert=lambda v: v):
            value = view.get(field)
            try:
                got = None if value is None else convert(value)
            except Exception:
                got = value
            if got != expected:
                problems.append(f"order {oid}: {field} is {value!r}, acknowledged as {expected!r}")

        def told(problem):
            return f"{problem} ({record.told})" if record.told else problem

        same("symbol", record.symbol)
        same("side", record.side)
        same("type", record.type)
        same("quantity", record.quantity, Decimal)
        if record.price is not None:
            same("price", record.price, Decimal)
        same("client_order_id", record.client_order_id)
        status = view.get("status")
        filled = Decimal(view.get("filled_quantity") or "0")
        fills = view.get("fills") or []
        listed = {str(f.get("trade_id")) for f in fills}
        if not historic:
            missing = record.trade_ids - listed
            if missing:
                problems.append(f"order {oid}: fills {sorted(missing)} told before are not listed any more")
            if filled < record.filled_max:
                problems.append(f"order {oid}: filled_quantity {filled} below {record.filled_max} told before")
            if record.final is not None and status != record.final:
                problems.append(f"order {oid}: status {status}, but {record.final} was told before")
            if status == "rejected" and record.seen_open:
                problems.append(f"order {oid}: rejected after it was acknowledged open")
            if status in ("new", "partially_filled"):
                remaining = view.get("remaining_quantity")
                if remaining is not None and Decimal(remaining) + filled != record.quantity:
                    problems.append(f"order {oid}: filled {filled} + remaining {remaining} != {record.quantity}")
            if status == "filled" and filled != record.quantity:
                problems.append(f"order {oid}: filled with filled_quantity {filled} of {record.quantity}")
        if status not in ("new", "partially_filled", "filled", "cancelled", "rejected", "pending_trigger"):
            problems.append(f"order {oid}: unknown status {status!r}")
        problems = [told(p) for p in problems]
        before = len(record.trade_ids)
        record.trade_ids |= listed
        self.run.stats.add("fills_told", len(record.trade_ids) - before)
        if filled > record.filled_max:
            record.filled_max = filled
        if not historic:
            if status in FINAL and record.final is None:
                record.final = status
            if status in ("new", "partially_filled"):
                record.seen_open = True
        return problems

    def view(self, order_id, view):
        with self.lock:
            record = self.orders.get(str(order_id))
            if record is None:
                return []
            return self.merge(record, view)


# --------------------------------------------------------------------------------------------------------------
# Trading


class User:
    def __init__(self, run, index):
        self.run, self.index = run, index
        self.name = f"chaos{run.args.seed}u{index}"
        self.token = None
        self.rng = random.Random(run.args.seed * 1000 + index)
        self.sequence = 0
        self.open = []  # order ids believed open

    def next_id(self, prefix):
        self.sequence += 1
        return f"{self.name}-{prefix}{self.sequence}"


class Traffic:
    """One thread per user; `pause()` waits for the actions in flight to end."""

    def __init__(self, run):
        self.run = run
        self.cond = threading.Condition()
        self.go = True
        self.inflight = 0
        self.stopping = threading.Event()
        self.threads = []

    def begin(self):
        with self.cond:
            while not self.go and not self.stopping.is_set():
                self.cond.wait(0.2)
            if self.stopping.is_set():
                return False
            self.inflight += 1
            return True

    def end(self):
        with self.cond:
            self.inflight -= 1
            self.cond.notify_all()

    def pause(self, timeout):
        with self.cond:
            self.go = False
            return self.cond.wait_for(lambda: self.inflight == 0, timeout)

    def resume(self):
        with self.cond:
            self.go = True
            self.cond.notify_all()

    def start(self, users):
        for user in users:
            thread = threading.Thread(target=self.loop, args=(user,), name=user.name, daemon=True)
            thread.start()
            self.threads.append(thread)

    def stop(self):
        self.stopping.set()
        with self.cond:
            self.cond.notify_all()
        for thread in self.threads:
            thread.join(timeout=90)

    def loop(self, user):
        run = self.run
        while not self.stopping.is_set():
            if not self.begin():
                return
            try:
                r = user.rng.random()
                if r < 0.55:
                    self.place(user, market=False)
                elif r < 0.67:
                    self.place(user, market=True)
                elif r < 0.85:
                    self.cancel(user)
                elif r < 0.87:
                    self.cancel_all(user)
                else:
                    self.read(user)
            except Exception:
                run.harness_error(f"trading thread {user.name}: {traceback.format_exc()}")
            finally:
                self.end()
            self.stopping.wait(user.rng.uniform(0.0, run.args.think * 2))

    def request(self, user, method, path, body=None, headers=None, deadline=60.0):
        """Sends until an answer that is not worth retrying, through random nodes; the same body every time.
        Returns the final Reply (status None when it gave up)."""
        run = self.run
        started = time.monotonic()
        last = Reply(None, error="no node")
        while time.monotonic() - started < deadline and not self.stopping.is_set():
            port = run.random_port(user.rng)
            if port is None:
                time.sleep(0.1)
                continue
            run.stats.add("requests")
            outage = run.db_outage.is_set()
            reply = call(port, method, path, body, user.token, headers, timeout=run.args.client_timeout)
            # A failure of a request sent or answered while the database was down, or until every node served
            # again after it (a `dbstop`), is also counted apart.
            outage = outage or run.db_outage.is_set()
            last = reply
            if reply.status is None:
                run.stats.add(f"fail:{reply.error}")
                if outage:
                    run.stats.add(f"dbstop:{reply.error}")
                time.sleep(user.rng.uniform(0.02, 0.2))
                continue
            if reply.status == 503:
                if reply.retry_after is not None:
                    run.stats.add("fail:503_with_retry_after")
                    delay = min(float(reply.retry_after or 1), 1.0)
                elif outage:
                    # Expected while the database is down, like a 503 with Retry-After (counted apart).
                    run.stats.add("fail:503_without_retry_after_during_dbstop")
                    delay = 0.5
                else:
                    run.stats.add("fail:503_without_retry_after")
                    delay = 0.5
                if outage:
                    run.stats.add(f"dbstop:503_with{'' if reply.retry_after is not None else 'out'}_retry_after")
                time.sleep(user.rng.uniform(0.5, 1.0) * delay)
                continue
            if reply.status == 429:
                run.stats.add("fail:429")
                time.sleep(0.2)
                continue
            if reply.status == 401:
                # Tokens last a day; a 401 is a failure of its own, counted, and retried after a new login.
                run.stats.add("fail:401")
                run.error(f"401 for {user.name} on {method} {path}: {reply.body}")
                run.login(user)
                continue
            if reply.status >= 500:
                run.stats.add(f"fail:{reply.status}")
                if outage:
                    run.stats.add(f"dbstop:{reply.status}")
                run.error(f"HTTP {reply.status} on {method} {path} via port {port}"
                          f"{' during a database outage' if outage else ''}: {reply.body}")
                time.sleep(0.2)
                continue
            return reply
        if not self.stopping.is_set():
            run.stats.add("fail:gave_up")
            run.stats.add(f"gave_up:{method} {path.split('?')[0].rsplit('/', 1)[0]}")
            run.error(f"gave up on {method} {path} after {deadline:.0f} s: last {last.status or last.error}")
        return Reply(None, error=f"gave up ({last.status or last.error})")

    def place(self, user, market):
        run = self.run
        symbol = user.rng.choice(sorted(MARKETS))
        mid, tick, step = MARKETS[symbol]
        side = user.rng.choice(("buy", "sell"))
        body = {"symbol": symbol, "side": side, "quantity": str(step * user.rng.randint(1, 40)),
                "client_order_id": user.next_id("o")}
        if market:
            body["type"] = "market"
        else:
            body["type"] = "limit"
            body["price"] = str(mid + tick * user.rng.randint(-12, 12))
            if user.rng.random() < 0.1:
                body["time_in_force"] = "ioc"
        reply = self.request(user, "POST", "/v1/orders", body)
        if reply.status in (200, 201):
            record = run.ledger.acknowledged(user, body, reply.body, replay=reply.status == 200,
                                             via=run.node_of_port(reply.port))
            if reply.body.get("status") in ("new", "partially_filled"):
                user.open.append(record.order_id)
        elif reply.status == 422:
            code = (reply.body or {}).get("error", {}).get("code", "?") if isinstance(reply.body, dict) else "?"
            run.stats.add(f"business:422_{code}")
        elif reply.status is not None:
            run.stats.add(f"fail:{reply.status}_unexpected")
            run.error(f"POST /v1/orders answered {reply.status}: {reply.body} for {body}")

    def cancel(self, user):
        run = self.run
        if not user.open:
            return self.read(user)
        order_id = user.open.pop(user.rng.randrange(len(user.open)))
        reply = self.request(user, "DELETE", f"/v1/orders/{order_id}")
        if reply.status == 200:
            run.stats.add("cancels_ok")
            for problem in run.ledger.view(order_id, reply.body):
                run.violation("order_inconsistent", problem)
        elif reply.status == 409:
            run.stats.add("business:409_not_cancellable")
        elif reply.status == 404:
            run.missing(user, order_id, "DELETE", reply)
        elif reply.status is not None:
            run.stats.add(f"fail:{reply.status}_unexpected")
            run.error(f"DELETE /v1/orders/{order_id} answered {reply.status}: {reply.body}")

    def cancel_all(self, user):
        run = self.run
        symbol = user.rng.choice(sorted(MARKETS))
        reply = self.request(user, "DELETE", f"/v1/orders?symbol={symbol}")
        if reply.status == 200:
            run.stats.add("cancel_all_ok")
            for view in reply.body or []:
                for problem in run.ledger.view(view.get("order_id"), view):
                    run.violation("order_inconsistent", problem)
            user.open = [o for o in user.open if run.ledger.orders[o].symbol != symbol]
        elif reply.status is not None:
            run.stats.add(f"fail:{reply.status}_unexpected")
            run.error(f"DELETE /v1/orders?symbol= answered {reply.status}: {reply.body}")

    def read(self, user):
        run = self.run
        with run.ledger.lock:
            mine = [o for o in run.ledger.order_ids[-400:] if run.ledger.orders[o].user is user]
        if not mine:
            return
        order_id = user.rng.choice(mine)
        reply = self.request(user, "GET", f"/v1/orders/{order_id}")
        if reply.status == 200:
            for problem in run.ledger.view(order_id, reply.body):
                run.violation("order_inconsistent", problem)
            if reply.body.get("status") in FINAL and order_id in user.open:
                user.open.remove(order_id)
        elif reply.status == 404:
            run.missing(user, order_id, "GET", reply)
        elif reply.status is not None:
            run.stats.add(f"fail:{reply.status}_unexpected")
            run.error(f"GET /v1/orders/{order_id} answered {reply.status}: {reply.body}")


# --------------------------------------------------------------------------------------------------------------
# The run


class HarnessError(Exception):
    pass


class Run:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.stats = Stats()
        self.ledger = Ledger(self)
        self.violations = []
        self.violation_lock = threading.Lock()
        self.errors = []  # non-fatal oddities (logged, listed in the summary)
        self.harness_errors = []
        self.nodes = {}
        self.extra = None  # the joined node, while it is there
        self.departed = []  # joined nodes that left (their processes have exited)
        self.incarnations = []  # every node process started, as "<node id>#<n>"
        self.extra_leaves_after = 0
        self.stopped = set()  # node ids deliberately SIGSTOPped right now
        self.partitioned = False
        self.node_lock = threading.Lock()
        self.metric_last = {}  # (node id, start number) -> last value scraped
        self.scraped_final = set()
        self.fault_counts = collections.Counter()
        self.self_exits = collections.Counter()
        self.recovery = collections.defaultdict(list)
        self.cycle_times = []
        self.check_times = []
        self.check_parts = collections.Counter()
        self.checks = 0
        self.orders_checked = 0
        self.admin_token = None
        self.evidence = None
        self.started = time.monotonic()
        self.fault_phase = 0.0
        self.tag = f"bourse-chaos-{os.getpid()}"
        self.firewall = Firewall(self.tag)
        self.db_server = DatabaseServer()
        # Set from a `dbstop`'s stop until every node serves again: the traders' failures then are the outage's.
        self.db_outage = threading.Event()
        self.dbstops = []  # per dbstop: the outage, and the recovery after the server was back (s)
        self.probes = 0
        self.pending_probes = {}  # (node id, symbol) -> (user, body) of a probe order not acknowledged yet

    # -- reporting ------------------------------------------------------------------------------------------

    def violation(self, kind, detail):
        with self.violation_lock:
            self.violations.append({"kind": kind, "detail": detail, "fault": sum(self.fault_counts.values()),
                                    "at_s": round(time.monotonic() - self.started, 1)})
            self.stats.add(f"violation:{kind}")
        log(f"VIOLATION {kind}: {detail}")

    def node_of_port(self, port):
        for node in list(self.nodes.values()) + self.departed:
            if node.port == port:
                return f"{node.node_id} ({node.generation})"
        return f"port {port}"

    def missing(self, user, order_id, method, reply):
        """A 404 for an acknowledged order: asks the other nodes at once. Found there, one node answered from a
        state that does not have the order (`stale_not_found`); found nowhere, the order is lost (`lost_order`).
        Both are violations."""
        answered = self.node_of_port(reply.port)
        found = []
        for _ in range(50):
            for node in self.serving_nodes():
                if node.port == reply.port:
                    continue
                again = call(node.port, "GET", f"/v1/orders/{order_id}", token=user.token, timeout=5)
                if again.status == 200:
                    found.append(f"{node.node_id}: {again.body.get('status')}")
                    break
            if found:
                break
            time.sleep(0.1)
        active = self.active_node(timeout=5)
        detail = (f"{method} /v1/orders/{order_id} (acknowledged, {user.name}) answered 404 by {answered} at "
                  f"{datetime.datetime.now().strftime('%H:%M:%S.%f')[:-3]}; active node now "
                  f"{active.node_id if active else 'unknown'}; ")
        if found:
            self.violation("stale_not_found", detail + f"found through {found[0]}")
        else:
            self.violation("lost_order", detail + "not found through any other node either")

    def error(self, detail):
        with self.violation_lock:
            if len(self.errors) < 200:
                self.errors.append(detail)
        log(f"error: {detail}")

    def harness_error(self, detail):
        with self.violation_lock:
            self.harness_errors.append(detail)
        log(f"HARNESS ERROR: {detail}")

    # -- cluster ----------------------------------------------------------------------------------------------

    def running_nodes(self):
        with self.node_lock:
            return [n for n in self.nodes.values() if n.alive()]

    def random_port(self, rng):
        nodes = self.running_nodes()
        return rng.choice(nodes).port if nodes else None

    def serving_nodes(self):
        """Running nodes that are not deliberately frozen."""
        return [n for n in self.running_nodes() if n.node_id not in self.stopped]

    def login(self, user):
        for _ in range(60):
            port = self.random_port(user.rng)
            if port is not None:
                reply = call(port, "POST", "/v1/auth/login", {"username": user.name, "password": USER_PASSWORD},
                             timeout=30)
                if reply.status == 200:
                    user.token = reply.body["access_token"]
                    return
            time.sleep(0.5)
        raise HarnessError(f"cannot log in {user.name}")

    def admin_login(self):
        for _ in range(60):
            nodes = self.serving_nodes()
            if nodes:
                reply = call(self.rng.choice(nodes).port, "POST", "/v1/auth/login",
                             {"username": "admin", "password": ADMIN_PASSWORD}, timeout=30)
                if reply.status == 200:
                    self.admin_token = reply.body["access_token"]
                    return
            time.sleep(0.5)
        raise HarnessError("cannot log in as admin")

    def active_node(self, timeout=10):
        """The node whose status is `serving` in GET /admin/v1/cluster, asked through running nodes; None when
        routing by shard (every node serves part of the shards)."""
        if self.args.routing == "shard":
            return None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for node in self.serving_nodes():
                reply = call(node.port, "GET", "/admin/v1/cluster", token=self.admin_token, timeout=2)
                if reply.status == 200:
                    for member in reply.body.get("members", []):
                        if member.get("status") == "serving" and member.get("id") in self.nodes:
                            return self.nodes[member["id"]]
                elif reply.status == 401:
                    self.admin_login()
            time.sleep(0.05)
        return None

    def scrape(self, node, timeout=2):
        """Reads this incarnation's stale-epoch refusal counter into `metric_last`; True when read."""
        reply_port = node.port
        conn = http.client.HTTPConnection("127.0.0.1", reply_port, timeout=timeout)
        try:
            conn.request("GET", "/metrics")
            response = conn.getresponse()
            text = response.read().decode(errors="replace")
            if response.status != 200:
                return False
        except (OSError, http.client.HTTPException):
            return False
        finally:
            conn.close()
        value = 0.0
        found = False
        for line in text.splitlines():
            if line.startswith(METRIC) and not line.startswith(METRIC + "_"):
                try:
                    value += float(line.rsplit(" ", 1)[1])
                    found = True
                except ValueError:
                    pass
        if not found:
            self.stats.add("metric_series_absent")
        key = node.incarnation
        self.metric_last[key] = max(self.metric_last.get(key, 0.0), value)
        return True

    def scrape_all(self):
        for node in self.serving_nodes():
            self.scrape(node)

    def wait_serving(self, timeout, deep=False):
        """Until every running, unfrozen node answers an exchange request (GET /v1/orders?limit=1) with 200.
        Restarts nodes that exited meanwhile (counted as self-exits). Returns seconds waited.

        `deep` (after a database outage, when any shard may have to be reloaded): every node must answer that
        read for every user, and place (201) an order on every market that is cancelled at once (a buy, IOC, far
        below the traders' prices: it crosses nothing and rests nowhere, but it is journaled by an account shard
        and by each book), recorded as an acknowledged order like the traders' and checked with them. Each node
        process places one such order per market per wait (the reads are asked again every round)."""
        started = time.monotonic()
        token = self.users[0].token
        last = {}  # node id -> what it last answered that was not a 200 (for the no_recovery message)
        placed = set()  # (node process, symbol) whose probe order was acknowledged during this wait
        while time.monotonic() - started < timeout:
            self.restart_exited("while waiting for the cluster")
            nodes = self.serving_nodes()
            ok = bool(nodes)
            for node in nodes:
                for user in (self.users if deep else self.users[:1]):
                    reply = call(node.port, "GET", "/v1/orders?limit=1", token=user.token if deep else token,
                                 timeout=2)
                    if reply.status != 200:
                        last[node.node_id] = f"GET /v1/orders for {user.name}: {reply.status or reply.error}"
                        ok = False
                        break
                if not ok:
                    break
                if deep:
                    for symbol in sorted(MARKETS):
                        if (node.generation, symbol) in placed:
                            continue
                        if not self.probe_order(node, symbol):
                            last[node.node_id] = f"probe order on {symbol} not acknowledged"
                            ok = False
                            break
                        placed.add((node.generation, symbol))
                if not ok:
                    break
            if ok:
                return time.monotonic() - started
            time.sleep(0.05)
        states = {n.node_id: ("running" if n.alive() else f"exited {n.process.returncode}") for n in
                  self.nodes.values()}
        raise NoRecovery(f"the cluster did not serve again within {timeout:.0f} s: {states}; last failed answers: "
                         f"{last}")

    def probe_order(self, node, symbol):
        """Places one IOC buy far below the traders' prices through `node` for a probe user (the traders' users,
        in turn; its client_order_id is the probe's own); True once it is acknowledged. A failed probe is sent
        again with the same body by the next round, so it is never placed twice."""
        mid, _, step = MARKETS[symbol]
        pending = self.pending_probes.get((node.node_id, symbol))
        if pending is None:
            self.probes += 1
            user = self.users[self.probes % len(self.users)]
            body = {"symbol": symbol, "side": "buy", "type": "limit", "price": str(mid / 2), "quantity": str(step),
                    "time_in_force": "ioc", "client_order_id": f"{user.name}-probe{self.probes}"}
            pending = self.pending_probes[(node.node_id, symbol)] = (user, body)
        user, body = pending
        reply = call(node.port, "POST", "/v1/orders", body, token=user.token, timeout=self.args.client_timeout)
        self.stats.add("probe_requests")
        if reply.status in (200, 201):
            del self.pending_probes[(node.node_id, symbol)]
            self.ledger.acknowledged(user, body, reply.body, replay=reply.status == 200,
                                     via=self.node_of_port(reply.port) + " (probe)")
            self.stats.add("probe_orders")
            return True
        if reply.status is not None and reply.status != 503 and reply.status != 429:
            self.error(f"probe order via {node.node_id}: {reply.status} {reply.body}")
        return False

    def log_tail(self, node, size=400000):
        """The node's log lines since its current process started (at most the last `size` bytes)."""
        try:
            with open(node.log_path, "rb") as f:
                f.seek(max(0, os.path.getsize(node.log_path) - size))
                lines = f.read().decode(errors="replace").splitlines()
        except OSError:
            return []
        for index in range(len(lines) - 1, -1, -1):
            if lines[index].startswith("=== chaos: start"):
                return lines[index:]
        return lines

    def exit_reason(self, node):
        """The last `Error:` or `Fatal error:` line of the node's log (what a stopping node prints), or its exit
        status."""
        for line in reversed(self.log_tail(node)):
            if "Fatal error:" in line:
                return "crash: " + line.strip()[:200]
            if line.startswith("Error:"):
                return line[len("Error:"):].strip().split(":")[0]
        return f"exit {node.process.returncode}"

    def lost_role(self, node):
        """Whether the node's last process stopped for losing its role (ActiveRole.keepLeases' critical lines)."""
        tail = self.log_tail(node)
        return any(marker in line for line in tail for marker in ROLE_LOSS_LINES)

    def check_exit(self, node, code, context):
        """A process that died of a signal it was not sent (a trap, SIGILL/SIGTRAP/SIGABRT/SIGSEGV) crashed: a
        `node_crash` violation, with the crash message and the log kept."""
        if code is None or code >= 0 or -code in (signal.SIGKILL, signal.SIGTERM):
            return
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        fatal = [line.strip() for line in self.log_tail(node) if "Fatal error" in line or "Program crashed" in line]
        self.violation("node_crash", f"{node.node_id} ({node.generation}) died of {name} {context}: "
                       f"{' | '.join(fatal[:3]) or 'no crash message in its log'}")

    def restart_exited(self, why):
        """Restarts nodes that stopped by themselves. Expected of the node a SIGSTOP froze (a thawed active finds
        its leases taken; a frozen node is voted dead) and of a node a partition cut off (voted dead): any other
        exit is listed as an error (and counted with " (other node)" after a SIGSTOP or a partition)."""
        for node in list(self.nodes.values()):
            if node.process is not None and node.process.poll() is not None and node.node_id not in self.stopped:
                self.check_exit(node, node.process.returncode, why)
                reason = self.exit_reason(node)
                cause = self.last_fault or "startup"
                if cause == "dbstop":
                    # Every node went through the outage. One may stop for losing its role (the active node whose
                    # leases lapsed while it could not renew them, or were taken meanwhile); any other reason to
                    # stop (voted dead for heartbeats nobody could write, a store error, ...) is not expected.
                    role_lost = self.lost_role(node)
                    self.self_exits[f"dbstop{'' if role_lost else ' (not a role loss)'}: {reason}"] += 1
                    if role_lost:
                        log(f"{node.node_id} stopped by itself after a dbstop ({reason}: it lost its role); "
                            "restarting it")
                    elif node.process.returncode is not None and node.process.returncode >= 0:
                        self.violation("node_exit", f"{node.node_id} ({node.generation}) stopped by itself "
                                       f"(exit {node.process.returncode}: {reason}) {why}, after a dbstop, not "
                                       f"for losing its role")
                    node.start()
                    continue
                expected = cause in ("sigstop", "partition") and node.node_id in self.last_targets
                self.self_exits[f"{cause}{'' if expected else ' (other node)'}: {reason}"] += 1
                if not expected:
                    self.error(f"{node.node_id} stopped by itself ({reason}, exit {node.process.returncode}) {why}; "
                               f"last fault {cause}")
                else:
                    log(f"{node.node_id} stopped by itself after a {cause} ({reason}); restarting it")
                node.start()

    # -- setup ------------------------------------------------------------------------------------------------

    def setup(self):
        args = self.args
        postgres = os.environ.get("POSTGRES_URL")
        if not postgres:
            raise HarnessError("POSTGRES_URL is not set: run under scripts/with-postgres")
        parts = urllib.parse.urlsplit(postgres)
        self.database = f"bourse_chaos_{os.getpid()}"
        self.admin_url = urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
        self.database_url = urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/" + self.database, parts.query, ""))
        subprocess.run(["psql", self.admin_url, "-qc", f"DROP DATABASE IF EXISTS {self.database}"], check=True)
        subprocess.run(["psql", self.admin_url, "-qc", f"CREATE DATABASE {self.database}"], check=True)
        self.database_created = True
        self.work = tempfile.mkdtemp(prefix="bourse-chaos.")
        os.chmod(self.work, 0o755)
        self.config = os.path.join(self.work, "cluster.yaml")
        with open(self.config, "w") as f:
            f.write(f'auth:\n  admin_password: "{ADMIN_PASSWORD}"\n  access_token_ttl_seconds: 86400\n'
                    "limits:\n  requests_per_second: 1000000\n  burst: 1000000\n  login_per_minute: 100000\n")
        os.chmod(self.config, 0o644)
        self.binary = os.path.abspath(args.bourse)
        if "partition" in args.kinds:
            if not self.firewall.probe():
                log(f"partitions skipped: {self.firewall.reason}")
                args.kinds = [k for k in args.kinds if k != "partition"]
        if "dbstop" in args.kinds:
            if self.db_server.probe(postgres, self.work):
                log(f"dbstop: PostgreSQL of {self.db_server.data_dir} is stopped and started with "
                    f"{' '.join(self.db_server.pg_ctl)}")
            else:
                log(f"dbstop skipped: {self.db_server.reason}")
                args.kinds = [k for k in args.kinds if k != "dbstop"]
        if not args.kinds:
            raise HarnessError("no fault kind left to draw from (see the lines above)")
        self.current_fault = "startup"
        self.last_fault = None
        self.last_targets = set()  # the nodes the last SIGSTOP froze or the last partition cut off
        log(f"run {self.tag}: seed {args.seed}, {args.nodes} nodes, {args.users} users, up to {args.faults} "
            f"faults in {args.seconds} s, kinds {','.join(args.kinds)}; work dir {self.work}")
        for slot in range(1, args.nodes + 1):
            node = Node(self, slot)
            self.nodes[node.node_id] = node
            node.start()
            if slot == 1:
                self.wait_ready(node, 180)  # the first one migrates the schema and becomes the active node
        for node in self.nodes.values():
            self.wait_ready(node, 180)
        self.users = [User(self, i) for i in range(args.users)]

        def enrol(user):
            for _ in range(20):
                reply = call(self.random_port(user.rng), "POST", "/v1/auth/register",
                             {"username": user.name, "password": USER_PASSWORD}, timeout=30)
                if reply.status in (201, 409):
                    break
                time.sleep(0.5)
            self.login(user)
            for currency, amount in DEPOSITS:
                key = user.next_id("d")
                reply = Traffic(self).request(user, "POST", "/v1/account/deposits",
                                              {"currency": currency, "amount": amount},
                                              headers={"Idempotency-Key": key})
                if reply.status != 201:
                    raise HarnessError(f"deposit for {user.name}: {reply.status} {reply.body}")

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(enrol, self.users))
        self.admin_login()
        self.current_fault = None
        log(f"cluster up, {len(self.users)} users enrolled ({time.monotonic() - self.started:.1f} s)")

    def wait_ready(self, node, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not node.alive():
                raise HarnessError(f"{node.node_id} exited with {node.process.returncode} at start; "
                                   f"see {node.log_path}")
            if call(node.port, "GET", "/readyz", timeout=2).status == 200:
                return
            time.sleep(0.1)
        raise HarnessError(f"{node.node_id} not ready within {timeout} s")

    # -- faults -----------------------------------------------------------------------------------------------

    def pick_kind(self):
        if self.extra is not None and self.extra_leaves_after <= 0:
            return "leave"
        kinds = [k for k in self.args.kinds if not (k == "join" and self.extra is not None)]
        weights = [FAULT_WEIGHTS[k] for k in kinds]
        return self.rng.choices(kinds, weights)[0]

    def pick_node(self, prefer_active=0.5):
        nodes = self.serving_nodes()
        if self.rng.random() < prefer_active:
            active = self.active_node()
            if active is not None and active in nodes:
                return active
        return self.rng.choice(nodes)

    def inject(self, kind):
        """Injects one fault; returns a short description. The cluster may still be recovering afterwards."""
        self.current_fault = kind
        self.last_fault = kind
        self.last_targets = set()
        if self.extra is not None:
            self.extra_leaves_after -= 1
        if kind == "kill9":
            node = self.pick_node(0.5)
            self.scrape(node)
            node.send(signal.SIGKILL)
            node.wait_exit(30)
            node.start()
            return f"kill -9 {node.node_id}, restarted"
        if kind == "sigterm":
            node = self.pick_node(0.5)
            self.scrape(node)
            node.send(signal.SIGTERM)
            code = node.wait_exit(60)
            if code is None:
                self.error(f"{node.node_id} did not stop within 60 s of SIGTERM; killed")
                self.scrape(node)
                node.kill()
            elif code != 0:
                self.check_exit(node, code, "after SIGTERM")
                self.error(f"{node.node_id} exited {code} after SIGTERM")
            node.start()
            return f"SIGTERM {node.node_id} (exit {code}), restarted"
        if kind == "sigstop":
            node = self.pick_node(0.6)
            self.scrape(node)
            pause = self.rng.uniform(self.args.lease + 0.5, self.args.stop_max)
            self.last_targets = {node.node_id}
            self.stopped.add(node.node_id)
            node.send(signal.SIGSTOP)
            time.sleep(pause)
            node.send(signal.SIGCONT)
            self.stopped.discard(node.node_id)
            # A thawed active node finds its leases taken at its next renewal (every 500 ms) and stops: scrape
            # it while it still answers. (A later exit is handled by `restart_exited`.)
            deadline = time.monotonic() + 2.5
            exited = None
            while time.monotonic() < deadline:
                if not node.alive():
                    exited = node.process.returncode
                    self.check_exit(node, exited, "after SIGSTOP and SIGCONT")
                    break
                self.scrape(node, timeout=0.5)
                time.sleep(0.02)
            if exited is not None:
                self.self_exits[f"sigstop: {self.exit_reason(node)}"] += 1
                node.start()
                return f"SIGSTOP {node.node_id} {pause:.1f} s, thawed, it exited {exited}, restarted"
            return f"SIGSTOP {node.node_id} {pause:.1f} s, thawed, still running"
        if kind == "join":
            slot = len([n for n in self.nodes.values()]) + 1
            node = Node(self, slot)
            with self.node_lock:
                self.nodes[node.node_id] = node
            node.start()
            self.extra = node
            self.extra_leaves_after = self.rng.randint(1, 3)
            self.wait_ready(node, 120)
            return f"{node.node_id} joined"
        if kind == "leave":
            node = self.extra
            self.scrape(node)
            node.send(signal.SIGTERM)
            code = node.wait_exit(60)
            if code is None:
                self.error(f"{node.node_id} did not leave within 60 s of SIGTERM; killed")
                node.kill()
            elif code != 0:
                self.check_exit(node, code, "when leaving")
                self.error(f"{node.node_id} exited {code} when leaving")
            self.scraped_final.add(node.incarnation)
            with self.node_lock:
                del self.nodes[node.node_id]
            self.departed.append(node)
            self.extra = None
            return f"{node.node_id} left (exit {code})"
        if kind == "drain":
            node = self.pick_node(0.75)
            before = self.active_node()
            via = self.rng.choice([n for n in self.serving_nodes()])
            result = self.admin_cli(["--node", f"http://127.0.0.1:{via.port}", "drain", node.node_id], timeout=60)
            if result.returncode != 0:
                self.error(f"admin drain {node.node_id} via {via.node_id}: exit {result.returncode}: "
                           f"{result.stdout.strip()} {result.stderr.strip()}")
            if before is node:
                # The drained node hands off; wait for another node to serve before restarting it.
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    now = self.active_node(timeout=2)
                    if now is not None and now is not node:
                        break
                    time.sleep(0.05)
            self.scrape(node)
            node.send(signal.SIGTERM)
            code = node.wait_exit(60)
            if code is None:
                self.error(f"drained {node.node_id} did not stop within 60 s of SIGTERM; killed")
                node.kill()
            elif code != 0:
                self.check_exit(node, code, "after a drain and SIGTERM")
                self.error(f"drained {node.node_id} exited {code} after SIGTERM")
            node.start()
            return f"drain {node.node_id} ({'active' if before is node else 'standby'}) via {via.node_id}, " \
                   f"exit {result.returncode}, restarted"
        if kind == "partition":
            nodes = self.serving_nodes()
            shape = self.rng.choice(("isolate", "split", "link")) if len(nodes) >= 3 else "link"
            if shape == "isolate":
                alone = self.pick_node(0.5)
                left, right = [alone], [n for n in nodes if n is not alone]
                links = [(alone, other) for other in right]
            elif shape == "split":
                shuffled = nodes[:]
                self.rng.shuffle(shuffled)
                cut = self.rng.randint(1, len(shuffled) - 1)
                left, right = shuffled[:cut], shuffled[cut:]
                links = [(a, b) for a in left for b in right]
            else:
                a, b = self.rng.sample(nodes, 2)
                left, right = [a], [b]
                links = [(a, b)]
            hold = self.rng.uniform(2.0, self.args.partition_max)
            self.last_targets = {n.node_id for n in left + right}
            for a, b in links:
                self.firewall.cut(a, b)
            self.partitioned = True
            try:
                time.sleep(hold)
                # Nodes that stop during the partition (voted dead) are scraped while they still answer.
                self.scrape_all()
            finally:
                self.firewall.heal()
                self.partitioned = False
            names = lambda group: "+".join(n.node_id for n in group)  # noqa: E731
            return f"partition ({shape}) {names(left)} | {names(right)} for {hold:.1f} s, healed"
        if kind == "dbstop":
            outage = self.rng.uniform(self.args.dbstop_min, self.args.dbstop_max)
            self.last_targets = set(self.nodes)
            self.scrape_all()
            self.db_outage.set()  # cleared once every node serves again (execute)
            began = time.monotonic()
            self.db_server.stop()
            stopped = time.monotonic()
            # The nodes that stop meanwhile (an active node whose leases lapse) are restarted once the server is
            # back (`wait_serving`): they could not start without it. Scraped while they still answer.
            while time.monotonic() < stopped + outage:
                for node in self.serving_nodes():
                    self.scrape(node, timeout=0.5)
                time.sleep(min(1.0, max(0.0, stopped + outage - time.monotonic())))
            down = time.monotonic() - stopped
            self.db_server.start()
            self.dbstops.append({"down_s": round(down, 2), "outage_s": round(time.monotonic() - began, 2)})
            exited = [n.node_id for n in self.nodes.values() if not n.alive()]
            return (f"PostgreSQL stopped (-m immediate) for {down:.1f} s (stop took {stopped - began:.1f} s), "
                    f"started again; nodes exited meanwhile: {','.join(exited) or 'none'}")
        raise HarnessError(f"unknown fault kind {kind}")

    def admin_cli(self, arguments, timeout=120):
        env = dict(os.environ)
        env.pop("BOURSE_ADMIN_PASSWORD", None)
        env["BOURSE_TOKEN"] = self.admin_token
        result = subprocess.run([self.binary, "admin"] + arguments, capture_output=True, text=True, env=env,
                                timeout=timeout)
        if result.returncode == 2 and ("401" in result.stderr or "UNAUTHORIZED" in result.stderr):
            self.admin_login()
            env["BOURSE_TOKEN"] = self.admin_token
            result = subprocess.run([self.binary, "admin"] + arguments, capture_output=True, text=True, env=env,
                                    timeout=timeout)
        return result

    # -- checks -----------------------------------------------------------------------------------------------

    def check(self, final=False):
        started = time.monotonic()
        self.checks += 1
        quiet = self.traffic.pause(timeout=30)
        if not quiet:
            self.error("trading did not quiesce within 30 s before a check (checking anyway)")
        try:
            self.scrape_all()
            for name, step in (("orders", lambda: self.check_orders(final)), ("verify", self.check_verify),
                               ("database", lambda: self.check_database(final))):
                began = time.monotonic()
                step()
                self.check_parts[name] += time.monotonic() - began
        finally:
            if not final:
                self.traffic.resume()
        self.check_times.append(time.monotonic() - started)

    def check_orders(self, final):
        ledger = self.ledger
        with ledger.lock:
            ids = ledger.order_ids[:]
            new = ids[ledger.checked_upto:]
            old = ids[:ledger.checked_upto]
            ledger.checked_upto = len(ids)
            if final or len(ids) <= self.args.full_check_limit:
                chosen = ids
            else:
                open_ones = [o for o in old if ledger.orders[o].final is None]
                rest = [o for o in old if ledger.orders[o].final is not None]
                sample = self.rng.sample(rest, min(len(rest), self.args.check_sample))
                chosen = new + open_ones + sample
            users = {o: ledger.orders[o].user for o in chosen}

        def one(order_id):
            user = users[order_id]
            rng = random.Random(hash(order_id) ^ self.checks)
            for _ in range(100):
                nodes = self.serving_nodes()
                reply = call(rng.choice(nodes).port, "GET", f"/v1/orders/{order_id}", token=user.token, timeout=5)
                self.stats.add("check_requests")
                if reply.status == 200:
                    return ledger.view(order_id, reply.body)
                if reply.status == 404:
                    self.missing(user, order_id, "GET (check)", reply)
                    return []
                if reply.status is not None and reply.status not in (503, 429) and reply.status < 500:
                    return [f"GET /v1/orders/{order_id}: unexpected {reply.status} {reply.body}"]
                if reply.status is not None and reply.status >= 500 and reply.status != 503:
                    self.stats.add(f"fail:{reply.status}")
                    self.error(f"check GET /v1/orders/{order_id}: {reply.status} {reply.body}")
                time.sleep(0.1)
            return [f"GET /v1/orders/{order_id}: no answer after 100 attempts"]

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            for order_id, problems in zip(chosen, pool.map(one, chosen)):
                for problem in problems:
                    self.violation("order_inconsistent", problem)
        self.orders_checked += len(chosen)

    def check_verify(self):
        for attempt in range(5):
            via = self.rng.choice(self.serving_nodes())
            result = self.admin_cli(["--node", f"http://127.0.0.1:{via.port}", "--json", "verify"])
            self.stats.add("verify_runs")
            if result.returncode == 0:
                return
            if result.returncode == 1:
                self.violation("verify", f"bourse admin verify via {via.node_id}: {result.stdout.strip()[:4000]}")
                return
            self.error(f"verify via {via.node_id} failed to run (exit {result.returncode}): "
                       f"{result.stderr.strip()[:500]}")
            time.sleep(1)
        self.violation("verify", "bourse admin verify could not run in 5 attempts")

    def psql(self, sql):
        result = subprocess.run(["psql", self.database_url, "-AtX", "-v", "ON_ERROR_STOP=1", "-c", sql],
                                capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            raise HarnessError(f"psql failed: {result.stderr.strip()}")
        return [line.split("|") for line in result.stdout.splitlines() if line]

    def check_database(self, final):
        rows = self.psql("""
            SELECT 'epoch_decreases', count(*) FROM (
                SELECT epoch, lag(epoch) OVER (PARTITION BY shard ORDER BY seq) AS previous FROM journal) t
                WHERE epoch < previous
            UNION ALL
            SELECT 'rows_above_lease', count(*) FROM journal j JOIN shard_leases l USING (shard)
                WHERE j.epoch > l.epoch
            UNION ALL
            SELECT 'trade_rows_twice', count(*) FROM (
                SELECT 1 FROM transactions WHERE type = 'TRADE'
                GROUP BY user_id, reference_id, currency HAVING count(*) > 1) t
            UNION ALL
            SELECT 'fee_rows_twice', count(*) FROM (
                SELECT 1 FROM transactions WHERE type = 'FEE'
                GROUP BY user_id, reference_id HAVING count(*) > 1) t
            UNION ALL
            SELECT 'fills_over_two_sides', count(*) FROM (
                SELECT 1 FROM transactions WHERE type = 'TRADE'
                GROUP BY reference_id HAVING count(DISTINCT user_id) > 2) t
            UNION ALL
            SELECT 'trade_history_over_two', count(*) FROM (
                SELECT 1 FROM trade_history GROUP BY symbol, trade_id HAVING count(*) > 2) t
            UNION ALL
            SELECT 'client_order_id_twice', count(*) FROM (
                SELECT 1 FROM orders WHERE client_order_id IS NOT NULL
                GROUP BY user_id, client_order_id HAVING count(*) > 1) t
            UNION ALL
            SELECT 'journal_rows', count(*) FROM journal
            UNION ALL
            SELECT 'max_epoch', coalesce(max(epoch), 0) FROM shard_leases
        """)
        values = {name: int(value) for name, value in rows}
        self.db_figures = values
        meaning = {
            "epoch_decreases": "journal rows whose epoch is below the previous row's of the same shard",
            "rows_above_lease": "journal rows with an epoch above their shard's lease epoch",
            "trade_rows_twice": "a user's TRADE rows repeated for one fill and currency (double settlement)",
            "fee_rows_twice": "a user's FEE rows repeated for one fill (double settlement)",
            "fills_over_two_sides": "fills settled for more than two users",
            "trade_history_over_two": "trades with more than two trade_history rows",
            "client_order_id_twice": "client_order_ids naming two orders (idempotency)",
        }
        for name, text in meaning.items():
            if values.get(name, 0) > 0:
                kind = "stale_epoch_write" if name in ("epoch_decreases", "rows_above_lease") else \
                    "double_settlement" if name != "client_order_id_twice" else "idempotency"
                detail = f"{values[name]} {text}"
                if name == "epoch_decreases":
                    detail += ": " + json.dumps(self.psql("""
                        SELECT shard, seq, epoch, previous FROM (SELECT shard, seq, epoch,
                            lag(epoch) OVER (PARTITION BY shard ORDER BY seq) AS previous FROM journal) t
                        WHERE epoch < previous ORDER BY shard, seq LIMIT 10"""))
                self.violation(kind, detail)
        if final:
            self.check_read_models()

    def check_read_models(self):
        """At quiescence the read models catch up: every fill told of settled for two users, every acknowledged
        order in `orders`. Waits up to 60 s for the projection."""
        with self.ledger.lock:
            told = {}
            for record in self.ledger.orders.values():
                for trade in record.trade_ids:
                    told[f"{record.symbol}:{trade}"] = record
            acked = set(self.ledger.orders)
        deadline = time.monotonic() + 60
        while True:
            settled = {r: int(n) for r, n in self.psql(
                "SELECT reference_id, count(DISTINCT user_id) FROM transactions WHERE type = 'TRADE' "
                "GROUP BY reference_id")}
            stored = {r[0] for r in self.psql("SELECT order_id FROM orders")}
            unsettled = [ref for ref in told if settled.get(ref, 0) != 2]
            missing = [o for o in acked if o not in stored]
            if (not unsettled and not missing) or time.monotonic() > deadline:
                break
            time.sleep(1)
        self.fills_checked = len(told)
        if unsettled:
            sample = {ref: settled.get(ref, 0) for ref in unsettled[:10]}
            self.violation("fill_not_settled_both_sides",
                           f"{len(unsettled)} of {len(told)} fills told of are not settled for exactly two users "
                           f"in the transactions read model after 60 s (reference: users): {sample}")
        if missing:
            self.violation("order_missing_from_read_model",
                           f"{len(missing)} acknowledged orders not in the orders read model after 60 s: "
                           f"{missing[:10]}")

    # -- evidence ---------------------------------------------------------------------------------------------

    def node_diagnostics(self, directory):
        """For a cluster that did not serve again: per running node, whether it answers /readyz, its /metrics, its
        TCP sockets (ss) and its threads' stacks (gdb, when installed), into <node>-diagnostics.txt."""
        for node in list(self.nodes.values()):
            if not node.alive():
                continue
            pid = node.process.pid
            parts = [f"{node.node_id} ({node.generation}) pid {pid}, client port {node.port}, peer port "
                     f"{node.peer_port}", f"GET /readyz: {call(node.port, 'GET', '/readyz', timeout=2).status}"]
            conn = http.client.HTTPConnection("127.0.0.1", node.port, timeout=5)
            try:
                conn.request("GET", "/metrics")
                parts.append("GET /metrics:\n" + conn.getresponse().read().decode(errors="replace"))
            except (OSError, http.client.HTTPException) as error:
                parts.append(f"GET /metrics: {error}")
            finally:
                conn.close()
            commands = [["ss", "-tanp"]]
            if shutil.which("gdb"):
                commands.append(["gdb", "-p", str(pid), "-batch", "-ex", "thread apply all bt"])
            for command in commands:
                try:
                    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
                    output = result.stdout + result.stderr
                except (OSError, subprocess.TimeoutExpired) as error:
                    output = f"failed: {error}"
                if command[0] == "ss":
                    output = "\n".join(line for line in output.splitlines() if f"pid={pid}," in line)
                parts.append(f"$ {' '.join(command)}\n{output}")
            with open(os.path.join(directory, f"{node.node_id}-diagnostics.txt"), "w") as f:
                f.write("\n\n".join(parts) + "\n")

    def capture_evidence(self, why, again=False):
        """Keeps the evidence of the run's first violation or error in a directory of --evidence-dir; `again`
        (a cluster that did not serve again, after an earlier capture with --keep-going) keeps the evidence of
        now in a subdirectory of it too."""
        if self.evidence is not None and not again:
            return
        stamp = datetime.datetime.now().strftime('%Y%m%dT%H%M%S')
        if self.evidence is None:
            directory = os.path.join(self.args.evidence_dir, f"{stamp}-seed{self.args.seed}")
            self.evidence = directory
        else:
            directory = os.path.join(self.evidence, f"later-{stamp}")
        os.makedirs(directory, exist_ok=True)
        log(f"capturing evidence in {directory}: {why}")
        for node in self.nodes.values():
            if os.path.exists(node.log_path):
                shutil.copy(node.log_path, directory)
        for name in os.listdir(self.work):
            if name.endswith(".log"):
                shutil.copy(os.path.join(self.work, name), directory)
        if "no recovery" in why or any(v["kind"] == "no_recovery" for v in self.violations):
            self.node_diagnostics(directory)
        with open(os.path.join(directory, "violations.json"), "w") as f:
            json.dump({"why": why, "violations": self.violations, "errors": self.errors,
                       "harness_errors": self.harness_errors, "faults": self.fault_log}, f, indent=1)
        subprocess.run(["pg_dump", "--format=custom", f"--file={os.path.join(directory, 'database.dump')}",
                        self.database_url], capture_output=True, timeout=600)
        try:
            via = self.rng.choice(self.serving_nodes())
            for what in (["--json", "verify"], ["--json", "shards"], ["--json", "status"]):
                result = self.admin_cli(["--node", f"http://127.0.0.1:{via.port}"] + what, timeout=60)
                with open(os.path.join(directory, f"admin-{what[-1]}.json"), "w") as f:
                    f.write(result.stdout + result.stderr)
        except Exception:
            pass

    # -- main loop ----------------------------------------------------------------------------------------------

    def execute(self):
        args = self.args
        self.fault_log = []
        self.setup()
        self.traffic = Traffic(self)
        self.traffic.start(self.users)
        deadline = self.started + args.seconds
        reserve = args.final_reserve
        fault_phase_started = time.monotonic()
        time.sleep(args.soak)
        self.check()
        while sum(self.fault_counts.values()) < args.faults:
            cycle_started = time.monotonic()
            average = statistics.fmean(self.cycle_times) if self.cycle_times else 10.0
            if cycle_started + average + reserve > deadline:
                log("time budget reached: no more faults")
                break
            kind = self.pick_kind()
            number = sum(self.fault_counts.values()) + 1
            counted = False
            try:
                if any(not n.alive() for n in self.nodes.values()):
                    # A node stopped by itself since the last check (counted as a self-exit): back first.
                    self.current_fault = "between faults"
                    self.wait_serving(args.recovery_timeout)
                description = self.inject(kind)
                self.fault_counts[kind] += 1
                counted = True
                injected = time.monotonic()
                if kind == "dbstop":
                    # postgres-nio's pool backs off its reconnects: after a long outage ~20 s more (operations.md).
                    waited = self.wait_serving(max(args.recovery_timeout, 60.0), deep=True)
                    self.db_outage.clear()
                    self.dbstops[-1]["recovered_s"] = round(waited, 2)
                else:
                    waited = self.wait_serving(args.recovery_timeout)
                self.recovery[kind].append(injected - cycle_started + waited if kind == "kill9" else waited)
                self.current_fault = None
                log(f"fault {number} {kind}: {description}; serving again after {waited:.2f} s")
                self.fault_log.append({"n": number, "kind": kind, "what": description, "recovered_s": waited})
                self.check()
            except NoRecovery as failure:
                self.db_outage.clear()
                if not counted:
                    self.fault_counts[kind] += 1
                self.violation("no_recovery", f"after fault {number} ({kind}): {failure}")
                self.capture_evidence(f"no recovery after fault {number}", again=True)
                break
            self.cycle_times.append(time.monotonic() - cycle_started)
            if self.violations or self.harness_errors:
                self.capture_evidence(f"violation after fault {number}")
                if not args.keep_going:
                    break
            time.sleep(args.soak)
        self.fault_phase = time.monotonic() - fault_phase_started
        self.current_fault = "final"
        if self.extra is not None and not any(v["kind"] == "no_recovery" for v in self.violations):
            self.inject("leave")
            self.fault_counts["leave"] += 1
        if not any(v["kind"] == "no_recovery" for v in self.violations):
            try:
                self.wait_serving(args.recovery_timeout)
            except NoRecovery as failure:
                self.violation("no_recovery", f"at the end: {failure}")
                self.capture_evidence("no recovery at the end", again=True)
            self.traffic.stop()
            if not any(v["kind"] == "no_recovery" for v in self.violations):
                self.check(final=True)
        else:
            self.traffic.stop()
        for node in self.serving_nodes():
            if self.scrape(node):
                self.scraped_final.add(node.incarnation)
        if self.violations or self.harness_errors or self.server_errors():
            self.capture_evidence("violations or errors at the end")
        elif self.errors:
            # No invariant broken, but something odd (a node that stopped by itself after a fault that does not
            # explain it, a failed drain, a request given up): the logs are kept for a look.
            self.capture_evidence("errors (no violation) at the end")

    def server_errors(self):
        return {k: v for k, v in self.stats.snapshot("fail:").items()
                if k[:1] == "5" and not k.startswith("503")}

    def cleanup(self):
        try:
            if getattr(self, "traffic", None):
                self.traffic.stopping.set()
        except Exception:
            pass
        try:
            self.firewall.heal()
        except Exception as error:
            log(f"cleanup: {error}")
        if self.db_server.down:
            # Interrupted during a dbstop: the server comes back (its database is dropped below).
            try:
                self.db_server.start()
            except Exception as error:
                log(f"cleanup: starting PostgreSQL again failed: {error}")
        for node in list(self.nodes.values()) + list(self.departed):
            try:
                node.kill()
            except Exception:
                pass
        self.firewall.remove_cgroups()
        if getattr(self, "database_created", False) and not self.args.keep_database:
            subprocess.run(["psql", self.admin_url, "-qc", f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)"],
                           capture_output=True)
        if getattr(self, "work", None) and not self.args.keep_work:
            shutil.rmtree(self.work, ignore_errors=True)

    def log_stale_lines(self):
        count = 0
        for name in os.listdir(self.work):
            if name.endswith(".log"):
                with open(os.path.join(self.work, name), errors="replace") as f:
                    count += sum(1 for line in f if "STALE_EPOCH" in line)
        return count

    def summary(self, duration, outcome):
        faults = dict(sorted(self.fault_counts.items()))
        total = sum(v for k, v in faults.items())
        failures = self.stats.snapshot("fail:")
        expected = {k: v for k, v in failures.items()
                    if k in ("503_with_retry_after", "503_without_retry_after_during_dbstop")}
        transient = {k: v for k, v in failures.items()
                     if k in ("timeout", "connection_refused", "connection_reset", "429")
                     or k.startswith("transport_")}
        real = {k: v for k, v in failures.items() if k not in expected and k not in transient}
        scraped = set(self.metric_last)
        unscraped = sum(1 for _ in self.all_incarnations if _ not in scraped)
        recovery = {k: {"count": len(v), "p50_s": round(statistics.median(v), 2), "max_s": round(max(v), 2)}
                    for k, v in sorted(self.recovery.items()) if v}
        minutes = self.fault_phase / 60 if self.fault_phase else 0
        result = {
            "ok": outcome == 0,
            "seed": self.args.seed,
            "nodes": self.args.nodes,
            "users": self.args.users,
            "binary": getattr(self, "binary", None),
            "faults_total": total,
            "faults": faults,
            "requests": self.stats.get("requests"),
            "check_requests": self.stats.get("check_requests"),
            "acknowledged_orders": self.stats.get("acknowledged_orders"),
            "acknowledged_by_replay": self.stats.get("acknowledged_by_replay"),
            "fills_told": self.stats.get("fills_told"),
            "fills_checked_settled": getattr(self, "fills_checked", 0),
            "client_failures": failures,
            "expected_503_with_retry_after": sum(expected.values()),
            "transient_failures": transient,
            "real_errors": real,
            "business_outcomes": self.stats.snapshot("business:"),
            "gave_up_by_route": self.stats.snapshot("gave_up:"),
            "violations": len(self.violations),
            "violations_by_kind": dict(collections.Counter(v["kind"] for v in self.violations)),
            "violation_details": self.violations[:20],
            "errors": self.errors[:20],
            "harness_errors": self.harness_errors[:5],
            "self_exits": dict(self.self_exits),
            "node_starts": self.stats.get("node_starts"),
            "stale_epoch_refusals_metric": int(sum(self.metric_last.values())),
            "stale_epoch_incarnations_unscraped": unscraped,
            "stale_epoch_log_lines": self.log_stale_lines() if getattr(self, "work", None) else None,
            "database": getattr(self, "db_figures", {}),
            "checks": self.checks,
            "orders_checked": self.orders_checked,
            "verify_runs": self.stats.get("verify_runs"),
            "recovery": recovery,
            "dbstops": self.dbstops,
            "client_failures_during_dbstop": self.stats.snapshot("dbstop:"),
            "probe_orders": self.stats.get("probe_orders"),
            "check_s_mean": round(statistics.fmean(self.check_times), 2) if self.check_times else None,
            "check_s_by_part": {k: round(v / max(1, self.checks), 2) for k, v in self.check_parts.items()},
            "cycle_s_mean": round(statistics.fmean(self.cycle_times), 2) if self.cycle_times else None,
            "faults_per_minute": round(total / minutes, 2) if minutes else None,
            "fault_phase_s": round(self.fault_phase, 1),
            "duration_s": round(duration, 1),
            "evidence": self.evidence,
        }
        print()
        print(f"chaos run, seed {self.args.seed}: {'OK' if outcome == 0 else 'FAILED'} in {duration:.0f} s "
              f"({self.args.nodes} nodes, {self.args.users} users)")
        print(f"  faults: {total} ({', '.join(f'{k} {v}' for k, v in faults.items())}); "
              f"{result['faults_per_minute']} faults/min over a {self.fault_phase:.0f} s fault phase; "
              f"mean cycle {result['cycle_s_mean']} s (of which checks {result['check_s_mean']} s: "
              f"{', '.join(f'{k} {v} s' for k, v in result['check_s_by_part'].items())})")
        for kind, r in recovery.items():
            print(f"    {kind:<10} serving again after p50 {r['p50_s']} s, max {r['max_s']} s ({r['count']})")
        if self.dbstops:
            outages = ", ".join(f"{d['down_s']}/{d.get('recovered_s', '-')}" for d in self.dbstops)
            print(f"  dbstops (PostgreSQL down s / every node serving every user and placing orders again s after "
                  f"it was back): {outages}; client failures meanwhile (all retried): "
                  f"{self.stats.snapshot('dbstop:') or 'none'}; {self.stats.get('probe_orders')} probe orders")
        print(f"  requests: {result['requests']} by the traders, {result['check_requests']} by the checks; "
              f"acknowledged orders {result['acknowledged_orders']} ({result['acknowledged_by_replay']} through a "
              f"replay), fills told {result['fills_told']}")
        if result["fills_checked_settled"]:
            print(f"  final read-model check: {result['fills_checked_settled']} distinct trades told of, each settled "
                  f"for two users in the transactions read model")
        print(f"  expected during failovers: 503 with Retry-After {failures.get('503_with_retry_after', 0)}"
              + (f", 503 without it during a dbstop {failures['503_without_retry_after_during_dbstop']}"
                 if failures.get("503_without_retry_after_during_dbstop") else ""))
        print(f"  transient (retried with the same id): {transient or 'none'}")
        print(f"  real errors: {real or 'none'}")
        print(f"  business outcomes: {result['business_outcomes'] or 'none'}")
        print(f"  nodes that stopped by themselves: {dict(self.self_exits) or 'none'}; node starts "
              f"{result['node_starts']}")
        print(f"  stale-epoch refusals: {result['stale_epoch_refusals_metric']} (sum of the last /metrics scrape of "
              f"each node process; counters restart with the process, {unscraped} of {len(self.all_incarnations)} "
              f"processes ended unscraped, increments after a process's last scrape are not counted); "
              f"{result['stale_epoch_log_lines']} STALE_EPOCH log lines")
        print(f"  checks: {self.checks} ({self.orders_checked} order reads, {result['verify_runs']} verify runs); "
              f"database: {result['database']}")
        print(f"  violations (invariants, lost or inconsistent orders, crashes, no recovery): {len(self.violations)} "
              f"{result['violations_by_kind'] or ''}")
        for v in self.violations[:10]:
            print(f"    - [{v['kind']}] after fault {v['fault']}: {v['detail'][:500]}")
        if self.errors:
            print(f"  other errors ({len(self.errors)}):")
            for e in self.errors[:10]:
                print(f"    - {e[:300]}")
        if self.evidence:
            print(f"  evidence: {self.evidence}")
        print(json.dumps(result))

    @property
    def all_incarnations(self):
        return set(self.incarnations) | set(self.metric_last)


class NoRecovery(Exception):
    pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bourse", required=True, help="the bourse binary (copy it: rebuilds replace it)")
    parser.add_argument("--nodes", type=int, default=3, choices=(3, 4, 5))
    parser.add_argument("--routing", choices=["active_standby", "shard"], default="active_standby",
                        help="cluster.routing of the nodes")
    parser.add_argument("--faults", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=170, help="wall-clock bound of the whole run")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--users", type=int, default=24)
    parser.add_argument("--kinds", default=",".join(DEFAULT_KINDS),
                        help=f"fault kinds to draw from (default {','.join(DEFAULT_KINDS)}; known: "
                             f"{','.join(FAULT_WEIGHTS)})")
    parser.add_argument("--think", type=float, default=0.1, help="mean pause of a trader between actions (s)")
    parser.add_argument("--soak", type=float, default=1.0, help="trading between a check and the next fault (s)")
    parser.add_argument("--lease", type=float, default=3.0, help="the lease duration (s); SIGSTOP lasts longer")
    parser.add_argument("--stop-max", type=float, default=6.0, help="longest SIGSTOP (s)")
    parser.add_argument("--partition-max", type=float, default=8.0, help="longest partition (s)")
    parser.add_argument("--dbstop-min", type=float, default=2.0, help="shortest PostgreSQL outage of a dbstop (s)")
    parser.add_argument("--dbstop-max", type=float, default=15.0, help="longest PostgreSQL outage of a dbstop (s)")
    parser.add_argument("--shutdown-delay", type=float, default=0.2, help="BOURSE_SHUTDOWN_DELAY_SECONDS")
    parser.add_argument("--client-timeout", type=float, default=5.0)
    parser.add_argument("--recovery-timeout", type=float, default=90.0,
                        help="a cluster not serving again this long after a fault is a violation")
    parser.add_argument("--full-check-limit", type=int, default=500,
                        help="read back every acknowledged order after each fault while there are this few")
    parser.add_argument("--check-sample", type=int, default=100,
                        help="older final orders read back after each fault beyond that")
    parser.add_argument("--final-reserve", type=float, default=None,
                        help="seconds kept for the final checks (default: 25 + 5%% of --seconds)")
    parser.add_argument("--keep-going", action="store_true", help="go on after a violation")
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--keep-work", action="store_true", help="keep the node logs' directory")
    parser.add_argument("--evidence-dir", default="/tmp/chaos-evidence")
    args = parser.parse_args()
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1, 1_000_000)
    if args.users < 20:
        parser.error("--users must be at least 20")
    args.kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    unknown = [k for k in args.kinds if k not in FAULT_WEIGHTS]
    if unknown or not args.kinds:
        parser.error(f"unknown fault kinds {unknown}; known: {', '.join(FAULT_WEIGHTS)}")
    if args.final_reserve is None:
        args.final_reserve = 25 + 0.05 * args.seconds
    run = Run(args)

    # Ctrl-C and SIGTERM end the run through the `finally` below; a run past its bound is interrupted the same way.
    def on_term(number, frame):
        raise KeyboardInterrupt(f"signal {number}")

    signal.signal(signal.SIGTERM, on_term)
    hard_limit = args.seconds + max(120.0, 0.2 * args.seconds)
    watchdog_fired = threading.Event()

    def watchdog():
        if not run_done.wait(hard_limit):
            watchdog_fired.set()
            log(f"watchdog: the run exceeded {hard_limit:.0f} s; interrupting it")
            import _thread
            _thread.interrupt_main()

    run_done = threading.Event()
    threading.Thread(target=watchdog, daemon=True).start()
    outcome = 2
    interrupted = False
    started = time.monotonic()
    try:
        run.execute()
        bad = run.violations or run.server_errors()
        outcome = 1 if bad else (2 if run.harness_errors else 0)
    except KeyboardInterrupt as interrupt:
        interrupted = not watchdog_fired.is_set()
        run.harness_error(f"interrupted ({interrupt or 'Ctrl-C'})" + (" by the watchdog" if watchdog_fired.is_set()
                                                                       else ""))
        outcome = 1 if run.violations else 2
    except HarnessError as failure:
        run.harness_error(str(failure))
        outcome = 1 if run.violations else 2
    except Exception:
        run.harness_error(traceback.format_exc())
        outcome = 1 if run.violations else 2
    finally:
        run_done.set()
        if (run.violations or run.server_errors() or outcome == 2 and not interrupted) and run.evidence is None \
                and getattr(run, "work", None):
            try:
                run.capture_evidence("the run failed")
            except Exception:
                log(f"evidence capture failed: {traceback.format_exc()}")
        duration = time.monotonic() - started
        try:
            stale_lines = run.log_stale_lines() if getattr(run, "work", None) else None
        except Exception:
            stale_lines = None
        run.log_stale_lines = lambda: stale_lines
        run.cleanup()
    run.summary(duration, outcome)
    return outcome


if __name__ == "__main__":
    sys.exit(main())
