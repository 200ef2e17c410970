//! The third-party SIP peers of the end-to-end tests (`tests/peers`), proven
//! against each other on loopback before they are pointed at our server:
//! a PJSIP caller calls baresip directly (answer, two-way audio, RFC 4733
//! DTMF, hang-up), SIPp calls SIPp, baresip registers with a SIPp registrar
//! and dials over its control socket, and the malformed-message scenario
//! loads and ends by itself. Without the peers the tests print why they
//! skip; under `CI` they fail (`.ci/run` installs them).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod peers;

use peers::{Baresip, BaresipOptions, Peer, PjCall, SippProc};
use std::time::{Duration, Instant};

#[test]
fn pjsip_calls_baresip_two_way_audio_dtmf_and_hangup() {
    if peers::require(&[Peer::Pjsua, Peer::Baresip]).is_err() {
        return;
    }
    let started = Instant::now();
    // The agent's phone plays 1 kHz; the caller plays pjcall's 440 Hz tone.
    let mut agent = Baresip::start(BaresipOptions { tone_hz: 1000.0, ..Default::default() }).unwrap();
    let dir = peers::temp_dir("pjcall-rec");
    let heard = dir.join("caller-heard.wav");
    let r = peers::pjcall(&[
        "--target",
        &agent.uri(),
        "--record",
        heard.to_str().unwrap(),
        "--steps",
        "wait:3;dtmf:1;wait:1;dtmf:2#;wait:1;hangup",
        "--timeout",
        "30",
    ])
    .unwrap();
    let ctx = format!("{r:?}\n--- PJSIP log:\n{}", peers::tail(&r.log, 40));
    assert_eq!(r.exit_code, Some(0), "{ctx}");
    assert!(r.error.is_none(), "{ctx}");
    assert!(r.answered, "not answered: {ctx}");
    assert!(r.answered_at_s.unwrap() < 2.0, "{ctx}");
    assert_eq!(r.end_reason.as_deref(), Some("local_hangup"), "{ctx}");
    assert_eq!(r.dtmf_sent, "12#", "{ctx}");
    assert!(r.dtmf_errors.is_empty(), "{ctx}");
    assert_eq!(r.codec.as_deref(), Some("PCMU"), "{ctx}");
    // ~5.5 s of 20 ms packets each way.
    assert!(r.rx_packets > 200 && r.tx_packets > 200, "{ctx}");
    assert!(r.rx_rms_dbfs_per_second.len() >= 4, "{ctx}");
    assert!(r.rx_rms_dbfs_per_second.iter().all(|&db| db > -40.0), "caller heard silence: {ctx}");
    let wav = peers::read_wav(&heard).unwrap();
    let hz = wav.tone_hz();
    assert!((hz - 1000.0).abs() < 50.0, "caller heard {hz:.0} Hz, not the agent's 1 kHz");

    // baresip saw the digits and the BYE, and heard the caller's tone.
    agent.wait_log("terminated", Duration::from_secs(5)).unwrap();
    assert_eq!(agent.dtmf_received(), "12#");
    assert_eq!(agent.active_calls().unwrap(), 0);
    agent.stop().unwrap();
    let recs = agent.recordings();
    assert_eq!(recs.len(), 1, "{recs:?}");
    let wav = peers::read_wav(&recs[0]).unwrap();
    assert!(wav.seconds() > 4.0, "agent recording {:.1} s", wav.seconds());
    let levels = wav.rms_dbfs_per_second();
    assert!(levels.iter().filter(|&&db| db > -40.0).count() >= 4, "agent heard {levels:?}");
    let hz = wav.tone_hz();
    assert!((hz - 440.0).abs() < 30.0, "agent heard {hz:.0} Hz, not the caller's 440 Hz");
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("pjsip -> baresip call checked in {:.1} s", started.elapsed().as_secs_f64());
}

#[test]
fn pjsip_reports_a_rejected_call() {
    if peers::require(&[Peer::Pjsua, Peer::Baresip]).is_err() {
        return;
    }
    let agent = Baresip::start(BaresipOptions::default()).unwrap();
    // An unknown user at baresip's port: 404, not answered, no media.
    let target = format!("sip:nobody@127.0.0.1:{}", agent.sip_port());
    let call = PjCall::spawn(&["--target", &target, "--timeout", "15"]).unwrap();
    let r = call.wait(Duration::from_secs(30)).unwrap();
    assert!(!r.answered, "{r:?}");
    assert_eq!(r.last_status, Some(404), "{r:?}");
    assert_eq!(r.end_reason.as_deref(), Some("rejected"), "{r:?}");
    assert!(r.rx_rms_dbfs_per_second.is_empty() && r.rx_packets == 0, "{r:?}");
}

#[test]
fn pjcall_fails_to_start_on_a_bad_target() {
    if peers::require(&[Peer::Pjsua]).is_err() {
        return;
    }
    let r = peers::pjcall(&["--target", "http://127.0.0.1/", "--timeout", "5"]).unwrap();
    assert_eq!(r.exit_code, Some(2), "{r:?}");
    assert!(r.error.as_deref().unwrap_or_default().contains("cannot start"), "{r:?}");
}

#[test]
fn sipp_uac_makes_ten_calls_to_sipp_uas() {
    if peers::require(&[Peer::Sipp]).is_err() {
        return;
    }
    let uas = SippProc::spawn(&["-sn", "uas", "-m", "10", "-timeout", "30s"]).unwrap();
    let target = format!("127.0.0.1:{}", uas.port);
    std::thread::sleep(Duration::from_millis(300));
    let uac = peers::sipp(
        &["-sn", "uac", &target, "-m", "10", "-r", "10", "-l", "10", "-d", "500", "-timeout", "30s"],
        Duration::from_secs(40),
    )
    .unwrap();
    let ctx = format!("{:?}\n{}\n{}", uac.stats, peers::tail(&uac.output, 30), uac.errors);
    assert_eq!(uac.code, Some(0), "{ctx}");
    assert_eq!((uac.successful, uac.failed), (10, 0), "{ctx}");
    let uas = uas.wait(Duration::from_secs(20)).unwrap();
    assert_eq!(uas.code, Some(0), "{}", peers::tail(&uas.output, 30));
    assert_eq!((uas.successful, uas.failed), (10, 0), "{:?}", uas.stats);
}

#[test]
fn baresip_registers_dials_and_hangs_up_over_ctrl_tcp() {
    if peers::require(&[Peer::Sipp, Peer::Baresip]).is_err() {
        return;
    }
    let sip = peers::sip_dir();
    // A registrar (SIPp, tests/sip/uas_register.xml) for the agent's phone.
    let registrar =
        SippProc::spawn(&["-sf", sip.join("uas_register.xml").to_str().unwrap(), "-m", "1", "-timeout", "20s"])
            .unwrap();
    let agent = Baresip::start(BaresipOptions {
        registrar: Some(format!("127.0.0.1:{}", registrar.port)),
        auth_pass: Some("secret".into()),
        ..Default::default()
    })
    .unwrap();
    agent.wait_registered(Duration::from_secs(10)).unwrap();
    assert!(agent.log().contains("200 OK"), "{}", agent.log());

    // A callee (SIPp's built-in UAS): the phone dials it, then hangs up.
    let callee = SippProc::spawn(&["-sn", "uas", "-m", "1", "-timeout", "20s"]).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    agent.command("dial", &format!("sip:service@127.0.0.1:{}", callee.port)).unwrap();
    agent.wait_log("Call established", Duration::from_secs(10)).unwrap();
    assert_eq!(agent.active_calls().unwrap(), 1);
    std::thread::sleep(Duration::from_millis(500));
    agent.command("hangup", "").unwrap();
    let callee = callee.wait(Duration::from_secs(10)).unwrap();
    assert_eq!((callee.code, callee.successful), (Some(0), 1), "{}", peers::tail(&callee.output, 30));
    drop(agent);
    let _ = registrar.stop();
}

#[test]
fn sipp_load_scenario_sends_speech_and_dtmf_to_baresip() {
    if peers::require(&[Peer::Sipp, Peer::Baresip]).is_err() {
        return;
    }
    let mut agent = Baresip::start(BaresipOptions::default()).unwrap();
    let scenario = peers::sip_dir().join("uac_load.xml");
    let target = format!("127.0.0.1:{}", agent.sip_port());
    let r = peers::sipp(
        &["-sf", scenario.to_str().unwrap(), &target, "-s", "agent1", "-m", "1", "-d", "500", "-timeout", "40s"],
        Duration::from_secs(50),
    )
    .unwrap();
    let ctx = format!("{}\n{}", peers::tail(&r.output, 30), r.errors);
    assert_eq!((r.code, r.successful, r.failed), (Some(0), 1, 0), "{ctx}");
    agent.wait_log("terminated", Duration::from_secs(5)).unwrap();
    assert_eq!(agent.dtmf_received(), "1", "the pcap's RFC 4733 digit");
    agent.stop().unwrap();
    let recs = agent.recordings();
    assert_eq!(recs.len(), 1, "{recs:?}");
    let levels = peers::read_wav(&recs[0]).unwrap().rms_dbfs_per_second();
    // g711a.pcap is 7 s of speech: most seconds are well above silence.
    assert!(levels.iter().filter(|&&db| db > -40.0).count() >= 5, "agent heard {levels:?}");
}

/// `tests/sip/malformed.xml` against `tests/sip/conformant_uas.py`, a
/// stand-in that answers as RFC 3261 wants: the scenario passes, so its
/// expectations are right and it ends by itself.
#[test]
fn malformed_scenario_passes_against_a_conforming_responder() {
    if peers::require(&[Peer::Sipp]).is_err() {
        return;
    }
    let port = peers::free_udp_port();
    let mut responder = std::process::Command::new("python3")
        .arg(peers::sip_dir().join("conformant_uas.py"))
        .args([&port.to_string(), "60"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for its "listening" line.
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(responder.stdout.take().unwrap()), &mut line).unwrap();
    assert!(line.contains("listening"), "{line}");
    let started = Instant::now();
    let scenario = peers::sip_dir().join("malformed.xml");
    let target = format!("127.0.0.1:{port}");
    let r = peers::sipp(
        &["-sf", scenario.to_str().unwrap(), &target, "-s", "100", "-m", "1", "-timeout", "60s"],
        Duration::from_secs(70),
    )
    .unwrap();
    let _ = responder.kill();
    let _ = responder.wait();
    assert_eq!((r.code, r.successful, r.failed), (Some(0), 1, 0), "{}\n{}", peers::tail(&r.output, 50), r.errors);
    assert!(started.elapsed() < Duration::from_secs(20), "took {:?}", started.elapsed());
}

/// With nothing listening, the malformed-message scenario fails (no 481 to
/// its BYE) and stops by itself, well within its bound.
#[test]
fn malformed_scenario_ends_by_itself_against_silence() {
    if peers::require(&[Peer::Sipp]).is_err() {
        return;
    }
    let port = peers::free_udp_port();
    let started = Instant::now();
    let scenario = peers::sip_dir().join("malformed.xml");
    let target = format!("127.0.0.1:{port}");
    let r = peers::sipp(
        &["-sf", scenario.to_str().unwrap(), &target, "-s", "100", "-m", "1", "-timeout", "60s"],
        Duration::from_secs(70),
    )
    .unwrap();
    assert_eq!((r.code, r.successful, r.failed), (Some(1), 0, 1), "{}", peers::tail(&r.output, 50));
    assert!(started.elapsed() < Duration::from_secs(30), "took {:?}", started.elapsed());
}

/// `--play` a WAV and `wait_until_bye`: the phone hangs up after 2 s and
/// the caller reports the remote BYE.
#[test]
fn pjsip_plays_a_file_and_sees_the_remote_hangup() {
    if peers::require(&[Peer::Pjsua, Peer::Baresip]).is_err() {
        return;
    }
    let agent = Baresip::start(BaresipOptions::default()).unwrap();
    let dir = peers::temp_dir("pjcall-play");
    let prompt = dir.join("caller-600hz.wav");
    peers::write_tone_wav(&prompt, 8000, 600.0, 1.5, 0.3).unwrap(); // looped by pjcall
    let call = PjCall::spawn(&[
        "--target",
        &agent.uri(),
        "--play",
        prompt.to_str().unwrap(),
        "--steps",
        "wait_until_bye:20",
        "--timeout",
        "30",
    ])
    .unwrap();
    agent.wait_log("Call established", Duration::from_secs(10)).unwrap();
    std::thread::sleep(Duration::from_secs(3));
    agent.command("hangup", "").unwrap();
    let r = call.wait(Duration::from_secs(40)).unwrap();
    let ctx = format!("{r:?}\n{}", peers::tail(&r.log, 30));
    assert!(r.answered, "{ctx}");
    assert_eq!(r.end_reason.as_deref(), Some("remote_bye"), "{ctx}");
    let talk = r.ended_at_s.unwrap() - r.answered_at_s.unwrap();
    assert!((2.5..6.0).contains(&talk), "talked {talk:.1} s: {ctx}");
    assert!(r.max_rx_dbfs() > -40.0, "{ctx}");
    agent.wait_log("terminated", Duration::from_secs(5)).unwrap();
    let mut agent = agent;
    agent.stop().unwrap();
    let wav = peers::read_wav(&agent.recordings()[0]).unwrap();
    let hz = wav.tone_hz();
    assert!((hz - 600.0).abs() < 30.0, "agent heard {hz:.0} Hz, not the caller's 600 Hz file");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A phone in manual answer mode: the first caller gives up while it rings
/// (CANCEL), the second is accepted over ctrl_tcp after a second.
#[test]
fn pjsip_abandons_a_ringing_call_and_baresip_accepts_the_next() {
    if peers::require(&[Peer::Pjsua, Peer::Baresip]).is_err() {
        return;
    }
    let agent = Baresip::start(BaresipOptions { answermode: "manual".into(), ..Default::default() }).unwrap();
    let r =
        peers::pjcall(&["--target", &agent.uri(), "--steps-start", "invite", "--steps", "wait:1.5;hangup"]).unwrap();
    assert!(!r.answered, "{r:?}");
    assert_eq!(r.end_reason.as_deref(), Some("local_hangup"), "{r:?}");
    assert_eq!(r.last_status, Some(487), "CANCELled INVITE ends with 487: {r:?}");
    agent.wait_log("session closed", Duration::from_secs(5)).unwrap();
    agent.wait_no_calls(Duration::from_secs(5)).unwrap();

    let call = PjCall::spawn(&[
        "--target",
        &agent.uri(),
        "--steps-start",
        "invite",
        "--steps",
        "wait_answered:15;wait:1;hangup",
        "--timeout",
        "30",
    ])
    .unwrap();
    let end = Instant::now() + Duration::from_secs(10);
    while agent.log().matches("Incoming call").count() < 2 && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_secs(1));
    agent.command("accept", "").unwrap();
    let r = call.wait(Duration::from_secs(40)).unwrap();
    assert!(r.answered, "{r:?}");
    assert!(r.answered_at_s.unwrap() >= 0.9, "answered at {:?}", r.answered_at_s);
    assert_eq!(r.end_reason.as_deref(), Some("local_hangup"), "{r:?}");
}
