#!/usr/bin/env python3
"""An agent's desk phone built on PJSIP's pjsua2: registers with digest
authentication, answers the first call it is offered, and runs a step
script of what an agent does with the keys: hold, dial a colleague, hang up
the consultation, transfer (attended, REFER with Replaces). Prints one JSON
object with what happened. No sound card (null device); a tone is played
into every call; everything binds to 127.0.0.1.

    pjphone.py --registrar sip:127.0.0.1:5060 --user agent1 --password pw \\
        --steps "wait_incoming:60;hold;call:sip:agent2@127.0.0.1:5060;wait_answered:20;xfer_replaces;wait_idle:15" --json

Calls are numbered in the order they appear (incoming or placed); "the
customer's call" is the last incoming one, "the newest" the last placed.
Steps (separated by `;`), run in order:
    wait:SECONDS          sleep (SIP keeps being handled)
    wait_file:MAX:PATH    wait until PATH exists (the test's signal)
    wait_incoming:MAX     wait until a call came in and was answered
    hold                  put the customer's call on hold (re-INVITE, sendonly)
    call:URI              place a new call (a consultation, or internal) to URI
    wait_answered:MAX     wait until the newest call is answered
    hangup_last           hang up the newest call
    hangup_first          hang up the customer's call
    xfer_replaces         REFER on the customer's call to the newest one, with
                          Replaces (Call.xferReplaces)
    xfer_replaces_back    the same on the newest call, naming the customer's
    xfer_to:URI           REFER on the customer's call to URI as given (a
                          forged Replaces: escape `;` as %3B)
    wait_idle:MAX         wait until no call is up any more
When the script ends, any call still up is hung up.

Output (`--json`): registered, calls (per call: answered, end_status,
ended_by "remote"/"local"/null, tx_packets, rx_packets, rx_rms_dbfs of what
was heard), xfer_status (the last final sipfrag status NOTIFY reported),
xfer_statuses (every final one, in order), error.
Exit status 0 when the script ran (judge the JSON), 2 when it could not start.
"""

import argparse
import json
import math
import os
import sys
import tempfile
import threading
import time
import wave
import array

START = time.monotonic()
_REAL_STDOUT = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)  # PJSIP logs on fd 1: keep stdout for our JSON


def emit(result):
    _REAL_STDOUT.write(json.dumps(result) + "\n")
    _REAL_STDOUT.flush()


def parse_steps(text):
    steps = []
    for raw in (text or "").split(";"):
        raw = raw.strip()
        if not raw:
            continue
        name, _, arg = raw.partition(":")
        if name in ("wait", "wait_incoming", "wait_answered", "wait_idle"):
            steps.append((name, float(arg)))
        elif name == "wait_file":
            limit, _, path = arg.partition(":")
            steps.append((name, (float(limit), path)))
        elif name == "call":
            if not arg.startswith("sip:"):
                raise ValueError(f"step {raw!r}: call needs a sip: URI")
            steps.append((name, arg))
        elif name == "xfer_to":
            steps.append((name, arg))
        elif name in ("hold", "hangup_last", "hangup_first", "xfer_replaces", "xfer_replaces_back"):
            steps.append((name, None))
        else:
            raise ValueError(f"unknown step {raw!r}")
    return steps


def rms_dbfs(path):
    try:
        with wave.open(path, "rb") as w:
            data = w.readframes(w.getnframes())
    except (OSError, EOFError, wave.Error):
        return None
    samples = array.array("h")
    samples.frombytes(data[: len(data) - len(data) % 2])
    if not samples:
        return None
    rms = math.sqrt(sum(s * s for s in samples) / len(samples)) / 32768.0
    return round(20 * math.log10(rms), 2) if rms > 0 else -120.0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--registrar", required=True, help="sip:HOST:PORT of the registrar")
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--tone-hz", type=float, default=1000.0)
    ap.add_argument("--steps", default="wait_incoming:60;wait_idle:60")
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--log-level", type=int, default=3)
    ap.add_argument("--json", action="store_true", help="(always on; accepted for symmetry with pjcall.py)")
    args = ap.parse_args()

    result = {"registered": False, "calls": [], "xfer_status": None, "xfer_statuses": [], "error": None}

    def watchdog():
        time.sleep(args.timeout + 15)
        result["error"] = "watchdog: process did not finish in time"
        emit(result)
        os._exit(3)

    threading.Thread(target=watchdog, daemon=True).start()
    try:
        steps = parse_steps(args.steps)
        import pjsua2 as pj
    except (ValueError, ImportError) as e:
        result["error"] = f"cannot start: {e}"
        emit(result)
        return 2

    host = args.registrar.split(":", 1)[1]
    tmp = tempfile.mkdtemp(prefix="pjphone-")
    ep = pj.Endpoint()
    try:
        ep.libCreate()
        cfg = pj.EpConfig()
        cfg.uaConfig.threadCnt = 0
        cfg.uaConfig.mainThreadOnly = False
        cfg.uaConfig.maxCalls = 4
        cfg.uaConfig.userAgent = "switchboard-pjphone (pjsua2)"
        cfg.logConfig.level = args.log_level
        cfg.logConfig.consoleLevel = args.log_level
        cfg.medConfig.clockRate = 8000
        cfg.medConfig.sndClockRate = 8000
        cfg.medConfig.channelCount = 1
        cfg.medConfig.ecTailLen = 0
        cfg.medConfig.noVad = True
        ep.libInit(cfg)
        tcfg = pj.TransportConfig()
        tcfg.boundAddress = "127.0.0.1"
        tcfg.publicAddress = "127.0.0.1"
        ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tcfg)
        ep.libStart()
        ep.audDevManager().setNullDev()
        for ci in ep.codecEnum2():
            name = ci.codecId.split("/")[0].upper()
            ep.codecSetPriority(ci.codecId, {"PCMU": 255, "PCMA": 254}.get(name, 0))
    except Exception as e:
        result["error"] = f"cannot start: {e.info() if hasattr(e, 'info') else e}"
        emit(result)
        os._exit(2)

    calls = []  # Phone objects, in order
    incoming = []  # the ones that came in
    placed = []  # the ones we placed
    infos = []  # their result dicts
    media = []  # tone generators and recorders, kept alive

    class Phone(pj.Call):
        def __init__(self, acc, call_id=pj.PJSUA_INVALID_ID):
            super().__init__(acc, call_id)
            self.info = {"answered": False, "end_status": None, "ended_by": None, "tx_packets": 0,
                         "rx_packets": 0, "rx_rms_dbfs": None}
            self.confirmed = False
            self.ended = False
            self.local_end = False
            self.record = os.path.join(tmp, f"call{len(calls)}.wav")
            self.has_media = False
            calls.append(self)
            infos.append(self.info)

        def onCallState(self, prm):
            ci = self.getInfo()
            if ci.state == pj.PJSIP_INV_STATE_CONFIRMED:
                self.confirmed = True
                self.info["answered"] = True
            if ci.state == pj.PJSIP_INV_STATE_DISCONNECTED:
                self.ended = True
                self.info["end_status"] = ci.lastStatusCode
                self.info["ended_by"] = "local" if self.local_end else "remote"

        def onCallMediaState(self, prm):
            ci = self.getInfo()
            for i, mi in enumerate(ci.media):
                if mi.type == pj.PJMEDIA_TYPE_AUDIO and mi.status == pj.PJSUA_CALL_MEDIA_ACTIVE and not self.has_media:
                    self.has_media = True
                    aud = self.getAudioMedia(i)
                    t = pj.ToneGenerator()
                    t.createToneGenerator(8000, 1)
                    td = pj.ToneDesc()
                    td.freq1 = int(args.tone_hz)
                    td.freq2 = 0
                    td.on_msec = 1000
                    td.off_msec = 0
                    td.volume = 0  # PJSIP's default level (unset, it is garbage)
                    v = pj.ToneDescVector()
                    v.append(td)
                    t.play(v, True)
                    t.startTransmit(aud)
                    r = pj.AudioMediaRecorder()
                    r.createRecorder(self.record)
                    aud.startTransmit(r)
                    media.extend([t, r])

        def onCallTransferStatus(self, prm):
            if prm.finalNotify:
                result["xfer_status"] = prm.statusCode
                result["xfer_statuses"].append(prm.statusCode)
            prm.cont = not prm.finalNotify

        def sample(self):
            if self.has_media and not self.ended:
                try:
                    st = self.getStreamStat(0)
                    self.info["tx_packets"] = st.rtcp.txStat.pkt
                    self.info["rx_packets"] = st.rtcp.rxStat.pkt
                except Exception:
                    pass

    class Account(pj.Account):
        def onRegState(self, prm):
            if prm.code == 200 and prm.expiration > 0:
                result["registered"] = True

        def onIncomingCall(self, prm):
            c = Phone(self, prm.callId)
            incoming.append(c)
            op = pj.CallOpParam()
            op.statusCode = 200
            c.answer(op)

    acfg = pj.AccountConfig()
    acfg.idUri = f"sip:{args.user}@{host}"
    acfg.regConfig.registrarUri = args.registrar
    acfg.regConfig.timeoutSec = 300
    acfg.natConfig.iceEnabled = False
    acfg.natConfig.sdpNatRewriteUse = 0
    acfg.natConfig.viaRewriteUse = 0
    acfg.natConfig.contactRewriteUse = 0
    acfg.mediaConfig.transportConfig.boundAddress = "127.0.0.1"
    acfg.mediaConfig.transportConfig.publicAddress = "127.0.0.1"
    # Any free RTP port: PJSIP's default (4000) collides with the other
    # PJSIP peers of tests running at the same time.
    acfg.mediaConfig.transportConfig.port = 0
    acfg.sipConfig.authCreds.append(pj.AuthCredInfo("digest", "*", args.user, 0, args.password))
    acc = Account()
    acc.create(acfg)

    deadline = START + args.timeout
    last_sample = [0.0]

    def run_until(pred, limit):
        until = min(deadline, time.monotonic() + limit)
        while not pred():
            if time.monotonic() >= until:
                return False
            ep.libHandleEvents(10)
            if time.monotonic() - last_sample[0] > 0.25:
                last_sample[0] = time.monotonic()
                for c in calls:
                    c.sample()
        return True

    def fail(text):
        result["error"] = text

    run_until(lambda: result["registered"], 15)
    if not result["registered"]:
        fail("did not register")
        steps = []
    for name, arg in steps:
        try:
            if name == "wait":
                run_until(lambda: False, arg)
            elif name == "wait_file":
                limit, path = arg
                if not run_until(lambda: os.path.exists(path), limit):
                    fail(f"{path} did not appear")
                    break
            elif name == "wait_incoming":
                if not run_until(lambda: incoming and incoming[-1].confirmed, arg):
                    fail("no incoming call answered")
                    break
            elif name == "hold":
                incoming[-1].setHold(pj.CallOpParam(True))
                run_until(lambda: False, 0.5)
            elif name == "call":
                c = Phone(acc)
                placed.append(c)
                c.makeCall(arg, pj.CallOpParam(True))
            elif name == "wait_answered":
                c = placed[-1]
                if not run_until(lambda: c.confirmed or c.ended, arg) or not c.confirmed:
                    fail(f"call {calls.index(c)} was not answered")
                    break
            elif name in ("hangup_last", "hangup_first"):
                c = placed[-1] if name == "hangup_last" else incoming[-1]
                c.local_end = True
                c.hangup(pj.CallOpParam(True))
                run_until(lambda: c.ended, 5)
            elif name == "xfer_replaces":
                incoming[-1].xferReplaces(placed[-1], pj.CallOpParam(True))
            elif name == "xfer_replaces_back":
                placed[-1].xferReplaces(incoming[-1], pj.CallOpParam(True))
            elif name == "xfer_to":
                incoming[-1].xfer(arg, pj.CallOpParam(True))
            elif name == "wait_idle":
                if not run_until(lambda: all(c.ended for c in calls), arg):
                    fail("calls still up")
                    break
        except Exception as e:
            fail(f"step {name}: {e.info() if hasattr(e, 'info') else e}")
            break
    for c in calls:
        c.sample()
        if not c.ended:
            c.local_end = True
            try:
                c.hangup(pj.CallOpParam(True))
            except Exception:
                pass
    run_until(lambda: all(c.ended for c in calls), 5)
    media.clear()
    for _ in range(5):
        ep.libHandleEvents(10)
    for c in calls:
        c.info["rx_rms_dbfs"] = rms_dbfs(c.record)
    result["calls"] = infos
    try:
        calls.clear()
        ep.libDestroy()
    except Exception:
        pass
    emit(result)
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
