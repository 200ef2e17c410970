//! End to end: tones → G.711 → RTP (with loss, reordering, duplicates, RTCP) → parse →
//! stats and level → stereo recorder → WAV read back; DTMF packet trains; playout.

use std::io::Cursor;
use std::sync::Arc;

use media::dtmf::{DtmfReceiver, char_to_event, encode_event_packets};
use media::recorder::{AGENT, CALLER};
use media::stats::{OneWay, rms_dbfs};
use media::wav::{read_wav, read_wav_info};
use media::{Codec, Level, Player, QualityReport, RtpSender, RtpStats, StereoRecorder, rtp, tones};

/// A datagram on the simulated wire.
struct Datagram {
    arrival_ms: u64,
    bytes: Vec<u8>,
}

/// Packetizes `pcm` in 20 ms packets starting at `first_ms`, perfectly paced.
fn packetize(pcm: &[i16], codec: Codec, sender: &mut RtpSender, first_ms: u64) -> Vec<Datagram> {
    pcm.chunks(160)
        .enumerate()
        .map(|(i, frame)| {
            let mut payload = Vec::new();
            codec.encode(frame, &mut payload);
            let mut bytes = Vec::new();
            sender.next_packet(codec.payload_type(), &payload, frame.len() as u32, i == 0, &mut bytes);
            Datagram { arrival_ms: first_ms + i as u64 * 20, bytes }
        })
        .collect()
}

fn zero_crossing_hz(s: &[i16]) -> f64 {
    let crossings = s.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
    crossings as f64 / 2.0 / (s.len() as f64 / 8000.0)
}

/// The receive side of one leg, as the consumer's media task would run it.
struct Leg {
    channel: usize,
    stats: RtpStats,
    level: Level,
    pcm: Vec<i16>,
    rtcp_skipped: usize,
}

impl Leg {
    fn new(channel: usize) -> Self {
        Leg { channel, stats: RtpStats::new(), level: Level::default(), pcm: Vec::new(), rtcp_skipped: 0 }
    }

    fn receive(&mut self, d: &Datagram, rec: &mut StereoRecorder<Cursor<Vec<u8>>>) {
        if rtp::is_rtcp(&d.bytes) {
            self.rtcp_skipped += 1;
            return;
        }
        let (header, payload) = rtp::parse(&d.bytes).expect("valid RTP");
        self.stats.on_packet_bytes(&header, payload.len(), d.arrival_ms, 8000);
        let codec = Codec::from_payload_type(header.payload_type).expect("G.711");
        self.pcm.clear();
        codec.decode(payload, &mut self.pcm);
        self.level.on_samples(&self.pcm);
        rec.push(self.channel, d.arrival_ms, header.timestamp, &self.pcm);
    }
}

#[test]
fn tone_through_rtp_into_the_recording() {
    const START: u64 = 1_000;
    // Caller: 5 s of 1 kHz at −9 dBFS, PCMU. Agent: 5 s of 600 Hz, PCMA, perfectly paced.
    let caller_pcm = tones::sine(1000.0, 5000, 0.5);
    let agent_pcm = tones::sine(600.0, 5000, 0.5);
    let mut caller_tx = RtpSender::new(0x1111, 65_500, u32::MAX - 4000); // both counters wrap
    let mut agent_tx = RtpSender::new(0x2222, 7, 99);
    let caller_wire = packetize(&caller_pcm, Codec::Pcmu, &mut caller_tx, START + 20);
    let agent_wire = packetize(&agent_pcm, Codec::Pcma, &mut agent_tx, START + 30);
    assert_eq!(caller_wire.len(), 250);

    // The network: a 200 ms outage (packets 50–59), every 41st packet lost, every 23rd
    // duplicated, every 17th swapped with its successor (arriving 25 ms late), plus RTCP.
    let lost: Vec<usize> = (0..250).filter(|i| (50..60).contains(i) || (i % 41 == 40)).collect();
    let mut delivered: Vec<Datagram> = Vec::new();
    for (i, d) in caller_wire.iter().enumerate() {
        if i % 50 == 0 {
            delivered.push(Datagram { arrival_ms: d.arrival_ms + 2, bytes: vec![0x80, 201, 0, 1, 0, 0, 0x11, 0x11] });
        }
        if lost.contains(&i) {
            continue;
        }
        let late = if i % 17 == 16 && !lost.contains(&(i + 1)) && i + 1 < 250 { 25 } else { 0 };
        delivered.push(Datagram { arrival_ms: d.arrival_ms + late, bytes: d.bytes.clone() });
        if i % 23 == 22 {
            delivered.push(Datagram { arrival_ms: d.arrival_ms + 1, bytes: d.bytes.clone() });
        }
    }
    let duplicates = (0..250).filter(|i| i % 23 == 22 && !lost.contains(i)).count() as u64;
    let swapped = (0..249).filter(|i| i % 17 == 16 && !lost.contains(i) && !lost.contains(&(i + 1))).count() as u64;
    // Arrival order is what a socket gives.
    delivered.sort_by_key(|d| d.arrival_ms);

    // Merge both legs by arrival time, as one media task clock sees them.
    let mut events: Vec<(u64, usize, &Datagram)> = delivered.iter().map(|d| (d.arrival_ms, CALLER, d)).collect();
    events.extend(agent_wire.iter().map(|d| (d.arrival_ms, AGENT, d)));
    events.sort_by_key(|e| e.0);

    let mut rec = StereoRecorder::new(Cursor::new(Vec::new()), START);
    let mut legs = [Leg::new(CALLER), Leg::new(AGENT)];
    let mut max_mem = 0;
    let mut tick = START;
    for (at, ch, d) in events {
        while tick + 20 <= at {
            tick += 20;
            rec.tick(tick);
        }
        legs[ch].receive(d, &mut rec);
        max_mem = max_mem.max(rec.memory_bytes());
    }
    let end = START + 6_000;
    let (info, file) = rec.finish_into(end).expect("recording written");
    eprintln!("recorder memory high-water mark: {max_mem} bytes");
    assert!(max_mem <= 64 * 1024);

    // Statistics.
    let caller = legs[CALLER].stats.snapshot();
    assert_eq!(legs[CALLER].rtcp_skipped, 5);
    assert_eq!(caller.expected, 250);
    assert_eq!(caller.lost, lost.len() as u64);
    assert_eq!(caller.duplicates, duplicates);
    assert_eq!(caller.out_of_order, swapped);
    assert_eq!(caller.packets, 250 - lost.len() as u64 + duplicates);
    assert_eq!(caller.bytes, caller.packets * 160);
    assert!((caller.loss_percent - lost.len() as f64 * 100.0 / 250.0).abs() < 1e-9);
    assert!(caller.jitter_ms > 0.0 && caller.max_jitter_ms > 1.0, "irregular arrivals give jitter: {caller:?}");
    assert_eq!(caller.max_gap_ms, 220, "the outage");
    let agent = legs[AGENT].stats.snapshot();
    assert_eq!((agent.lost, agent.duplicates, agent.out_of_order), (0, 0, 0));
    assert_eq!(agent.jitter_ms, 0.0, "perfect pacing gives zero jitter");
    assert_eq!(agent.max_gap_ms, 20);

    // Quality: both directions carry speech-level audio.
    let q = QualityReport::new(&legs[CALLER].stats, &legs[CALLER].level, 250, &legs[AGENT].level);
    assert!(!q.one_way());
    assert!((q.received_level.rms_dbfs - (-9.0)).abs() < 0.5, "{}", q.received_level.rms_dbfs);
    let silent = QualityReport::new(&legs[CALLER].stats, &Level::default(), 250, &legs[AGENT].level);
    assert_eq!(silent.one_way_reason(), Some(OneWay::Silent));

    // The recording: two channels, exactly 6 s.
    let hdr = read_wav_info(&file.get_ref()[..]).expect("header");
    assert_eq!((hdr.channels, hdr.sample_rate, hdr.bits_per_sample, hdr.frames), (2, 8000, 16, 48_000));
    assert_eq!(info.frames, 48_000);
    let (_, samples) = read_wav(&file.get_ref()[..]).expect("data");
    let ch = |c: usize| -> Vec<i16> { samples.chunks(2).map(|f| f[c]).collect() };
    let (rc, ra) = (ch(CALLER), ch(AGENT));
    // Caller packet i sits at (20 ms after start) + 20 ms·i: tone where it arrived, silence where lost.
    for i in 0..250 {
        let frame = &rc[160 + i * 160..320 + i * 160];
        if lost.contains(&i) {
            assert!(frame.iter().all(|&x| x == 0), "lost packet {i} must be silence");
        } else {
            assert!((rms_dbfs(frame) - (-9.0)).abs() < 0.6, "packet {i}: {}", rms_dbfs(frame));
        }
    }
    assert!(rc[..160].iter().all(|&x| x == 0) && rc[40_160..].iter().all(|&x| x == 0));
    assert!((zero_crossing_hz(&rc[160..6560]) - 1000.0).abs() < 5.0);
    // Agent channel independent of the caller's losses: continuous 600 Hz from 30 ms on.
    assert!(ra[240..40_240].chunks(160).all(|f| (rms_dbfs(f) - (-9.0)).abs() < 0.6));
    assert!((zero_crossing_hz(&ra[240..40_240]) - 600.0).abs() < 3.0);
    assert_eq!(info.samples, [(250 - lost.len() as u64 + duplicates) * 160, 250 * 160]);
}

/// Sends one key press the way phones do, returning its datagrams.
fn press(tx: &mut RtpSender, key: char, duration: u16) -> Vec<Vec<u8>> {
    let event = char_to_event(key).expect("key");
    let ts = tx.ts;
    let packets = encode_event_packets(event, 10, duration, 160)
        .into_iter()
        .map(|p| {
            let mut out = Vec::new();
            tx.write_at(101, &p.payload, ts, p.marker, &mut out);
            out
        })
        .collect();
    tx.skip(u32::from(duration));
    packets
}

#[test]
fn every_dtmf_digit_once_despite_loss_and_reordering() {
    let mut tx = RtpSender::new(0xD7, 1000, 50_000);
    let mut wire: Vec<Vec<u8>> = Vec::new();
    let voice = |tx: &mut RtpSender, wire: &mut Vec<Vec<u8>>, n: usize| {
        for _ in 0..n {
            let mut out = Vec::new();
            tx.next_packet(0, &[0xFF; 160], 160, false, &mut out);
            wire.push(out);
        }
    };
    let mut previous: Vec<Vec<u8>> = Vec::new();
    for (k, key) in "0123456789*#".chars().enumerate() {
        voice(&mut tx, &mut wire, 5);
        let mut p = press(&mut tx, key, 800 + 160 * (k as u16 % 4));
        let full = p.clone();
        match k % 4 {
            // The first packet lost.
            0 => {
                p.remove(0);
            }
            // An end packet overtakes the last start packet; a start packet repeated.
            1 => {
                let n = p.len();
                p.swap(n - 4, n - 3);
                let again = p[1].clone();
                p.insert(3, again);
            }
            // Only one end packet survives, and the first two start packets are lost.
            2 => {
                p.drain(0..2);
                let n = p.len();
                p.truncate(n - 2);
            }
            // Everything but the end packets lost.
            _ => {
                let n = p.len();
                p.drain(0..n - 3);
            }
        }
        wire.extend(p);
        // A stray repeat of the previous press arriving after this one.
        if k == 7 {
            voice(&mut tx, &mut wire, 1);
            wire.push(previous[0].clone());
        }
        previous = full;
    }
    voice(&mut tx, &mut wire, 5);

    let mut rx = DtmfReceiver::new(101);
    let mut keys = String::new();
    for bytes in &wire {
        let (h, payload) = rtp::parse(bytes).expect("valid");
        keys.extend(rx.on_packet(&h, payload));
    }
    assert_eq!(keys, "0123456789*#");

    // The same key twice is two presses.
    let mut wire = press(&mut tx, '5', 800);
    wire.extend(press(&mut tx, '5', 800));
    let mut keys = String::new();
    for bytes in &wire {
        let (h, payload) = rtp::parse(bytes).expect("valid");
        keys.extend(rx.on_packet(&h, payload));
    }
    assert_eq!(keys, "55");
}

#[test]
fn playout_to_rtp_with_completion_tokens() {
    let mut player = Player::new();
    let beep: Arc<[i16]> = tones::beep(300, 800.0).into();
    let first = player.enqueue(beep.clone());
    let pause = player.enqueue_silence(100);
    let second = player.enqueue(beep);
    player.set_loop(Some(tones::music_on_hold(4).into()));
    let mut tx = RtpSender::new(1, 0, 0);
    let mut frame = [0i16; 160];
    let mut done = Vec::new();
    let mut decoded = Vec::new();
    for tick in 0..100 {
        assert!(player.next_frame(&mut frame));
        for t in player.finished_tokens() {
            done.push((tick, t));
        }
        let mut payload = Vec::new();
        Codec::Pcma.encode(&frame, &mut payload);
        let mut pkt = Vec::new();
        tx.next_packet(8, &payload, 160, false, &mut pkt);
        let (_, p) = rtp::parse(&pkt).expect("valid");
        Codec::Pcma.decode(p, &mut decoded);
    }
    // 300 ms = 15 frames, +100 ms = 20 frames, +300 ms = 35 frames.
    assert_eq!(done, vec![(14, first), (19, pause), (34, second)]);
    assert!(player.is_idle() && player.is_looping());
    assert!((zero_crossing_hz(&decoded[160..2240]) - 800.0).abs() < 10.0);
    assert!(decoded[2400..3200].iter().all(|&x| x.abs() <= 8), "the pause (A-law zero is ±8)");
    assert!(rms_dbfs(&decoded[5600..]) > -40.0, "music on hold after the queue");
}

/// Rough cost of the receive path per packet (run with `--ignored --nocapture`, in release).
#[test]
#[ignore = "timing, not a check"]
fn receive_path_throughput() {
    let pcm = tones::sine(440.0, 20, 0.5);
    let mut tx = RtpSender::new(1, 0, 0);
    let mut rec = StereoRecorder::new(Cursor::new(Vec::with_capacity(1 << 26)), 0);
    let mut stats = RtpStats::new();
    let mut level = Level::default();
    let (mut payload, mut pkt, mut out) = (Vec::new(), Vec::new(), Vec::new());
    let n = 200_000u64;
    let t = std::time::Instant::now();
    for i in 0..n {
        payload.clear();
        pkt.clear();
        out.clear();
        Codec::Pcmu.encode(&pcm, &mut payload);
        tx.next_packet(0, &payload, 160, false, &mut pkt);
        let (h, p) = rtp::parse(&pkt).expect("valid");
        stats.on_packet_bytes(&h, p.len(), i * 20, 8000);
        Codec::Pcmu.decode(p, &mut out);
        level.on_samples(&out);
        rec.push((i % 2) as usize, i * 10, h.timestamp, &out);
    }
    let per = t.elapsed().as_nanos() as f64 / n as f64;
    eprintln!("encode + RTP + parse + stats + decode + level + record: {per:.0} ns per 20 ms packet");
}
