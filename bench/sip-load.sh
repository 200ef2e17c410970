#!/usr/bin/env bash
# SIP load benchmark of the telephony layer, all on 127.0.0.1, every run
# bounded in calls and time. Three measurements against `switchboard demo`
# (release build, its own temporary data directory, prompts generated
# beforehand, post-call survey switched off through the settings API):
#
#   a. call setup rate: SIPp callers (tests/sip/uac_ivr_queue.xml) at
#      10, 25, 50, 100 new calls a second, each answered by the IVR, keys
#      typed ahead (1 = 中文, then 2 = Support or 3 = Billing, RFC 4733),
#      queued, answered by a simulated agent on the desktop, hung up by the
#      caller HOLD_MS after the keys. A fresh server per rate (its
#      simulated agents stay busy for their talk time).
#   b. concurrent bridged and recorded calls: N agent phones (SIPp,
#      tests/sip/uas_agent_phone.xml, talking PCMA until the BYE) register
#      with digest authentication as devices of N simulated agents; N
#      SIPp callers that talk all along wait in the queues, are put
#      through to the phones, bridged (RTP relay) and recorded.
#   c. media latency the relay adds: one bridged call whose two ends are
#      UDP sockets of a small Python probe; a packet each 20 ms each way,
#      time from sending on one end to receiving on the other, against
#      the same probe sending straight from end to end.
#
#   bench/sip-load.sh                       # everything (about 10 minutes)
#   PHASES="a" RATES="10 25" bench/sip-load.sh
#   CONCURRENT=300 PHASES=b bench/sip-load.sh
#
# Environment: PHASES (a b c), RATES (10 25 50 100), RATE_SECONDS (10: calls
# per rate = rate × this, or COUNT calls at every rate), HOLD_MS (from the prompts: 6.5 s after the
# caller enters the queue), AGENTS_A (2000), CONCURRENT
# (500), CONC_RATE (20 calls/s), CONC_HOLD_S (40: seconds every call stays
# bridged at the peak), PHONE_MEDIA (echo: the phones echo the caller's
# audio; pcap: they play g711a.pcap), LAT_PACKETS (1500), SWITCHBOARD_BIN (skip the
# build), SIP_PORT (15060). Results: a summary table on stdout and in
# bench/out/sip-load-summary.txt; raw files in a temporary directory
# (printed, removed unless KEEP=1).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PHASES="${PHASES:-a b c}"
RATES="${RATES:-10 25 50 100}"
RATE_SECONDS="${RATE_SECONDS:-10}"
HOLD_MS="${HOLD_MS:-}"
AGENTS_A="${AGENTS_A:-2000}"
CONCURRENT="${CONCURRENT:-500}"
CONC_RATE="${CONC_RATE:-20}"
CONC_HOLD_S="${CONC_HOLD_S:-40}"
PHONE_MEDIA="${PHONE_MEDIA:-echo}"
LAT_PACKETS="${LAT_PACKETS:-1500}"
SIP_PORT="${SIP_PORT:-15060}"
SIP="127.0.0.1:$SIP_PORT"
SCEN="$ROOT/tests/sip"
OUT="$ROOT/bench/out"
mkdir -p "$OUT"
WORK="$(mktemp -d /tmp/sip-load.XXXXXX)"
SUMMARY="$OUT/sip-load-summary.txt"
: >"$SUMMARY"
DEMO_PID=""
BG_PIDS=()

cleanup() {
    for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    [ -n "$DEMO_PID" ] && kill "$DEMO_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    if [ "${KEEP:-0}" = 1 ]; then echo "raw files kept in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

say() { echo "sip-load: $*" >&2; }
out() { echo "$*" | tee -a "$SUMMARY"; }

for tool in sipp python3; do
    command -v "$tool" >/dev/null || { echo "error: $tool not found (apt-get install sip-tester python3)" >&2; exit 1; }
done
[ -f /usr/share/sip-tester/g711a.pcap ] || { echo "error: /usr/share/sip-tester/*.pcap missing (apt-get install sip-tester)" >&2; exit 1; }
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

if [ -n "${SWITCHBOARD_BIN:-}" ]; then
    BIN="$SWITCHBOARD_BIN"
else
    say "cargo build --release -p switchboard"
    cargo build --release --quiet -p switchboard
    BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/switchboard"
fi
"$BIN" prompts --dir "$WORK/prompts" >/dev/null

# ---------------------------------------------------------------------------
# The Python half: API calls, sampling, registration, the latency probe.
# ---------------------------------------------------------------------------
cat >"$WORK/helper.py" <<'PY'
import json, os, socket, struct, subprocess, sys, time, urllib.request, select, statistics

def api(http, method, path, token=None, body=None):
    req = urllib.request.Request(f"http://{http}{path}", method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"content-type": "application/json", **({"authorization": f"Bearer {token}"} if token else {})})
    with urllib.request.urlopen(req, timeout=60) as f:
        raw = f.read()
        return json.loads(raw) if raw else None

def login(http):
    return api(http, "POST", "/api/login", body={"login": "admin", "password": "switchboard"})["token"]

def cpu_ticks(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])

def rss_kb(pid, key="VmRSS"):
    for l in open(f"/proc/{pid}/status"):
        if l.startswith(key + ":"):
            return int(l.split()[1])
    return 0

def all_calls(http, token):
    seen, out, before = set(), [], None
    while True:
        q = "/api/voice/calls?limit=1000" + (f"&before={before}" if before is not None else "")
        page = api(http, "GET", q, token)
        new = [c for c in page if c["call"] not in seen]
        if not new:
            return out
        for c in new:
            seen.add(c["call"])
        out += new
        before = min(c["started_at"] for c in page)

def cmd_settings(http, devices, first_agent):
    token = login(http)
    s = api(http, "GET", "/api/voice/settings", token)
    s["devices"] = [{"user": f"a{i}", "password": f"pw{i}", "agent": i} for i in range(first_agent, first_agent + devices)]
    s["survey"]["enabled"] = False
    api(http, "PUT", "/api/voice/settings", token, s)
    print(token)

def udp_drops():
    """Datagrams the kernel dropped (full receive buffer), summed by who owns
    the port: the server's RTP range, the phones' SIPp media (echo) socket,
    the rest (the callers' SIPp media sockets are never read: not counted)."""
    out = {"server_rtp": 0, "sipp_media": 0, "other": 0}
    for l in open("/proc/net/udp").readlines()[1:]:
        f = l.split()
        port = int(f[1].split(":")[1], 16)
        drops = int(f[-1])
        key = "server_rtp" if 20000 <= port <= 29999 else "sipp_media" if 31000 <= port <= 31999 else "other"
        out[key] += drops
    return out

def cmd_sample(pid, http, token, path, period=1.0):
    """One line a second: t, cpu % of one core over the second, RSS MB, active calls, fds."""
    hz = os.sysconf("SC_CLK_TCK")
    with open(path, "w") as f:
        f.write("t,cpu_pct,rss_mb,active_calls,fds,drops_server_rtp,drops_sipp_media,load1\n")
        last_t, last_c = time.time(), cpu_ticks(pid)
        while True:
            time.sleep(period)
            try:
                t, c = time.time(), cpu_ticks(pid)
                calls = api(http, "GET", "/api/voice/status", token)["calls"]
                fds = len(os.listdir(f"/proc/{pid}/fd"))
            except Exception:
                return
            d = udp_drops()
            load1 = open("/proc/loadavg").read().split()[0]
            f.write(f"{t:.3f},{100.0 * (c - last_c) / hz / (t - last_t):.1f},{rss_kb(pid) / 1024:.1f},{calls},{fds},"
                    f"{d['server_rtp']},{d['sipp_media']},{load1}\n")
            f.flush()
            last_t, last_c = t, c

def samples(path):
    rows = [l.strip().split(",") for l in open(path).readlines()[1:] if l.strip()]
    return [dict(t=float(r[0]), cpu=float(r[1]), rss=float(r[2]), calls=int(r[3]), fds=int(r[4]),
                 drops_server=int(r[5]), drops_sipp=int(r[6]), load1=float(r[7])) for r in rows]

def sipp_stats(path):
    lines = [l for l in open(path).read().splitlines() if l.strip()]
    head, last = lines[0].split(";"), lines[-1].split(";")
    d = dict(zip(head, last))
    def ms(v):
        # SIPp writes durations as HH:MM:SS:microseconds.
        h, m, s, us = (v or "0:0:0:0").split(":")
        return ((int(h) * 60 + int(m)) * 60 + int(s)) * 1000 + int(us) / 1000
    buckets = {k.split("_", 1)[1]: int(v or 0) for k, v in d.items() if k.startswith("ResponseTimeRepartition1_")}
    return dict(ok=int(d.get("SuccessfulCall(C)", 0)), failed=int(d.get("FailedCall(C)", 0)), buckets=buckets,
                created=int(d.get("TotalCallCreated", d.get("OutgoingCall(C)", 0))),
                rt_ms=ms(d.get("ResponseTime1(C)")), retrans=int(d.get("Retransmissions(C)", 0)))

def leg(c, name):
    for l in (c.get("quality") or {}).get("legs", []):
        if l.get("leg") == name:
            return l
    return None

def cmd_phase_a(http, token, since_ms, sample_path, stats_paths, t0, t1, ticks):
    calls = [c for c in all_calls(http, token) if c["started_at"] >= since_ms]
    heard = sum(1 for c in calls if (leg(c, "caller") or {}).get("tx_packets", 0) >= 300)
    queued = sum(1 for c in calls if c.get("contact") is not None)
    agent = sum(1 for c in calls if c.get("agent") is not None)
    starts = sorted(c["started_at"] for c in calls)
    achieved = round((len(starts) - 1) / max((starts[-1] - starts[0]) / 1000, 1e-3), 1) if len(starts) > 1 else 0
    ends = {}
    for c in calls:
        ends[c.get("end_reason")] = ends.get(c.get("end_reason"), 0) + 1
    st = [sipp_stats(p) for p in stats_paths]
    ok, failed = sum(s["ok"] for s in st), sum(s["failed"] for s in st)
    buckets = {}
    for s in st:
        for k, v in s["buckets"].items():
            buckets[k] = buckets.get(k, 0) + v
    # SIPp's response times have a resolution of 1 ms; show the distribution.
    rt = ", ".join(f"{v} {k.replace('<', '< ').replace('>=', '>= ')} ms" for k, v in buckets.items() if v)
    ss = samples(sample_path)
    hz = os.sysconf("SC_CLK_TCK")
    cpu_avg = 100.0 * ticks / hz / max(t1 - t0, 1e-9)
    print(json.dumps(dict(records=len(calls), achieved_rate=achieved, heard=heard, queued=queued, agent=agent, ends=ends, sipp_ok=ok,
        sipp_failed=failed, invite_200_ms=rt, retrans=sum(s["retrans"] for s in st),
        cpu_avg=round(cpu_avg, 1), cpu_peak=max((s["cpu"] for s in ss), default=0),
        rss_peak=max((s["rss"] for s in ss), default=0), active_peak=max((s["calls"] for s in ss), default=0))))

def cmd_phase_b(http, token, since_ms, sample_path, rec_dir, stats_paths, phone_stats):
    calls = [c for c in all_calls(http, token) if c["started_at"] >= since_ms]
    bridged = [c for c in calls if c.get("recording")]
    # Bridged (recorded) intervals: [end - recording_ms, end].
    ev = []
    for c in bridged:
        end = c.get("ended_at") or 0
        ms = c.get("recording_ms") or 0
        ev += [(end - ms, 1), (end, -1)]
    cur = peak = 0
    peak_at = None
    for t, d in sorted(ev):
        cur += d
        if cur > peak:
            peak, peak_at = cur, t
    # How long the peak (≥ 95 %) lasted.
    cur, above, start = 0, 0.0, None
    for t, d in sorted(ev):
        cur += d
        if cur >= 0.95 * peak and start is None:
            start = t
        elif cur < 0.95 * peak and start is not None:
            above += t - start
            start = None
    files = [c["recording"] for c in bridged]
    exist = [p for p in files if os.path.exists(p)]
    ok_len = 0
    for c in bridged:
        p = c["recording"]
        if os.path.exists(p) and c.get("recording_ms"):
            secs = (os.path.getsize(p) - 44) / (8000 * 2 * 2)
            ok_len += abs(secs * 1000 - c["recording_ms"]) < 100
    loss = {}
    for c in bridged:
        for name in ("caller", "agent"):
            l = leg(c, name) or {}
            a = loss.setdefault(name, [0, 0, 0])
            a[0] += l.get("rx_packets", 0)
            a[1] += l.get("rx_lost", 0)
            a[2] += l.get("tx_packets", 0)
    gap = max(((leg(c, "agent") or {}).get("max_gap_ms", 0) for c in bridged), default=0)
    st = [sipp_stats(p) for p in stats_paths]
    ss = samples(sample_path)
    # CPU while at least 95 % of the peak was bridged (by the records' clock).
    if peak_at is not None:
        plateau = [s for s in ss if start_of_plateau(ev, peak) <= s["t"] * 1000 <= end_of_plateau(ev, peak)]
    else:
        plateau = []
    ph = sipp_stats(phone_stats) if os.path.exists(phone_stats) else {}
    print(json.dumps(dict(records=len(calls), bridged=len(bridged), peak=peak, peak_s=round(above / 1000, 1),
        files=len(exist), bytes=sum(os.path.getsize(p) for p in exist), len_ok=ok_len,
        loss={k: dict(rx=v[0], lost=v[1], tx=v[2]) for k, v in loss.items()}, max_gap_ms=gap,
        sipp_ok=sum(s["ok"] for s in st), sipp_failed=sum(s["failed"] for s in st),
        phones_ok=ph.get("ok"), phones_failed=ph.get("failed"),
        cpu_plateau=round(statistics.mean(s["cpu"] for s in plateau), 1) if plateau else None,
        cpu_peak=max((s["cpu"] for s in ss), default=0), rss_peak=max((s["rss"] for s in ss), default=0),
        active_peak=max((s["calls"] for s in ss), default=0), fds_peak=max((s["fds"] for s in ss), default=0),
        udp_drops_server_rtp=(ss[-1]["drops_server"] - ss[0]["drops_server"]) if ss else None,
        udp_drops_sipp_media=(ss[-1]["drops_sipp"] - ss[0]["drops_sipp"]) if ss else None,
        load1_peak=max((s["load1"] for s in ss), default=0))))

def _plateau(ev, peak):
    cur, spans, start = 0, [], None
    for t, d in sorted(ev):
        cur += d
        if cur >= 0.95 * peak and start is None:
            start = t
        elif cur < 0.95 * peak and start is not None:
            spans.append((start, t))
            start = None
    return max(spans, key=lambda s: s[1] - s[0]) if spans else (0, 0)

def start_of_plateau(ev, peak):
    return _plateau(ev, peak)[0]

def end_of_plateau(ev, peak):
    return _plateau(ev, peak)[1]

def cmd_register(sip, first, count, phone_port, scenario, work):
    """Register phones a<first>..: 8 SIPp at a time, each on its own free
    ports; a failed registration is tried again (3 tries). Prints the count
    that never registered."""
    todo = list(range(first, first + count))
    running, failed, free, tries = [], [], list(range(8)), {}
    while todo or running:
        while todo and free:
            i, slot = todo.pop(0), free.pop(0)
            p = subprocess.Popen(["sipp", "-sf", scenario, sip, "-key", "user", f"a{i}", "-au", f"a{i}", "-ap", f"pw{i}",
                "-key", "phone_port", str(phone_port), "-i", "127.0.0.1", "-mi", "127.0.0.1",
                "-p", str(41000 + slot), "-mp", str(42000 + 4 * slot), "-m", "1", "-timeout", "20s", "-nostdin"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=work)
            running.append((i, slot, p))
        time.sleep(0.02)
        for i, slot, p in list(running):
            if p.poll() is not None:
                running.remove((i, slot, p))
                free.append(slot)
                if p.returncode != 0:
                    tries[i] = tries.get(i, 0) + 1
                    (todo if tries[i] < 3 else failed).append(i)
    print(len(failed))

def rtp(pt, seq, ts, ssrc, payload, marker=False):
    return struct.pack(">BBHII", 0x80, (0x80 if marker else 0) | pt, seq & 0xFFFF, ts & 0xFFFFFFFF, ssrc) + payload

def cmd_latency(port_file, n_packets, ready_file):
    """Both ends of one bridged call. Waits for the IVR's audio on the caller
    end, presses 1 then 2 (RFC 4733), then sends a packet each 20 ms each way
    and times each from send to receive on the other end."""
    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); a.bind(("127.0.0.1", 0))
    b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); b.bind(("127.0.0.1", 0))
    open(port_file, "w").write(f"{a.getsockname()[1]} {b.getsockname()[1]}\n")
    # Baseline: the same probe straight from end to end.
    base = probe(a, b, b.getsockname(), a.getsockname(), 500, bridged=False)
    a.settimeout(30)
    _, server_a = a.recvfrom(2048)          # the IVR speaks to the caller
    ssrc, seq, ts = 0x51D0_0001, 1000, 0
    for digit, at in (("1", 1.0), ("2", 2.0)):
        time.sleep(at if digit == "1" else 1.0)
        ev = int(digit)
        ts += 8000
        for k in range(8):
            end = k >= 5
            dur = min(k + 1, 6) * 160
            payload = struct.pack(">BBH", ev, (0x80 if end else 0) | 10, dur)
            a.sendto(rtp(101, seq, ts, ssrc, payload, marker=(k == 0)), server_a); seq += 1
            time.sleep(0.02 if k < 5 else 0.0)
    open(ready_file, "w").write("keys sent\n")
    # Wait for the bridge: send caller audio until the phone end hears it.
    b.setblocking(False)
    deadline = time.time() + 90
    server_b = None
    while time.time() < deadline and server_b is None:
        ts += 160
        a.sendto(rtp(8, seq, ts, ssrc, b"\xd5" * 160), server_a); seq += 1
        time.sleep(0.02)
        try:
            while True:
                data, src = b.recvfrom(2048)
                if len(data) >= 12 and (data[1] & 0x7F) == 8:
                    server_b = src
        except BlockingIOError:
            pass
    if server_b is None:
        print(json.dumps(dict(error="never bridged", base=base))); return
    time.sleep(0.5)
    res = probe(a, b, server_a, server_b, n_packets, bridged=True)
    print(json.dumps(dict(base=base, relay=res)))

def probe(a, b, to_from_a, to_from_b, n, bridged):
    """Each 20 ms: a -> (server) -> b and b -> (server) -> a, a counter in the
    payload; latency per packet by the counter (order as a fallback)."""
    a.setblocking(False); b.setblocking(False)
    for s in (a, b):
        try:
            while True: s.recvfrom(4096)
        except BlockingIOError:
            pass
    sent_ab, sent_ba, lat_ab, lat_ba = {}, {}, [], []
    ssrc_a, ssrc_b = 0xAAAA0001, 0xBBBB0001
    mangled = 0
    t_next = time.perf_counter()
    end_at = t_next + n * 0.02 + 1.0
    i = 0
    while time.perf_counter() < end_at:
        now = time.perf_counter()
        if i < n and now >= t_next:
            tag = struct.pack(">I", 0x5EED0000 + i)
            pay = tag + b"\xd5" * 156
            sent_ab[tag] = time.perf_counter_ns(); a.sendto(rtp(8, 5000 + i, 160 * i, ssrc_a, pay), to_from_a)
            sent_ba[tag] = time.perf_counter_ns(); b.sendto(rtp(8, 9000 + i, 160 * i, ssrc_b, pay), to_from_b)
            i += 1
            t_next += 0.02
        r, _, _ = select.select([a, b], [], [], max(0.0, min(t_next - time.perf_counter(), 0.005)))
        for s in r:
            try:
                while True:
                    data, _ = s.recvfrom(4096)
                    t = time.perf_counter_ns()
                    tag = data[12:16]
                    table, lat = (sent_ab, lat_ab) if s is b else (sent_ba, lat_ba)
                    if tag in table:
                        lat.append((t - table.pop(tag)) / 1000.0)
                    elif bridged and len(data) > 12 and (data[1] & 0x7F) == 8:
                        mangled += 1
            except BlockingIOError:
                pass
    def pct(xs, p):
        xs = sorted(xs)
        return round(xs[min(len(xs) - 1, int(p / 100 * len(xs)))], 1) if xs else None
    return dict(sent=n, got_ab=len(lat_ab), got_ba=len(lat_ba), unmatched=mangled,
        ab_p50_us=pct(lat_ab, 50), ab_p99_us=pct(lat_ab, 99), ab_max_us=pct(lat_ab, 100),
        ba_p50_us=pct(lat_ba, 50), ba_p99_us=pct(lat_ba, 99), ba_max_us=pct(lat_ba, 100))

def hold_ms(prompts):
    """How long a caller stays after its keys: until 6.5 s after it enters the
    queue (welcome zh + en, then "transferring" and "please hold" in Chinese),
    so a simulated agent (accepts 1-4 s after the offer, talks at least 8 s)
    has answered and has not yet hung up when the caller does."""
    import wave
    def secs(p):
        w = wave.open(os.path.join(prompts, p))
        return w.getnframes() / w.getframerate()
    enter = secs("zh/welcome.wav") + secs("en/welcome.wav") + secs("zh/transferring.wav") + secs("zh/please-hold.wav")
    return int((enter + 6.5 - 2.3) * 1000)

def fmt_a(r, rate, count):
    print(f"{rate} ({r.get('achieved_rate')}) | {count} | {r['sipp_ok']} | {r['sipp_failed']} | {r['heard']} | {r['queued']} | {r['agent']} | "
          f"{count_ok(r, int(count))} | {r['invite_200_ms']} | {r['cpu_avg']} | {r['cpu_peak']} | {r['rss_peak']} | {r['active_peak']}")

def count_ok(r, count):
    return "yes" if r["sipp_ok"] == r["heard"] == r["queued"] == r["agent"] == count and r["sipp_failed"] == 0 else "no"

def fmt_b(r):
    l = r["loss"]
    def pct(x):
        return f"{100.0 * x['lost'] / max(1, x['rx'] + x['lost']):.3f} %"
    print("calls | bridged+recorded | peak concurrent | time at >= 95 % of peak | recordings on disk | length = recording_ms | "
          "loss caller leg | loss agent leg | max gap agent leg ms | SIPp callers ok/failed | phones ok/failed | "
          "CPU at peak % | CPU peak % (1 s) | RSS peak MB | fds peak | UDP drops: server RTP sockets / phones' echo socket | load average peak")
    print("---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---")
    none = {"rx": 0, "lost": 0}
    print(f"{r['records']} | {r['bridged']} | {r['peak']} | {r['peak_s']} s | {r['files']} ({r['bytes'] / 1e6:.0f} MB) | "
          f"{r['len_ok']} | {pct(l.get('caller', none))} | {pct(l.get('agent', none))} | {r['max_gap_ms']} | "
          f"{r['sipp_ok']}/{r['sipp_failed']} | {r['phones_ok']}/{r['phones_failed']} | {r['cpu_plateau']} | "
          f"{r['cpu_peak']} | {r['rss_peak']} | {r['fds_peak']} | {r.get('udp_drops_server_rtp')} / {r.get('udp_drops_sipp_media')} | {r.get('load1_peak')}")

def fmt_c(r):
    if "error" in r:
        print("error:", r)
        return
    b, x = r["base"], r["relay"]
    print("path | packets received | p50 µs | p99 µs | max µs")
    print("---|---|---|---|---")
    print(f"probe straight (baseline) | {b['got_ab']}/{b['sent']} | {b['ab_p50_us']} | {b['ab_p99_us']} | {b['ab_max_us']}")
    print(f"caller -> relay -> phone | {x['got_ab']}/{x['sent']} | {x['ab_p50_us']} | {x['ab_p99_us']} | {x['ab_max_us']}")
    print(f"phone -> relay -> caller | {x['got_ba']}/{x['sent']} | {x['ba_p50_us']} | {x['ba_p99_us']} | {x['ba_max_us']}")
    if x["ab_p50_us"] is not None:
        print(f"added by the relay, caller -> phone | | {x['ab_p50_us'] - b['ab_p50_us']:.1f} | {x['ab_p99_us'] - b['ab_p99_us']:.1f} |")
    if x["ba_p50_us"] is not None:
        print(f"added by the relay, phone -> caller | | {x['ba_p50_us'] - b['ab_p50_us']:.1f} | {x['ba_p99_us'] - b['ab_p99_us']:.1f} |")
    print(f"\npackets that came through with their payload changed (not matched by tag): {x['unmatched']}")

if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "login": print(login(args[0]))
    elif cmd == "settings": cmd_settings(args[0], int(args[1]), int(args[2]))
    elif cmd == "sample": cmd_sample(int(args[0]), args[1], args[2], args[3])
    elif cmd == "ticks": print(cpu_ticks(int(args[0])))
    elif cmd == "status": print(json.dumps(api(args[0], "GET", "/api/voice/status", args[1])))
    elif cmd == "phase_a": cmd_phase_a(args[0], args[1], int(args[2]), args[3], args[4].split(","), float(args[5]), float(args[6]), int(args[7]))
    elif cmd == "phase_b": cmd_phase_b(args[0], args[1], int(args[2]), args[3], args[4], args[5].split(","), args[6])
    elif cmd == "register": cmd_register(args[0], int(args[1]), int(args[2]), int(args[3]), args[4], args[5])
    elif cmd == "latency": cmd_latency(args[0], int(args[1]), args[2])
    elif cmd == "hold_ms": print(hold_ms(args[0]))
    elif cmd == "fmt_a": fmt_a(json.load(open(args[0])), args[1], args[2])
    elif cmd == "fmt_b": fmt_b(json.load(open(args[0])))
    elif cmd == "fmt_c": fmt_c(json.load(open(args[0])))
PY
H() { python3 "$WORK/helper.py" "$@"; }
now_ms() { python3 -c 'import time; print(int(time.time() * 1000))'; }

# start_demo NAME AGENTS: a fresh demo in the background; sets DEMO_PID, HTTP.
start_demo() {
    local name="$1" agents="$2"
    RUST_LOG="${DEMO_LOG:-warn}" "$BIN" demo --fresh --agents "$agents" --calls-per-minute 0.0001 \
        --listen 127.0.0.1:0 --sip "$SIP" --rtp-ports 20000-29999 \
        --data-dir "$WORK/$name" --prompts "$WORK/prompts" >"$WORK/$name.out" 2>"$WORK/$name.err" &
    DEMO_PID=$!
    local deadline=$((SECONDS + 120))
    HTTP=""
    while [ -z "$HTTP" ]; do
        [ $SECONDS -lt $deadline ] || { echo "error: the demo did not start" >&2; cat "$WORK/$name.err" >&2; exit 1; }
        kill -0 "$DEMO_PID" 2>/dev/null || { echo "error: the demo exited" >&2; cat "$WORK/$name.err" >&2; exit 1; }
        HTTP="$(sed -n 's|.*at http://\([0-9.:]*\)/.*|\1|p' "$WORK/$name.out" 2>/dev/null | head -1 || true)"
        sleep 0.2
    done
    grep -q "^SIP on $SIP" "$WORK/$name.out" || { echo "error: no telephony on $SIP:" >&2; cat "$WORK/$name.out" >&2; exit 1; }
}

stop_demo() {
    kill "$DEMO_PID" 2>/dev/null || true
    wait "$DEMO_PID" 2>/dev/null || true
    DEMO_PID=""
}

# A caller scenario with other menu keys (1 then $1) and media port in SDP ($2, optional).
caller_scenario() {
    local key="$1" file="$WORK/caller-$1.xml"
    sed "s|dtmf_2833_2.pcap|dtmf_2833_$key.pcap|" "$SCEN/uac_ivr_queue.xml" >"$file"
    echo "$file"
}

# run_sipp NAME SECONDS ARGS...: SIPp in the background, bounded; sets LAST_PID.
run_sipp() {
    local name="$1" secs="$2"
    shift 2
    (cd "$WORK" && exec timeout --signal=TERM --kill-after=5 "$secs" sipp "$@" -i 127.0.0.1 -mi 127.0.0.1 -nostdin \
        -trace_stat -stf "$WORK/$name.csv" -fd 1 -trace_err -error_file "$WORK/$name.err" >"$WORK/$name.log" 2>&1) &
    LAST_PID=$!
    BG_PIDS+=("$LAST_PID")
}

cores="$(nproc)"
out "# bench/sip-load.sh — $(date -u '+%Y-%m-%d %H:%M UTC'), $cores cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), $(sipp -v 2>/dev/null | grep -o 'SIPp v[0-9.]*' | head -1), load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
[ -n "$HOLD_MS" ] || HOLD_MS="$(H hold_ms "$WORK/prompts")"
SUPPORT="$(caller_scenario 2)"
BILLING="$(caller_scenario 3)"

# ---------------------------------------------------------------------------
# a. Call setup rate
# ---------------------------------------------------------------------------
if [[ " $PHASES " == *" a "* ]]; then
    out ""
    out "## a. call setup rate: IVR -> queue -> simulated agent (desktop) -> caller hangs up ${HOLD_MS} ms after its keys"
    out "A call succeeds when SIPp saw 200, sent ACK, its BYE got 200 and nothing unexpected came (no BYE from us), the call log"
    out "shows >= 300 RTP packets (6 s) sent to the caller (it heard the IVR), a contact in a queue and an agent who answered."
    out "calls/s asked (achieved: calls answered / first-to-last answer) | calls | SIPp ok | SIPp failed | heard IVR | queued | agent answered | all succeeded | INVITE->200 (SIPp, 1 ms resolution) | server CPU avg % | CPU peak % (1 s) | RSS peak MB | active calls peak"
    out "---|---|---|---|---|---|---|---|---|---|---|---|---"
    for rate in $RATES; do
        count="${COUNT:-$((rate * RATE_SECONDS))}"
        half=$((count / 2))
        say "a: $rate calls/s, $count calls ($AGENTS_A simulated agents)"
        start_demo "a$rate" "$AGENTS_A"
        TOKEN="$(H settings "$HTTP" 0 101)"
        H sample "$DEMO_PID" "$HTTP" "$TOKEN" "$WORK/a$rate-samples.csv" &
        SAMPLER=$!
        BG_PIDS+=("$SAMPLER")
        since="$(now_ms)"
        t0="$(date +%s.%N)"
        c0="$(H ticks "$DEMO_PID")"
        limit=$((count / rate + HOLD_MS / 1000 + 120))
        # Half the calls to Support (1, 2), half to Billing (1, 3); `-r N -rp 2000`: N/2 a second each.
        run_sipp "a$rate-support" "$limit" -sf "$SUPPORT" "$SIP" -s 100 -p 16000 -mp 30000 -m "$half" -r "$rate" -rp 2000 \
            -l "$count" -d "$HOLD_MS" -set speech 0 -timeout "${limit}s"
        p1=$LAST_PID
        run_sipp "a$rate-billing" "$limit" -sf "$BILLING" "$SIP" -s 100 -p 16001 -mp 30100 -m "$half" -r "$rate" -rp 2000 \
            -l "$count" -d "$HOLD_MS" -set speech 0 -timeout "${limit}s"
        p2=$LAST_PID
        wait "$p1" "$p2" || true
        c1="$(H ticks "$DEMO_PID")"
        t1="$(date +%s.%N)"
        sleep 3
        kill "$SAMPLER" 2>/dev/null || true
        r="$(H phase_a "$HTTP" "$TOKEN" "$since" "$WORK/a$rate-samples.csv" "$WORK/a$rate-support.csv,$WORK/a$rate-billing.csv" "$t0" "$t1" $((c1 - c0)))"
        echo "$r" >"$WORK/a$rate.json"
        cp "$WORK/a$rate.json" "$OUT/sip-load-a$rate.json"
        stop_demo
        out "$(H fmt_a "$WORK/a$rate.json" "$rate" "$count")"
        say "a: $rate calls/s: $r"
    done
fi

# ---------------------------------------------------------------------------
# b. Concurrent bridged and recorded calls
# ---------------------------------------------------------------------------
if [[ " $PHASES " == *" b "* ]]; then
    n="$CONCURRENT"
    # A fifth more agents (each with a phone) than callers: the queues route
    # by skill, and with exactly one agent per caller some callers would wait
    # for the last routing step (60 s) before anyone may take them.
    agents=$((n + n / 5))
    say "b: $agents phones, $n callers at $CONC_RATE calls/s"
    start_demo b "$agents"
    TOKEN="$(H settings "$HTTP" "$agents" 101)"
    PHONE_PORT=17000
    # The phones: one SIPp answering for all of them, talking until the BYE.
    ramp=$(((n + CONC_RATE - 1) / CONC_RATE))
    # Callers talk (7 s units) through the IVR, the queue and the bridge, then hold CONC_HOLD_S.
    speech=$(((ramp + 30 + CONC_HOLD_S) / 7 + 1))
    limit=$((ramp + speech * 8 + 120))
    if [ "$PHONE_MEDIA" = echo ]; then
        # The phones send back what they hear (SIPp's one RTP echo thread):
        # media both ways through the relay without a playback thread per
        # phone. (PHONE_MEDIA=pcap: each phone plays g711a.pcap in a loop,
        # a SIPp thread per call; with 500 calls that thread count, not the
        # server, saturates these 2 cores.)
        sed -e '/play_pcap_audio/d' "$SCEN/uas_agent_phone.xml" >"$WORK/phone-echo.xml"
        run_sipp b-phones "$limit" -sf "$WORK/phone-echo.xml" -p "$PHONE_PORT" -mp 31000 -rtp_echo -timeout "${limit}s"
    else
        run_sipp b-phones "$limit" -sf "$SCEN/uas_agent_phone.xml" -p "$PHONE_PORT" -mp 31000 -timeout "${limit}s"
    fi
    phones_pid=$LAST_PID
    sleep 1
    failed="$(H register "$SIP" 101 "$agents" "$PHONE_PORT" "$SCEN/uac_register_auth.xml" "$WORK")"
    registered="$(H status "$HTTP" "$TOKEN" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["registered"]))')"
    say "b: $registered phones registered ($failed registrations failed)"
    H sample "$DEMO_PID" "$HTTP" "$TOKEN" "$WORK/b-samples.csv" &
    SAMPLER=$!
    BG_PIDS+=("$SAMPLER")
    since="$(now_ms)"
    half=$((n / 2))
    run_sipp b-support "$limit" -sf "$SUPPORT" "$SIP" -s 100 -p 16000 -mp 30000 -m "$half" -r "$CONC_RATE" -rp 2000 \
        -l "$n" -d 1000 -set speech "$speech" -timeout "${limit}s"
    p1=$LAST_PID
    run_sipp b-billing "$limit" -sf "$BILLING" "$SIP" -s 100 -p 16001 -mp 30100 -m $((n - half)) -r "$CONC_RATE" -rp 2000 \
        -l "$n" -d 1000 -set speech "$speech" -timeout "${limit}s"
    p2=$LAST_PID
    wait "$p1" "$p2" || true
    sleep 3
    kill "$SAMPLER" 2>/dev/null || true
    kill "$phones_pid" 2>/dev/null || true
    wait "$phones_pid" 2>/dev/null || true
    r="$(H phase_b "$HTTP" "$TOKEN" "$since" "$WORK/b-samples.csv" "$WORK/b/recordings" "$WORK/b-support.csv,$WORK/b-billing.csv" "$WORK/b-phones.csv")"
    echo "$r" >"$WORK/b.json"
    cp "$WORK/b.json" "$OUT/sip-load-b.json"
    cp "$WORK/b-samples.csv" "$OUT/sip-load-b-samples.csv"
    stop_demo
    out ""
    out "## b. concurrent bridged + recorded calls ($n callers at $CONC_RATE calls/s, each talking ~$((speech * 7)) s; $agents simulated agents, $registered phones registered; phone media: $PHONE_MEDIA)"
    out "$(H fmt_b "$WORK/b.json")"
    say "b: $r"
fi

# ---------------------------------------------------------------------------
# c. Added media latency
# ---------------------------------------------------------------------------
if [[ " $PHASES " == *" c "* ]]; then
    say "c: latency probe ($LAT_PACKETS packets each way)"
    start_demo c 2
    # Agent 102 is the Support expert: its phone (a102) gets the call at once.
    TOKEN="$(H settings "$HTTP" 1 102)"
    H latency "$WORK/c-ports" "$LAT_PACKETS" "$WORK/c-ready" >"$WORK/c.json" &
    probe_pid=$!
    BG_PIDS+=("$probe_pid")
    while [ ! -s "$WORK/c-ports" ]; do sleep 0.1; done
    read -r caller_port phone_port <"$WORK/c-ports"
    # SIPp does the signalling only; the SDP names the probe's sockets, the keys come from the probe.
    sed -e "s|m=audio \[media_port\]|m=audio $caller_port|" -e '/dtmf_2833/d' "$SCEN/uac_ivr_queue.xml" >"$WORK/c-caller.xml"
    sed -e "s|m=audio \[media_port\]|m=audio $phone_port|" -e '/play_pcap_audio/d' "$SCEN/uas_agent_phone.xml" >"$WORK/c-phone.xml"
    lim=$((LAT_PACKETS / 50 + 150))
    run_sipp c-phone "$lim" -sf "$WORK/c-phone.xml" -p 17000 -mp 31000 -timeout "${lim}s"
    phone_sipp=$LAST_PID
    sleep 0.5
    H register "$SIP" 102 1 17000 "$SCEN/uac_register_auth.xml" "$WORK" >/dev/null
    run_sipp c-caller "$lim" -sf "$WORK/c-caller.xml" "$SIP" -s 100 -p 16000 -mp 30000 -m 1 -d $((LAT_PACKETS * 20 + 60000)) -set speech 0 -timeout "${lim}s"
    caller_sipp=$LAST_PID
    wait "$probe_pid" || true
    kill "$caller_sipp" "$phone_sipp" 2>/dev/null || true
    stop_demo
    cp "$WORK/c.json" "$OUT/sip-load-c.json"
    out ""
    out "## c. media latency added by the relay (loopback, $LAT_PACKETS packets of 20 ms each way)"
    out "$(H fmt_c "$WORK/c.json")"
fi

out ""
out "(raw results: bench/out/sip-load-*.json)"
