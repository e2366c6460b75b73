#!/usr/bin/env python3
"""Where a load step's slowest requests fall in time, next to what the machine's processes did then.

  bench-timeline.py sample OUT NODE_PID PG_PIDS H2LOAD_NAME   # until killed: every 50 ms, one line per group
  bench-timeline.py analyze SAMPLES LOG...                      # h2load --log-file logs of the step
  bench-timeline.py schedstat PID...                            # "<on-CPU ns> <run-queue wait ns>" of their threads

`sample` sums /proc/<pid>/task/*/schedstat (on-CPU and run-queue wait, ns) over the node's threads, PostgreSQL's
processes (PG_PIDS: the postmaster and its children, comma-separated) and every process named H2LOAD_NAME,
plus the machine's busy and idle jiffies, and writes "time group run_ns wait_ns" lines.

`analyze` cuts the step into 100 ms windows by request start, calls a window slow when it holds a request at
or above the step's p99, and prints, for the slow windows and for the others, the mean cores each group ran
and the run-queue wait it had (thread-seconds per second) over the window and the one before it (a request
started in a window ran through it and the next, so the cause of its delay is there or just before), and the
machine's busy share. Last line: the same as one JSON object.
"""
import glob
import json
import os
import sys
import time
from collections import defaultdict


def schedstat(pids):
    run = wait = 0
    for pid in pids:
        for path in glob.glob(f"/proc/{pid}/task/*/schedstat"):
            try:
                fields = open(path).read().split()
            except OSError:
                continue
            run += int(fields[0])
            wait += int(fields[1])
    return run, wait


def pids_named(name):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if open(f"/proc/{entry}/comm").read().strip() == name:
                    found.append(entry)
            except OSError:
                pass
    return found


def machine():
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:]]
    busy = fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + fields[7]
    return busy, fields[3] + fields[4]


def sample(out, node_pid, pg_pids, h2load_name):
    pg = [p for p in pg_pids.split(",") if p]
    started = time.time()
    with open(out, "w") as log:
        # Until killed; also stops by itself when the node is gone or after an hour.
        while os.path.exists(f"/proc/{node_pid}") and time.time() - started < 3600:
            now = time.time()
            groups = {"node": schedstat([node_pid]), "pg": schedstat(pg), "h2load": schedstat(pids_named(h2load_name))}
            busy, idle = machine()
            for group, (run, wait) in groups.items():
                log.write(f"{now:.4f} {group} {run} {wait}\n")
            log.write(f"{now:.4f} machine {busy} {idle}\n")
            log.flush()
            time.sleep(max(0.0, 0.05 - (time.time() - now)))


def analyze(samples, logs):
    requests = []
    for path in logs:
        for line in open(path):
            fields = line.split()
            if len(fields) >= 3 and fields[1].startswith("2"):
                requests.append((int(fields[0]) / 1e6, int(fields[2]) / 1e3))
    if not requests:
        print("no requests")
        return
    durations = sorted(d for _, d in requests)
    p99 = durations[min(len(durations) - 1, int(len(durations) * 0.99))]
    start = min(t for t, _ in requests)
    end = max(t for t, _ in requests)
    windows = int((end - start) / 0.1) + 1
    slow = set()
    for t, d in requests:
        if d >= p99:
            slow.add(int((t - start) / 0.1))

    # Per group, the samples' deltas spread over the 100 ms windows they fall in (by the later sample's time).
    last = {}
    use = defaultdict(lambda: defaultdict(lambda: [0.0, 0.0, 0.0]))  # window -> group -> [run s, wait s, span s]
    for line in open(samples):
        t, group, a, b = line.split()
        t, a, b = float(t), int(a), int(b)
        if group in last:
            t0, a0, b0 = last[group]
            window = int((t - start) / 0.1)
            if 0 <= window < windows and t > t0:
                cell = use[window][group]
                if group == "machine":
                    cell[0] += (a - a0) / os.sysconf("SC_CLK_TCK")
                    cell[1] += (b - b0) / os.sysconf("SC_CLK_TCK")
                else:
                    cell[0] += (a - a0) / 1e9
                    cell[1] += (b - b0) / 1e9
                cell[2] += t - t0
        last[group] = (t, a, b)

    def mean(selected):
        totals = defaultdict(lambda: [0.0, 0.0, 0.0])
        for window in selected:
            for w in (window - 1, window):
                for group, (run, wait, span) in use.get(w, {}).items():
                    totals[group][0] += run
                    totals[group][1] += wait
                    totals[group][2] += span
        result = {"windows": len(selected)}
        for group, (run, wait, span) in totals.items():
            if span <= 0:
                continue
            if group == "machine":
                result["machine_busy_pct"] = round(100 * run / max(1e-9, run + wait))
            else:
                result[f"{group}_cores"] = round(run / span, 2)
                result[f"{group}_runqueue_wait"] = round(wait / span, 2)
        return result

    others = [w for w in range(windows) if w not in slow]
    report = {"p99_ms": round(p99, 2), "slow": mean(sorted(slow)), "others": mean(others)}
    for label in ("slow", "others"):
        r = report[label]
        groups = " ".join(
            f"{g} {r.get(g + '_cores', 0)} (+{r.get(g + '_runqueue_wait', 0)} waiting)" for g in ("node", "pg", "h2load"))
        print(f"{label:6} {r['windows']:4} windows: machine {r.get('machine_busy_pct', '?')}% busy; cores: {groups}")
    print(json.dumps(report))


if __name__ == "__main__":
    if len(sys.argv) >= 6 and sys.argv[1] == "sample":
        sample(*sys.argv[2:6])
    elif len(sys.argv) >= 4 and sys.argv[1] == "analyze":
        analyze(sys.argv[2], sys.argv[3:])
    elif len(sys.argv) >= 2 and sys.argv[1] == "schedstat":
        print(*schedstat(sys.argv[2:]))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(64)
