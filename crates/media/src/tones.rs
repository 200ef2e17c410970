//! Generated audio at 8 kHz: sines, beeps, ringback, silence and a synthesized
//! music-on-hold loop. Nothing here comes from a recording.

use std::f64::consts::PI;

/// Sample rate of everything generated here.
pub const SAMPLE_RATE: u32 = 8000;
/// Peak amplitude used for beeps, ringback and music: −12 dBFS.
pub const PEAK_12_DBFS: f64 = 0.251;

fn samples_for_ms(ms: u32) -> usize {
    ms as usize * SAMPLE_RATE as usize / 1000
}

fn to_i16(x: f64) -> i16 {
    (x * 32767.0).round().clamp(-32768.0, 32767.0) as i16
}

/// `ms` milliseconds of digital silence.
pub fn silence(ms: u32) -> Vec<i16> {
    vec![0; samples_for_ms(ms)]
}

/// A sine of `hz` for `ms` milliseconds; `amplitude` is the peak as a fraction of full scale (0.0–1.0).
/// Starts at phase 0, with no fade (use [`beep`] for a click-free tone).
pub fn sine(hz: f64, ms: u32, amplitude: f64) -> Vec<i16> {
    let step = 2.0 * PI * hz / f64::from(SAMPLE_RATE);
    (0..samples_for_ms(ms)).map(|n| to_i16(amplitude * (step * n as f64).sin())).collect()
}

/// Raised-cosine fade in and out over `ramp` samples, applied in place.
fn fade(samples: &mut [f64], ramp: usize) {
    let len = samples.len();
    let ramp = ramp.min(len / 2);
    for i in 0..ramp {
        let g = 0.5 - 0.5 * (PI * i as f64 / ramp as f64).cos();
        samples[i] *= g;
        samples[len - 1 - i] *= g;
    }
}

fn tone_mix(freqs: &[f64], ms: u32, peak: f64) -> Vec<i16> {
    let n = samples_for_ms(ms);
    let per = peak / freqs.len().max(1) as f64;
    let mut buf: Vec<f64> = (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(SAMPLE_RATE);
            freqs.iter().map(|f| per * (2.0 * PI * f * t).sin()).sum()
        })
        .collect();
    fade(&mut buf, samples_for_ms(5));
    buf.into_iter().map(to_i16).collect()
}

/// A beep of `hz` for `ms` milliseconds at −12 dBFS peak, with 5 ms fades (no clicks).
pub fn beep(ms: u32, hz: f64) -> Vec<i16> {
    tone_mix(&[hz], ms, PEAK_12_DBFS)
}

/// One cycle of North American ringback (440 + 480 Hz, 2 s on, 4 s off): 6 s, loopable.
pub fn ringback() -> Vec<i16> {
    let mut v = tone_mix(&[440.0, 480.0], 2000, PEAK_12_DBFS);
    v.extend(silence(4000));
    v
}

/// One cycle of European (ETSI) ringback (425 Hz, 1 s on, 4 s off): 5 s, loopable.
pub fn ringback_425() -> Vec<i16> {
    let mut v = tone_mix(&[425.0], 1000, PEAK_12_DBFS);
    v.extend(silence(4000));
    v
}

fn midi_hz(note: i32) -> f64 {
    440.0 * 2f64.powf(f64::from(note - 69) / 12.0)
}

/// Length of one chord of the music-on-hold piece, in seconds.
pub const MOH_CHORD_SECONDS: u32 = 2;

/// Adds a note into a circular buffer (so tails wrap around to the start: a seamless loop).
fn add_note(buf: &mut [f64], start: usize, hz: f64, gain: f64, len: usize, envelope: impl Fn(f64) -> f64) {
    let n = buf.len();
    let step = 2.0 * PI * hz / f64::from(SAMPLE_RATE);
    for i in 0..len {
        let t = i as f64 / f64::from(SAMPLE_RATE);
        let phase = step * i as f64;
        // Soft triangle-like timbre: the fundamental and a little third harmonic.
        let wave = phase.sin() - (3.0 * phase).sin() / 12.0;
        buf[(start + i) % n] += gain * envelope(t) * wave;
    }
}

/// A gentle synthesized piece for music on hold, `seconds` long rounded up to whole 2-second
/// chords (at least one): a slow I–vi–IV–V progression of soft pad chords with a low root and
/// a plucked arpeggio, peak −12 dBFS. The note tails wrap around, so the clip loops without a
/// click or a gap.
pub fn music_on_hold(seconds: u32) -> Vec<i16> {
    // (bass root, pad chord) as MIDI notes; voice leading kept close around middle C.
    const PROGRESSION: [(i32, [i32; 3]); 8] = [
        (48, [60, 64, 67]), // C
        (45, [60, 64, 69]), // Am
        (41, [60, 65, 69]), // F
        (43, [59, 62, 67]), // G
        (48, [60, 64, 67]), // C
        (40, [59, 64, 67]), // Em
        (41, [60, 65, 69]), // F
        (43, [59, 62, 67]), // G
    ];
    let chords = seconds.div_ceil(MOH_CHORD_SECONDS).max(1) as usize;
    let chord_len = (MOH_CHORD_SECONDS * SAMPLE_RATE) as usize;
    let mut buf = vec![0.0f64; chords * chord_len];
    let chord_s = f64::from(MOH_CHORD_SECONDS);
    // Pad: slow attack, held, then a long release overlapping the next chord.
    let pad = |t: f64| {
        let attack = (t / 0.4).min(1.0);
        let release = if t < chord_s { 1.0 } else { (1.0 - (t - chord_s) / 0.9).max(0.0) };
        (0.5 - 0.5 * (PI * attack).cos()) * release * release
    };
    let pad_len = ((chord_s + 0.9) * f64::from(SAMPLE_RATE)) as usize;
    // Pluck: 15 ms attack, exponential decay, faded to zero by 1.2 s.
    let pluck = |t: f64| {
        let attack = (t / 0.015).min(1.0);
        let tail = (1.0 - t / 1.2).max(0.0);
        attack * (-t / 0.35).exp() * tail
    };
    let pluck_len = (1.2 * f64::from(SAMPLE_RATE)) as usize;
    for c in 0..chords {
        let (root, triad) = PROGRESSION[c % PROGRESSION.len()];
        let start = c * chord_len;
        add_note(&mut buf, start, midi_hz(root), 0.35, pad_len, pad);
        for &note in &triad {
            add_note(&mut buf, start, midi_hz(note), 0.22, pad_len, pad);
        }
        // Arpeggio an octave up: root, third, fifth, third, one note every half second.
        for (k, &idx) in [0usize, 1, 2, 1].iter().enumerate() {
            let at = start + k * chord_len / 4;
            add_note(&mut buf, at, midi_hz(triad[idx] + 12), 0.3, pluck_len, pluck);
        }
    }
    let peak = buf.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let scale = if peak > 0.0 { PEAK_12_DBFS / peak } else { 0.0 };
    buf.into_iter().map(|x| to_i16(x * scale)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::rms_dbfs;

    /// Frequency estimate from zero crossings.
    fn zero_crossing_hz(s: &[i16]) -> f64 {
        let crossings = s.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
        crossings as f64 / 2.0 / (s.len() as f64 / 8000.0)
    }

    #[test]
    fn basic_tones() {
        assert_eq!(silence(20), vec![0; 160]);
        let s = sine(1000.0, 1000, 0.5);
        assert_eq!(s.len(), 8000);
        assert!((zero_crossing_hz(&s) - 1000.0).abs() < 2.0);
        assert!((rms_dbfs(&s) - (-9.03)).abs() < 0.05);
        let b = beep(200, 1000.0);
        assert_eq!(b.len(), 1600);
        assert!(b[0].abs() < 50 && b[1599].abs() < 50, "beeps fade in and out");
        let peak = b.iter().map(|x| x.unsigned_abs()).max().unwrap();
        assert!((8000..=8300).contains(&peak), "{peak}");
        assert_eq!(ringback().len(), 48_000);
        assert_eq!(ringback_425().len(), 40_000);
    }

    #[test]
    fn music_on_hold_is_gentle_and_loops() {
        let m = music_on_hold(16);
        assert_eq!(m.len(), 16 * 8000);
        assert_eq!(music_on_hold(3).len(), 4 * 8000);
        assert_eq!(music_on_hold(0).len(), 2 * 8000);
        let peak = m.iter().map(|x| x.unsigned_abs()).max().unwrap();
        assert!((8000..=8300).contains(&peak), "peak {peak}");
        let rms = rms_dbfs(&m);
        assert!((-30.0..-14.0).contains(&rms), "rms {rms}");
        // No click anywhere, including across the loop point: sample steps stay small.
        let max_step = m.windows(2).map(|w| (i32::from(w[1]) - i32::from(w[0])).abs()).max().unwrap();
        let wrap = (i32::from(m[0]) - i32::from(m[m.len() - 1])).abs();
        assert!(wrap <= max_step, "loop step {wrap} vs max {max_step}");
        assert!(max_step < 3000, "max step {max_step}");
        // No silent stretch: every 20 ms frame carries sound.
        assert!(m.chunks(160).all(|f| rms_dbfs(f) > -50.0));
    }
}
