#!/usr/bin/env python3
"""A scriptable SIP caller built on PJSIP's pjsua2 (PyPI `pjsua2-python`).

Places one call, plays audio into it, records what it hears, runs a tiny
step script (waits, RFC 4733 DTMF, hang-up) and prints one JSON object with
what happened. No sound card: PJSIP's null audio device drives the clock.
Everything binds to 127.0.0.1.

    pjcall.py --target sip:100@127.0.0.1:5060 \
        --steps "wait:2;dtmf:1;wait:3;dtmf:2;wait_until_bye:60" --json

Steps (separated by `;`), run in order:
    wait:SECONDS           sleep (SIP keeps being handled)
    dtmf:DIGITS            RFC 4733 telephone-events (call.dialDtmf)
    hangup                 hang up (CANCEL before answer, BYE after)
    wait_until_bye:MAX     wait until the other side ends the call
    wait_answered:MAX      wait until the call is answered (200 OK + ACK)
    wait_file:MAX:PATH     wait until PATH exists (a test's signal to go on)
By default (`--steps-start answer`) the script starts once the call is
answered, waiting at most `--timeout` for that; with `--steps-start invite`
it starts right after the INVITE is sent (e.g. "wait:5;hangup" to abandon a
ringing call). When the script ends and the call is still up, it is hung up.

Output (`--json`, one line on stdout; PJSIP's own log goes to stderr):
    answered, answered_at_s, ended_at_s (seconds since the INVITE was sent),
    end_reason ("remote_bye", "local_hangup", "rejected", "timeout",
    "error"), last_status (SIP code), last_reason, dtmf_sent, dtmf_errors,
    rx_rms_dbfs_per_second (RMS of what we heard, per second from the start
    of media, -120.0 for digital silence), tx_packets, rx_packets, rx_loss,
    codec, record (path), error (null or text).

Exit status: 0 when the call was attempted (look at the JSON to judge it),
2 when the user agent could not even start (bad arguments, no pjsua2,
port in use, bad target). The process always ends by itself: a watchdog
kills it `--timeout` + 15 seconds after start whatever happens.
"""

import argparse
import array
import json
import math
import os
import sys
import tempfile
import threading
import time
import wave

START = time.monotonic()

# PJSIP prints its log (and a few banner lines) on file descriptor 1. Keep
# stdout for our JSON: point fd 1 at stderr and keep a private copy of the
# real stdout.
_REAL_STDOUT = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)


def emit(result, as_json):
    if as_json:
        _REAL_STDOUT.write(json.dumps(result) + "\n")
    else:
        for k, v in result.items():
            _REAL_STDOUT.write(f"{k}: {v}\n")
    _REAL_STDOUT.flush()


def parse_steps(text):
    steps = []
    for raw in (text or "").split(";"):
        raw = raw.strip()
        if not raw:
            continue
        name, _, arg = raw.partition(":")
        name = name.strip()
        arg = arg.strip()
        if name in ("wait", "wait_until_bye", "wait_answered"):
            try:
                value = float(arg)
            except ValueError:
                raise ValueError(f"step {raw!r}: {name} needs a number of seconds")
            if value < 0:
                raise ValueError(f"step {raw!r}: negative time")
            steps.append((name, value))
        elif name == "dtmf":
            if not arg or any(c not in "0123456789*#ABCDabcd" for c in arg):
                raise ValueError(f"step {raw!r}: dtmf needs digits from 0-9*#A-D")
            steps.append((name, arg))
        elif name == "hangup":
            steps.append((name, None))
        elif name == "wait_file":
            limit, _, path = arg.partition(":")
            try:
                limit = float(limit)
            except ValueError:
                raise ValueError(f"step {raw!r}: wait_file needs MAX_SECONDS:PATH")
            if not path:
                raise ValueError(f"step {raw!r}: wait_file needs a path")
            steps.append((name, (limit, path)))
        else:
            raise ValueError(f"unknown step {raw!r}")
    return steps


def rms_per_second(path):
    """RMS level of a 16-bit PCM WAV file, in dBFS, one value per second."""
    try:
        with wave.open(path, "rb") as w:
            rate = w.getframerate()
            channels = w.getnchannels()
            width = w.getsampwidth()
            data = w.readframes(w.getnframes())
    except (OSError, EOFError, wave.Error):
        return []
    if width != 2 or rate <= 0:
        return []
    samples = array.array("h")
    samples.frombytes(data[: len(data) - len(data) % 2])
    if sys.byteorder == "big":
        samples.byteswap()
    per_second = rate * channels
    out = []
    for start in range(0, len(samples), per_second):
        chunk = samples[start : start + per_second]
        if len(chunk) < per_second // 4:
            break
        mean_sq = sum(s * s for s in chunk) / len(chunk)
        rms = math.sqrt(mean_sq) / 32768.0
        out.append(round(20 * math.log10(rms), 2) if rms > 0 else -120.0)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", required=True, help="SIP URI to call, e.g. sip:100@127.0.0.1:5060")
    ap.add_argument("--local-port", type=int, default=0, help="local SIP UDP port (0 = any)")
    ap.add_argument("--from-user", default="pjcall", help="user part of our From URI")
    ap.add_argument("--auth-user", default=None, help="digest user name, if the server challenges")
    ap.add_argument("--auth-pass", default=None, help="digest password")
    ap.add_argument("--play", default=None, help="8 kHz mono WAV played into the call in a loop (default: 440 Hz tone)")
    ap.add_argument("--tone-hz", type=float, default=440.0, help="tone frequency when --play is not given")
    ap.add_argument("--record", default=None, help="WAV file of what the caller hears (default: a temporary file)")
    ap.add_argument("--steps", default="wait:5", help="step script, see above (default: wait:5)")
    ap.add_argument("--steps-start", choices=("answer", "invite"), default="answer")
    ap.add_argument("--timeout", type=float, default=60.0, help="overall limit in seconds (default 60)")
    ap.add_argument("--codecs", default="PCMU,PCMA", help="codecs to offer, in order (default PCMU,PCMA)")
    ap.add_argument("--rtp-port", type=int, default=0, help="first local RTP port (0 = any)")
    ap.add_argument(
        "--tls-ca",
        default=None,
        help="CA file (PEM): also open a TLS transport that verifies the server against it "
        "(call a `;transport=tls` target); fails to start when PJSIP has no TLS",
    )
    ap.add_argument("--log-level", type=int, default=3, help="PJSIP log level on stderr (0-6, default 3)")
    ap.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    args = ap.parse_args()

    result = {
        "answered": False,
        "answered_at_s": None,
        "ended_at_s": None,
        "end_reason": None,
        "last_status": None,
        "last_reason": None,
        "dtmf_sent": "",
        "dtmf_errors": [],
        "rx_rms_dbfs_per_second": [],
        "tx_packets": 0,
        "rx_packets": 0,
        "rx_loss": 0,
        "codec": None,
        "record": None,
        "error": None,
    }

    # Hard bound on the process whatever PJSIP does (a hung destroy, ...).
    def watchdog():
        time.sleep(args.timeout + 15)
        result["error"] = "watchdog: process did not finish in time"
        try:
            emit(result, args.json)
        finally:
            os._exit(3)

    threading.Thread(target=watchdog, daemon=True).start()

    try:
        steps = parse_steps(args.steps)
        if not args.target.startswith(("sip:", "sips:")):
            raise ValueError("--target must be a sip: URI")
        if args.play and not os.path.isfile(args.play):
            raise ValueError(f"--play file not found: {args.play}")
        import pjsua2 as pj  # noqa: F401  (import error = cannot start)
    except (ValueError, ImportError) as e:
        result["error"] = f"cannot start: {e}"
        result["end_reason"] = "error"
        emit(result, args.json)
        return 2

    record_path = args.record
    tmp_record = None
    if not record_path:
        fd, tmp_record = tempfile.mkstemp(prefix="pjcall-", suffix=".wav")
        os.close(fd)
        record_path = tmp_record
    result["record"] = record_path

    state = {
        "confirmed": False,
        "disconnected": False,
        "media_active": False,
        "local_hangup": False,
        "t_answer": None,
        "t_end": None,
        "status": None,
        "reason": None,
    }
    t_invite = [None]

    ep = pj.Endpoint()
    try:
        ep.libCreate()
        cfg = pj.EpConfig()
        cfg.uaConfig.threadCnt = 0  # all SIP work and callbacks run in this thread
        cfg.uaConfig.mainThreadOnly = False
        cfg.uaConfig.maxCalls = 4
        cfg.uaConfig.userAgent = "switchboard-pjcall (pjsua2)"
        cfg.logConfig.level = max(args.log_level, 0)
        cfg.logConfig.consoleLevel = max(args.log_level, 0)
        cfg.medConfig.clockRate = 8000
        cfg.medConfig.sndClockRate = 8000
        cfg.medConfig.channelCount = 1
        cfg.medConfig.ecTailLen = 0
        cfg.medConfig.noVad = True
        ep.libInit(cfg)

        tcfg = pj.TransportConfig()
        tcfg.boundAddress = "127.0.0.1"
        tcfg.publicAddress = "127.0.0.1"
        tcfg.port = args.local_port
        ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tcfg)
        if args.tls_ca:
            if not os.path.isfile(args.tls_ca):
                raise ValueError(f"--tls-ca file not found: {args.tls_ca}")
            tls = pj.TransportConfig()
            tls.boundAddress = "127.0.0.1"
            tls.publicAddress = "127.0.0.1"
            tls.port = 0
            tls.tlsConfig.CaListFile = args.tls_ca
            tls.tlsConfig.verifyServer = True
            ep.transportCreate(pj.PJSIP_TRANSPORT_TLS, tls)
        ep.libStart()
        ep.audDevManager().setNullDev()

        wanted = [c.strip().upper() for c in args.codecs.split(",") if c.strip()]
        for ci in ep.codecEnum2():
            name = ci.codecId.split("/")[0].upper()
            prio = 255 - wanted.index(name) if name in wanted else 0
            ep.codecSetPriority(ci.codecId, prio)

        acfg = pj.AccountConfig()
        acfg.idUri = f"sip:{args.from_user}@127.0.0.1"
        acfg.regConfig.registrarUri = ""
        acfg.regConfig.registerOnAdd = False
        acfg.natConfig.iceEnabled = False
        acfg.natConfig.sdpNatRewriteUse = 0
        acfg.natConfig.viaRewriteUse = 0
        acfg.natConfig.contactRewriteUse = 0
        acfg.mediaConfig.transportConfig.boundAddress = "127.0.0.1"
        acfg.mediaConfig.transportConfig.publicAddress = "127.0.0.1"
        acfg.mediaConfig.transportConfig.port = args.rtp_port
        if args.auth_user:
            acfg.sipConfig.authCreds.append(pj.AuthCredInfo("digest", "*", args.auth_user, 0, args.auth_pass or ""))
        acc = pj.Account()
        acc.create(acfg)
    except Exception as e:  # pj.Error and friends
        result["error"] = f"cannot start: {e.info() if hasattr(e, 'info') else e}"
        result["end_reason"] = "error"
        if tmp_record:
            os.unlink(tmp_record)
            result["record"] = None
        emit(result, args.json)
        os._exit(2)

    media = {"player": None, "tone": None, "recorder": None, "aud": None}

    class Call(pj.Call):
        def onCallState(self, prm):
            ci = self.getInfo()
            state["status"] = ci.lastStatusCode
            state["reason"] = ci.lastReason
            if ci.state == pj.PJSIP_INV_STATE_CONFIRMED and not state["confirmed"]:
                state["confirmed"] = True
                state["t_answer"] = time.monotonic()
            if ci.state == pj.PJSIP_INV_STATE_DISCONNECTED:
                state["disconnected"] = True
                state["t_end"] = time.monotonic()

        def onCallMediaState(self, prm):
            ci = self.getInfo()
            for i, mi in enumerate(ci.media):
                if mi.type == pj.PJMEDIA_TYPE_AUDIO and mi.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                    aud = self.getAudioMedia(i)
                    if media["aud"] is not None:
                        continue
                    media["aud"] = aud
                    state["media_active"] = True
                    if args.play:
                        p = pj.AudioMediaPlayer()
                        p.createPlayer(args.play, 0)  # 0 = loop
                        p.startTransmit(aud)
                        media["player"] = p
                    else:
                        t = pj.ToneGenerator()
                        t.createToneGenerator(8000, 1)
                        td = pj.ToneDesc()
                        td.freq1 = int(args.tone_hz)
                        td.freq2 = 0
                        td.on_msec = 1000
                        td.off_msec = 0
                        td.volume = 0
                        v = pj.ToneDescVector()
                        v.append(td)
                        t.play(v, True)
                        t.startTransmit(aud)
                        media["tone"] = t
                    r = pj.AudioMediaRecorder()
                    r.createRecorder(record_path)
                    aud.startTransmit(r)
                    media["recorder"] = r

    call = Call(acc)
    deadline = START + args.timeout

    def pump(ms=10):
        ep.libHandleEvents(ms)

    def sample_stats():
        if state["media_active"] and not state["disconnected"]:
            try:
                st = call.getStreamStat(0)
                result["tx_packets"] = st.rtcp.txStat.pkt
                result["rx_packets"] = st.rtcp.rxStat.pkt
                result["rx_loss"] = st.rtcp.rxStat.loss
                si = call.getStreamInfo(0)
                result["codec"] = si.codecName
            except Exception:
                pass

    last_sample = [0.0]

    def run_until(pred, until):
        """Handle events until pred() holds or time `until`; False on the overall timeout."""
        while not pred():
            now = time.monotonic()
            if now >= deadline:
                return False
            if now >= until:
                return True
            pump(10)
            if now - last_sample[0] > 0.25:
                last_sample[0] = now
                sample_stats()
        return True

    timed_out = False
    try:
        prm = pj.CallOpParam(True)
        t_invite[0] = time.monotonic()
        call.makeCall(args.target, prm)
    except Exception as e:
        result["error"] = f"makeCall failed: {e.info() if hasattr(e, 'info') else e}"
        result["end_reason"] = "error"
        state["disconnected"] = True
    else:
        if args.steps_start == "answer":
            if not run_until(lambda: state["confirmed"] or state["disconnected"], deadline):
                timed_out = True
        for name, arg in steps if not (state["disconnected"] or timed_out) else []:
            if state["disconnected"] and name != "wait":
                break
            if name == "wait":
                if not run_until(lambda: False, time.monotonic() + arg):
                    timed_out = True
                    break
            elif name == "wait_answered":
                if not run_until(lambda: state["confirmed"] or state["disconnected"], time.monotonic() + arg):
                    timed_out = True
                    break
                if not state["confirmed"]:
                    break
            elif name == "wait_file":
                limit, path = arg
                if not run_until(lambda: os.path.exists(path) or state["disconnected"], time.monotonic() + limit):
                    timed_out = True
                    break
            elif name == "wait_until_bye":
                if not run_until(lambda: state["disconnected"], time.monotonic() + arg):
                    timed_out = True
                    break
            elif name == "dtmf":
                try:
                    call.dialDtmf(arg)
                    result["dtmf_sent"] += arg
                    # Let the events go out (each digit ~ 200 ms incl. pause).
                    run_until(lambda: False, time.monotonic() + 0.25 * len(arg))
                except Exception as e:
                    result["dtmf_errors"].append(f"{arg}: {e.info() if hasattr(e, 'info') else e}")
            elif name == "hangup":
                break
        # Script over (or timed out): end the call if it is still up.
        sample_stats()
        if not state["disconnected"]:
            state["local_hangup"] = True
            try:
                call.hangup(pj.CallOpParam(True))
            except Exception:
                pass
            # Up to 5 s for the BYE/CANCEL to be answered, even past --timeout
            # (the watchdog still bounds the process).
            until = time.monotonic() + 5
            while not state["disconnected"] and time.monotonic() < until:
                pump(10)

    # Close the media ports first so the WAV header is complete.
    for k in ("player", "tone"):
        if media[k] is not None:
            try:
                media[k].stopTransmit(media["aud"])
            except Exception:
                pass
    rec = media.pop("recorder")
    if rec is not None:
        del rec
    media.clear()
    for _ in range(5):
        pump(10)

    t0 = t_invite[0] or START
    if state["confirmed"]:
        result["answered"] = True
        result["answered_at_s"] = round(state["t_answer"] - t0, 3)
    if state["t_end"] is not None:
        result["ended_at_s"] = round(state["t_end"] - t0, 3)
    result["last_status"] = state["status"]
    result["last_reason"] = state["reason"]
    if result["end_reason"] is None:
        if timed_out and not state["confirmed"]:
            result["end_reason"] = "timeout"
        elif timed_out:
            result["end_reason"] = "timeout"
        elif not state["confirmed"]:
            result["end_reason"] = "local_hangup" if state["local_hangup"] else "rejected"
        else:
            result["end_reason"] = "local_hangup" if state["local_hangup"] else "remote_bye"
    if not state["disconnected"] and result["error"] is None:
        result["error"] = "the call did not end within 5 s of hanging up"
    result["rx_rms_dbfs_per_second"] = rms_per_second(record_path) if os.path.exists(record_path) else []
    if tmp_record:
        os.unlink(tmp_record)
        result["record"] = None

    try:
        del call
        ep.libDestroy()
    except Exception:
        pass
    emit(result, args.json)
    _REAL_STDOUT.flush()
    # Skip interpreter teardown: pjsua2 objects must not be collected after
    # the library is gone.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
