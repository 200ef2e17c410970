//! `switchboard`: the contact-center binary. Each subcommand lives in its
//! own module with an `Args` struct (clap derive) and a `run` function.

mod args;
mod bench;
mod prompts;
mod serve;
mod simulate;
mod wfm;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Switchboard contact center.
#[derive(Debug, Parser)]
#[command(name = "switchboard", version, about, propagate_version = true)]
struct Cli {
    /// More log output on stderr (-v: debug, -vv: trace). `RUST_LOG` also works.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

/// The subcommands. Adding one is a variant here and an arm in `main`.
#[derive(Debug, Subcommand)]
enum Command {
    /// Run the contact-center server (API, live updates, browser UI).
    Serve(serve::ServeArgs),
    /// Run the server with a sample company and simulated callers and agents.
    Demo(serve::DemoArgs),
    /// Simulate a contact center in virtual time with the real routing engine.
    Simulate(simulate::Args),
    /// Measure the engine's routing latency or the simulator's speed.
    #[command(subcommand)]
    Bench(bench::Args),
    /// Workforce management: Erlang C / Erlang A staffing.
    #[command(subcommand)]
    Wfm(wfm::Args),
    /// Generate the telephony prompt set (Chinese and English) with espeak-ng and sox.
    Prompts(prompts::Args),
}

/// An error in what the user asked for (bad flags, bad scenario): exit code 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Writes `text` to standard output; a reader that went away (`| head`)
/// is not an error.
pub fn emit(text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

fn init_logging(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    // The SIP stack logs every message at info and every malformed datagram
    // at warn (a flood of garbage would flood the log): errors only unless asked.
    let default = match verbose {
        0 => "info,rsipstack=error",
        1 => "debug,rsipstack=info",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let result = match cli.command {
        Command::Serve(args) => serve::run_serve(args),
        Command::Demo(args) => serve::run_demo(args),
        Command::Simulate(args) => simulate::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Wfm(args) => wfm::run(args),
        Command::Prompts(args) => prompts::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.downcast_ref::<UsageError>().is_some() => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
