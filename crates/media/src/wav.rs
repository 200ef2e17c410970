//! WAV (RIFF/WAVE) reading and writing: 16-bit PCM, and G.711 µ-law / A-law input.
//!
//! Readers need only [`Read`]; unknown chunks are skipped, a data size of 0 or
//! 0xFFFFFFFF (a file still being written) means "until the end".

use std::io::{self, Read, Write};

use crate::MediaError;
use crate::g711::{alaw_decode, ulaw_decode};

/// WAVE_FORMAT_PCM.
const FORMAT_PCM: u16 = 1;
/// WAVE_FORMAT_ALAW.
const FORMAT_ALAW: u16 = 6;
/// WAVE_FORMAT_MULAW.
const FORMAT_MULAW: u16 = 7;
/// WAVE_FORMAT_EXTENSIBLE: the real format is the first two bytes of the sub-format GUID.
const FORMAT_EXTENSIBLE: u16 = 0xFFFE;
/// Size of the canonical header written by [`write_header`].
pub(crate) const HEADER_LEN: u64 = 44;
/// Largest `fmt ` chunk accepted (the extensible one is 40 bytes).
const MAX_FMT_LEN: u32 = 1024;

/// Sample encoding of a WAV file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WavFormat {
    /// Linear PCM (of `bits_per_sample` bits).
    Pcm,
    /// G.711 µ-law, 8 bits per sample.
    Mulaw,
    /// G.711 A-law, 8 bits per sample.
    Alaw,
    /// Anything else (the format tag), e.g. 3 for IEEE float.
    Other(u16),
}

/// What a WAV header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WavInfo {
    /// Sample encoding.
    pub format: WavFormat,
    /// Channels (interleaved).
    pub channels: u16,
    /// Frames per second.
    pub sample_rate: u32,
    /// Bits per sample.
    pub bits_per_sample: u16,
    /// Frames (samples per channel) in the data chunk.
    pub frames: u64,
}

impl WavInfo {
    /// "8000 Hz mono 16-bit PCM", "22050 Hz stereo 16-bit PCM", "8000 Hz mono µ-law", …
    pub fn describe(&self) -> String {
        let channels = match self.channels {
            1 => "mono".to_string(),
            2 => "stereo".to_string(),
            n => format!("{n}-channel"),
        };
        let format = match self.format {
            WavFormat::Pcm => format!("{}-bit PCM", self.bits_per_sample),
            WavFormat::Mulaw => "µ-law".to_string(),
            WavFormat::Alaw => "A-law".to_string(),
            WavFormat::Other(3) => format!("{}-bit float", self.bits_per_sample),
            WavFormat::Other(tag) => format!("format {tag:#06x}"),
        };
        format!("{} Hz {channels} {format}", self.sample_rate)
    }

    fn bytes_per_frame(&self) -> u64 {
        u64::from(self.channels) * u64::from(self.bits_per_sample).div_ceil(8)
    }
}

fn read_exact_or<R: Read>(r: &mut R, buf: &mut [u8], what: &str) -> Result<(), MediaError> {
    r.read_exact(buf).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => MediaError::InvalidWav(format!("truncated {what}")),
        _ => MediaError::Io(e),
    })
}

fn skip<R: Read>(r: &mut R, n: u64) -> Result<(), MediaError> {
    let skipped = io::copy(&mut r.by_ref().take(n), &mut io::sink())?;
    if skipped < n {
        return Err(MediaError::InvalidWav("truncated chunk".into()));
    }
    Ok(())
}

/// Reads the headers up to the start of the data; returns the format and the declared
/// data size (`None` = until the end of the stream).
fn read_header<R: Read>(r: &mut R) -> Result<(WavInfo, Option<u64>), MediaError> {
    let mut riff = [0u8; 12];
    read_exact_or(r, &mut riff, "RIFF header")?;
    if &riff[0..4] != b"RIFF" || &riff[8..12] != b"WAVE" {
        return Err(MediaError::InvalidWav("not a RIFF/WAVE file".into()));
    }
    let mut info: Option<WavInfo> = None;
    loop {
        let mut head = [0u8; 8];
        read_exact_or(r, &mut head, "chunk header (no data chunk)")?;
        let size = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        match &head[0..4] {
            b"fmt " => {
                if !(16..=MAX_FMT_LEN).contains(&size) {
                    return Err(MediaError::InvalidWav(format!("fmt chunk of {size} bytes")));
                }
                let mut fmt = vec![0u8; size as usize];
                read_exact_or(r, &mut fmt, "fmt chunk")?;
                if size % 2 == 1 {
                    skip(r, 1)?;
                }
                let u16_at = |i: usize| u16::from_le_bytes([fmt[i], fmt[i + 1]]);
                let mut tag = u16_at(0);
                if tag == FORMAT_EXTENSIBLE && fmt.len() >= 26 {
                    tag = u16_at(24);
                }
                let format = match tag {
                    FORMAT_PCM => WavFormat::Pcm,
                    FORMAT_MULAW => WavFormat::Mulaw,
                    FORMAT_ALAW => WavFormat::Alaw,
                    other => WavFormat::Other(other),
                };
                info = Some(WavInfo {
                    format,
                    channels: u16_at(2),
                    sample_rate: u32::from_le_bytes([fmt[4], fmt[5], fmt[6], fmt[7]]),
                    bits_per_sample: u16_at(14),
                    frames: 0,
                });
            }
            b"data" => {
                let Some(mut info) = info else {
                    return Err(MediaError::InvalidWav("data chunk before fmt chunk".into()));
                };
                if info.channels == 0 || info.bits_per_sample == 0 {
                    return Err(MediaError::InvalidWav(format!("invalid format: {}", info.describe())));
                }
                let declared = (size != 0 && size != u32::MAX).then_some(u64::from(size));
                if let Some(bytes) = declared {
                    info.frames = bytes / info.bytes_per_frame();
                }
                return Ok((info, declared));
            }
            _ => skip(r, u64::from(size) + u64::from(size % 2))?,
        }
    }
}

/// Reads the data chunk's bytes (all of them when the size is open-ended).
fn read_data<R: Read>(r: &mut R, declared: Option<u64>) -> Result<Vec<u8>, MediaError> {
    let mut data = Vec::new();
    match declared {
        Some(n) => {
            r.take(n).read_to_end(&mut data)?;
        }
        None => {
            r.read_to_end(&mut data)?;
        }
    }
    Ok(data)
}

/// Reads a WAV header and counts its frames (reading to the end when the size is open-ended).
pub fn read_wav_info<R: Read>(mut reader: R) -> Result<WavInfo, MediaError> {
    let (mut info, declared) = read_header(&mut reader)?;
    if declared.is_none() {
        let bytes = io::copy(&mut reader, &mut io::sink())?;
        info.frames = bytes / info.bytes_per_frame();
    }
    Ok(info)
}

/// Reads a whole WAV file of 16-bit PCM, µ-law or A-law, any rate and channel count, as
/// interleaved 16-bit samples. A truncated last frame is dropped.
pub fn read_wav<R: Read>(mut reader: R) -> Result<(WavInfo, Vec<i16>), MediaError> {
    let (mut info, declared) = read_header(&mut reader)?;
    let decodable = matches!(
        (info.format, info.bits_per_sample),
        (WavFormat::Pcm, 16) | (WavFormat::Mulaw, 8) | (WavFormat::Alaw, 8)
    );
    if !decodable {
        return Err(MediaError::UnsupportedWav(format!(
            "expected 16-bit PCM, µ-law or A-law, got {}",
            info.describe()
        )));
    }
    let data = read_data(&mut reader, declared)?;
    let frame_bytes = info.bytes_per_frame() as usize;
    let whole = data.len() / frame_bytes * frame_bytes;
    let data = &data[..whole];
    info.frames = (whole / frame_bytes) as u64;
    let samples = match info.format {
        WavFormat::Mulaw => data.iter().map(|&b| ulaw_decode(b)).collect(),
        WavFormat::Alaw => data.iter().map(|&b| alaw_decode(b)).collect(),
        _ => data.chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]])).collect(),
    };
    Ok((info, samples))
}

/// Reads a prompt: 8000 Hz mono, 16-bit PCM or G.711 µ-law / A-law. Anything else is a
/// clear [`MediaError::UnsupportedWav`], e.g. "prompt must be 8000 Hz mono 16-bit PCM
/// (or µ-law/A-law), got 22050 Hz stereo 16-bit PCM".
pub fn read_wav_mono_8k<R: Read>(mut reader: R) -> Result<Vec<i16>, MediaError> {
    let (info, declared) = read_header(&mut reader)?;
    let ok = info.sample_rate == 8000
        && info.channels == 1
        && matches!(
            (info.format, info.bits_per_sample),
            (WavFormat::Pcm, 16) | (WavFormat::Mulaw, 8) | (WavFormat::Alaw, 8)
        );
    if !ok {
        return Err(MediaError::UnsupportedWav(format!(
            "prompt must be 8000 Hz mono 16-bit PCM (or µ-law/A-law), got {}",
            info.describe()
        )));
    }
    let data = read_data(&mut reader, declared)?;
    Ok(match info.format {
        WavFormat::Mulaw => data.iter().map(|&b| ulaw_decode(b)).collect(),
        WavFormat::Alaw => data.iter().map(|&b| alaw_decode(b)).collect(),
        _ => data.chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]])).collect(),
    })
}

/// Writes the 44-byte canonical header of a 16-bit PCM file. `data_bytes` of `None` writes
/// the open-ended placeholder (0xFFFFFFFF sizes) used while a recording is in progress.
pub(crate) fn write_header<W: Write>(
    w: &mut W,
    channels: u16,
    sample_rate: u32,
    data_bytes: Option<u32>,
) -> Result<(), MediaError> {
    let block_align = channels * 2;
    let (riff_size, data_size) = match data_bytes {
        Some(n) => (n.checked_add(36).ok_or(MediaError::TooLong)?, n),
        None => (u32::MAX, u32::MAX),
    };
    let mut h = Vec::with_capacity(HEADER_LEN as usize);
    h.extend_from_slice(b"RIFF");
    h.extend_from_slice(&riff_size.to_le_bytes());
    h.extend_from_slice(b"WAVEfmt ");
    h.extend_from_slice(&16u32.to_le_bytes());
    h.extend_from_slice(&FORMAT_PCM.to_le_bytes());
    h.extend_from_slice(&channels.to_le_bytes());
    h.extend_from_slice(&sample_rate.to_le_bytes());
    h.extend_from_slice(&(sample_rate * u32::from(block_align)).to_le_bytes());
    h.extend_from_slice(&block_align.to_le_bytes());
    h.extend_from_slice(&16u16.to_le_bytes());
    h.extend_from_slice(b"data");
    h.extend_from_slice(&data_size.to_le_bytes());
    w.write_all(&h)?;
    Ok(())
}

/// Writes 8000 Hz mono 16-bit PCM samples as a complete WAV file.
pub fn write_wav_mono_8k<W: Write>(mut writer: W, samples: &[i16]) -> Result<(), MediaError> {
    let bytes = u32::try_from(samples.len() * 2).map_err(|_| MediaError::TooLong)?;
    write_header(&mut writer, 1, 8000, Some(bytes))?;
    let mut buf = Vec::with_capacity(samples.len().min(4096) * 2);
    for chunk in samples.chunks(4096) {
        buf.clear();
        buf.extend(chunk.iter().flat_map(|s| s.to_le_bytes()));
        writer.write_all(&buf)?;
    }
    writer.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tones;

    fn header(tag: u16, channels: u16, rate: u32, bits: u16, data: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(b"RIFF");
        v.extend_from_slice(&(36 + 12 + data.len() as u32).to_le_bytes());
        v.extend_from_slice(b"WAVE");
        // An unknown chunk of odd size first, to exercise skipping and padding.
        v.extend_from_slice(b"LIST");
        v.extend_from_slice(&3u32.to_le_bytes());
        v.extend_from_slice(&[1, 2, 3, 0]);
        v.extend_from_slice(b"fmt ");
        v.extend_from_slice(&16u32.to_le_bytes());
        v.extend_from_slice(&tag.to_le_bytes());
        v.extend_from_slice(&channels.to_le_bytes());
        v.extend_from_slice(&rate.to_le_bytes());
        v.extend_from_slice(&(rate * u32::from(channels) * u32::from(bits) / 8).to_le_bytes());
        v.extend_from_slice(&(channels * bits / 8).to_le_bytes());
        v.extend_from_slice(&bits.to_le_bytes());
        v.extend_from_slice(b"data");
        v.extend_from_slice(&(data.len() as u32).to_le_bytes());
        v.extend_from_slice(data);
        v
    }

    #[test]
    fn write_read_round_trip() {
        let s = tones::sine(440.0, 250, 0.5);
        let mut file = Vec::new();
        write_wav_mono_8k(&mut file, &s).unwrap();
        assert_eq!(file.len(), 44 + 4000);
        assert_eq!(read_wav_mono_8k(&file[..]).unwrap(), s);
        let info = read_wav_info(&file[..]).unwrap();
        assert_eq!(
            info,
            WavInfo { format: WavFormat::Pcm, channels: 1, sample_rate: 8000, bits_per_sample: 16, frames: 2000 }
        );
        assert_eq!(info.describe(), "8000 Hz mono 16-bit PCM");
    }

    #[test]
    fn g711_wav_files() {
        let u = header(FORMAT_MULAW, 1, 8000, 8, &[0xFF, 0x80, 0x00]);
        assert_eq!(read_wav_mono_8k(&u[..]).unwrap(), vec![0, 32124, -32124]);
        let a = header(FORMAT_ALAW, 1, 8000, 8, &[0xD5, 0x55]);
        assert_eq!(read_wav_mono_8k(&a[..]).unwrap(), vec![8, -8]);
    }

    #[test]
    fn wrong_formats_are_explained() {
        let stereo = header(FORMAT_PCM, 2, 22050, 16, &[0; 8]);
        let err = read_wav_mono_8k(&stereo[..]).unwrap_err().to_string();
        assert!(err.contains("got 22050 Hz stereo 16-bit PCM"), "{err}");
        let (info, samples) = read_wav(&stereo[..]).unwrap();
        assert_eq!((info.channels, info.frames, samples.len()), (2, 2, 4));
        let float = header(3, 1, 8000, 32, &[0; 8]);
        let err = read_wav_mono_8k(&float[..]).unwrap_err().to_string();
        assert!(err.contains("8000 Hz mono 32-bit float"), "{err}");
        let pcm8 = header(FORMAT_PCM, 1, 8000, 8, &[0; 8]);
        assert!(matches!(read_wav_mono_8k(&pcm8[..]), Err(MediaError::UnsupportedWav(_))));
        assert!(matches!(read_wav_mono_8k(&b"RIFX0000WAVE"[..]), Err(MediaError::InvalidWav(_))));
        assert!(matches!(read_wav_mono_8k(&b"RIFF"[..]), Err(MediaError::InvalidWav(_))));
        let mut truncated = header(FORMAT_PCM, 1, 8000, 16, &[0; 8]);
        truncated.truncate(30);
        assert!(matches!(read_wav_mono_8k(&truncated[..]), Err(MediaError::InvalidWav(_))));
    }

    #[test]
    fn open_ended_data_reads_to_end() {
        let mut v = Vec::new();
        write_header(&mut v, 2, 8000, None).unwrap();
        v.extend_from_slice(&[1, 0, 2, 0, 3, 0, 4, 0, 5]);
        let info = read_wav_info(&v[..]).unwrap();
        assert_eq!(info.frames, 2);
        let (_, samples) = read_wav(&v[..]).unwrap();
        assert_eq!(samples, vec![1, 2, 3, 4]);
    }
}
