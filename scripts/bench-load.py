#!/usr/bin/env python3
"""Mixed-workload load test of Bourse over HTTP/2, on 1 node and on a 3-node cluster, on this machine.

    scripts/with-postgres python3 scripts/bench-load.py --bourse PATH --bench PATH [--seconds 20] [--workers 32]

For each setup — one `bourse start` node, then three (node-a, node-b, node-c, active/standby) — on a fresh
PostgreSQL database (POSTGRES_URL's server; fsync on), with a cluster secret, rate limits out of the way and no
reference feeds: runs `bourse-bench load` (closed loop; 70% reads, 25% limit orders, 5% cancels) with its
workers spread evenly over the setup's nodes (on 3 nodes, two thirds of the requests reach a standby and are
forwarded to the active node; with `--routing shard`, each node serves its share of the shards once they have
spread, and a request goes to the owner of its user's account shard or its market's book). Prints each run's report and, as the last line, one JSON object with both.
The load generator, the nodes and PostgreSQL share this machine's cores: the figures are the whole system's.
Everything started here is stopped on exit; the databases are dropped.
"""

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("bench_failover", os.path.join(here, "bench-failover.py"))
failover = importlib.util.module_from_spec(spec)
spec.loader.exec_module(failover)


def run(args, count):
    database = f"bourse_bench_load_{count}"
    admin_url, database_url = failover.fresh_database(database)
    work = tempfile.mkdtemp(prefix=f"bourse-bench-load-{count}.")
    config = os.path.join(work, "cluster.yaml")
    with open(config, "w") as f:
        f.write(f'auth:\n  admin_password: "{failover.ADMIN_PASSWORD}"\n'
                "limits:\n  requests_per_second: 1000000\n  burst: 1000000\n  login_per_minute: 100000\n")
    binary = os.path.abspath(args.bourse)
    nodes = [failover.Node(binary, f"node-{name}", database_url, config, work, routing=args.routing)
             for name in "abc"[:count]]
    try:
        for node in nodes:
            node.start()
        if args.routing == "shard":
            failover.wait_for_spread(nodes)
        command = [os.path.abspath(args.bench), "load",
                   "--nodes", ",".join(f"127.0.0.1:{node.port}" for node in nodes),
                   "--users", str(args.users), "--workers", str(args.workers),
                   "--connections", str(max(1, args.connections // count)),
                   "--seconds", str(args.seconds), "--warmup", str(args.warmup), "--seed", str(args.seed)]
        print(f"== {count} node(s): {' '.join(command[1:])}", flush=True)
        output = subprocess.run(command, capture_output=True, text=True, timeout=args.seconds + args.warmup + 300)
        sys.stdout.write(output.stdout)
        if output.returncode != 0:
            sys.stderr.write(output.stderr)
            raise RuntimeError(f"bourse-bench load exited with {output.returncode}")
        return json.loads(output.stdout.strip().splitlines()[-1])
    finally:
        for node in nodes:
            node.signal(15)
        for node in nodes:
            node.wait(timeout=30)
        subprocess.run(["psql", admin_url, "-qc", f"DROP DATABASE IF EXISTS {database}"], check=False)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bourse", default=os.path.join(here, "../.build/release/bourse"))
    parser.add_argument("--bench", default=os.path.join(here, "../.build/release/bourse-bench"))
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--users", type=int, default=24)
    parser.add_argument("--workers", type=int, default=48)
    parser.add_argument("--connections", type=int, default=6, help="h2c connections in all, split over the nodes")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--nodes", default="1,3", help="setups to run, e.g. 1,3")
    parser.add_argument("--routing", choices=["active_standby", "shard"], default="active_standby",
                        help="cluster.routing of every node (shard: each node serves its share of the shards)")
    args = parser.parse_args()
    results = {}
    for count in [int(n) for n in args.nodes.split(",")]:
        results[f"{count}_node{'s' if count > 1 else ''}"] = run(args, count)
    print(json.dumps(results, sort_keys=True))


if __name__ == "__main__":
    main()
