//! `switchboard prompts`: synthesise the IVR's default prompt set (every
//! clip of the catalog, in Chinese and English) into a directory, for
//! servers started with `--prompts DIR` or to refresh a data directory's.

use anyhow::{Context, Result};
use std::path::PathBuf;

/// Arguments of `switchboard prompts`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to write `<lang>/<name>.wav` (8 kHz mono 16-bit).
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// Replace clips that already exist.
    #[arg(long)]
    overwrite: bool,
}

/// Run it.
pub fn run(args: Args) -> Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().context("starting the runtime")?;
    let written = rt.block_on(voice::prompts::generate(&args.dir, args.overwrite))?;
    crate::emit(&format!(
        "{written} clips written to {} ({} in the catalog, two languages)\n",
        args.dir.display(),
        ivr::CATALOG.len()
    ))?;
    Ok(())
}
