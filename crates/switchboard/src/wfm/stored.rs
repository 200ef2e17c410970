//! `wfm export-history`: the interval history of the server's own event
//! log, in the CSV that `wfm forecast` reads — so planners forecast from
//! real traffic rather than a spreadsheet.

use crate::UsageError;
use anyhow::{Context, Result};
use engine::kpi::{IntervalFold, KpiConfig};
use engine::{Event, QueueId};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use store::{EventLog, Location, MAX_PAGE, Store};

/// Flags of `wfm export-history`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  \
    switchboard wfm export-history --data-dir switchboard-demo --interval-minutes 30 > history.csv\n  \
    switchboard wfm forecast --history history.csv")]
pub struct ExportArgs {
    /// The server's SQLite data directory.
    #[arg(long, value_name = "DIR", conflicts_with = "database_url")]
    data_dir: Option<PathBuf>,
    /// The server's PostgreSQL URL.
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
    /// Interval length: 15, 30 or 60 minutes.
    #[arg(long, value_name = "M", default_value_t = 30)]
    interval_minutes: u32,
}

/// One queue × interval of history.
struct Row {
    start_ms: u64,
    queue: QueueId,
    offered: u64,
    aht: Option<f64>,
}

/// Run it.
pub fn run(args: ExportArgs) -> Result<()> {
    if ![15, 30, 60].contains(&args.interval_minutes) {
        return Err(UsageError("--interval-minutes: 15, 30 or 60".into()).into());
    }
    let location = match (&args.data_dir, &args.database_url) {
        (Some(dir), None) => Location::DataDir(dir.clone()),
        (None, Some(url)) if url.starts_with("postgres") => Location::parse(url),
        (None, Some(url)) => return Err(UsageError(format!("--database-url {url:?}: expected postgres://…")).into()),
        _ => return Err(UsageError("give --data-dir or --database-url".into()).into()),
    };
    if let Location::DataDir(dir) = &location
        && !dir.join(store::SQLITE_FILE).exists()
    {
        return Err(UsageError(format!("{}: no Switchboard database there", dir.display())).into());
    }
    let interval_ms = u64::from(args.interval_minutes) * 60_000;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let (rows, names) = rt.block_on(async {
        let store = Store::open(&location).await.with_context(|| format!("opening {location:?}"))?;
        let config = KpiConfig { interval_ms, ..KpiConfig::default() };
        let mut fold = IntervalFold::new(config);
        let mut names: BTreeMap<QueueId, String> = BTreeMap::new();
        let mut next = 0;
        loop {
            let page = store.read_events(next, MAX_PAGE).await?;
            let Some(last) = page.last() else { break };
            next = last.seq + 1;
            for rec in &page {
                if let Event::QueueConfigured { queue } = &rec.event {
                    names.insert(queue.id, queue.name.clone());
                }
                fold.apply(rec);
            }
            if page.len() < MAX_PAGE {
                break;
            }
        }
        store.close().await;
        let rows: Vec<Row> = fold
            .report()
            .intervals
            .iter()
            .map(|r| Row { start_ms: r.start.0, queue: r.queue, offered: r.counts.offered, aht: r.figures.aht_seconds })
            .collect();
        anyhow::Ok((rows, names))
    })?;
    if rows.is_empty() {
        return Err(UsageError("the event log has no contacts yet: nothing to export".into()).into());
    }
    crate::emit(&render(&rows, &names)?)
}

/// The CSV. An interval whose contacts were all abandoned has no handle
/// time: it takes its queue's AHT over the whole log (the forecast needs
/// one wherever contacts were offered).
fn render(rows: &[Row], names: &BTreeMap<QueueId, String>) -> Result<String> {
    let mut overall: BTreeMap<QueueId, (f64, u64)> = BTreeMap::new();
    for r in rows {
        if let Some(a) = r.aht {
            let e = overall.entry(r.queue).or_default();
            e.0 += a;
            e.1 += 1;
        }
    }
    let mut out = String::from(crate::wfm::plan::HEADER);
    out.push('\n');
    for r in rows {
        let name = names.get(&r.queue).map_or_else(|| format!("queue-{}", r.queue.0), |n| n.replace(',', " "));
        let aht = match (r.aht, overall.get(&r.queue)) {
            (Some(a), _) => format!("{a:.1}"),
            (None, _) if r.offered == 0 => String::new(),
            (None, Some((sum, n))) => format!("{:.1}", sum / *n as f64),
            (None, None) => {
                return Err(UsageError(format!(
                    "queue {name}: contacts offered but none ever handled, so no handle time to export"
                ))
                .into());
            }
        };
        let days = (r.start_ms / 86_400_000) as i64;
        let minute = ((r.start_ms % 86_400_000) / 60_000) as u32;
        let _ = writeln!(out, "{},{name},{},{aht}", ::wfm::forecast::format_instant(days, minute), r.offered);
    }
    Ok(out)
}
