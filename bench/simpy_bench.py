"""Helper of bench/simpy.sh: SimPy and switchboard on the same M/M/N+M queue."""
import json
import os
import random
import resource
import subprocess
import sys
import time

import simpy

N, LAM_H, AHT, PATIENCE, T = 14, 200.0, 180.0, 300.0, 20.0
# SimPy's model counts totals only; switchboard is asked for the same, in
# reporting intervals as long as the CLI allows (100,000 min: 3 rows for the
# 5,000 hours). `INTERVAL_MINUTES=60 bench/simpy.sh` adds the hourly report
# (5,000 rows of JSON) to switchboard's side.
INTERVAL_MINUTES = int(os.environ.get("INTERVAL_MINUTES", "100000"))
# Erlang A (exact, shared/data/erlang-golden.csv A1): SL, P(abandon), occupancy.
EXACT = {"service_level": 0.916792, "abandon_rate": 0.013984, "occupancy": 0.704297}


def simpy_run(n_calls, seed):
    rng, env = random.Random(seed), simpy.Environment()
    agents = simpy.Resource(env, capacity=N)
    st = dict(arr=0, ab=0, ok=0, ans=0, wait=0.0, busy=0.0)

    def caller():
        t0 = env.now
        with agents.request() as req:
            res = yield req | env.timeout(rng.expovariate(1 / PATIENCE))
            st["arr"] += 1
            if req in res:
                w = env.now - t0
                st["ans"] += 1
                st["wait"] += w
                st["ok"] += w <= T
                s = rng.expovariate(1 / AHT)
                st["busy"] += s
                yield env.timeout(s)
            else:
                st["ab"] += 1

    def source():
        for _ in range(n_calls):
            env.process(caller())
            yield env.timeout(rng.expovariate(LAM_H / 3600))

    env.process(source())
    env.run()
    return {"calls": st["arr"], "service_level": st["ok"] / st["arr"], "abandon_rate": st["ab"] / st["arr"],
            "asa_seconds": st["wait"] / st["ans"], "occupancy": st["busy"] / (N * env.now)}


def main():
    binary, calls = sys.argv[1], int(sys.argv[2])
    hours = calls / LAM_H
    print(f"M/M/{N}+M: {LAM_H:.0f} calls/h, AHT {AHT:.0f} s, patience {PATIENCE:.0f} s, T {T:.0f} s; "
          f"{calls:,} calls ({hours:,.0f} simulated hours)", file=sys.stderr)
    t, cpu = time.perf_counter(), time.process_time()
    py = simpy_run(calls, 1)
    py_wall, py_cpu = time.perf_counter() - t, time.process_time() - cpu
    print(f"bench: SimPy done in {py_wall:.2f} s", file=sys.stderr)
    args = [binary, "simulate", "--agents", str(N), "--calls-per-hour", str(LAM_H), "--aht", str(AHT),
            "--patience", str(PATIENCE), "--sl-threshold", str(T), "--hours", f"{hours}",
            "--interval-minutes", str(INTERVAL_MINUTES), "--seed", "1", "--no-kpi-report", "--format", "json"]
    best = None
    for _ in range(3):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        p = subprocess.run(args, capture_output=True, text=True, check=True)
        wall = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if best is None or cpu < best[1]:
            best = (wall, cpu, json.loads(p.stdout))
    sb_wall, sb_cpu, sb = best
    print(f"\n{'':<22} {'SimPy 4.1.2':>12} {'switchboard':>12} {'Erlang A':>10}")
    print(f"{'CPU time, s':<22} {py_cpu:>12.2f} {sb_cpu:>12.3f} {'':>10}   ratio {py_cpu / sb_cpu:.1f}×")
    print(f"{'wall time, s':<22} {py_wall:>12.2f} {sb_wall:>12.3f} {'':>10}   ratio {py_wall / sb_wall:.1f}× "
          f"(wall depends on the machine's load; CPU time is the figure)")
    print(f"{'calls':<22} {py['calls']:>12,} {sb['offered']:>12,}")
    ok = True
    for key, tol in (("service_level", 0.004), ("abandon_rate", 0.0015), ("occupancy", 0.004), ("asa_seconds", None)):
        exact = EXACT.get(key)
        line = f"{key:<22} {py[key]:>12.4f} {sb[key]:>12.4f} {exact if exact is not None else '':>10}"
        if tol is not None:
            agree = abs(py[key] - sb[key]) <= tol and abs(sb[key] - exact) <= tol
            ok &= agree
            line += f"   {'agree' if agree else 'DIFFER'} (±{tol})"
        print(line)
    print(f"(switchboard: the whole process, JSON output included, reporting intervals of {INTERVAL_MINUTES} min, "
          "best CPU time of 3 runs; SimPy: one run)")
    print("results:", "statistically equal" if ok else "MISMATCH")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
