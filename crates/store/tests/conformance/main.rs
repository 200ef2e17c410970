//! The store's conformance suite: one test binary, every test run against
//! SQLite (a fresh temporary directory) and, when `SWITCHBOARD_TEST_PG_URL`
//! is set, against PostgreSQL (a fresh schema per test, dropped afterwards).
//! Without the URL the PostgreSQL tests say once that they were skipped and
//! why; with `CI` set they fail instead.

// The test functions are plain async fns called by the generated #[test]s.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;

mod accounts;
mod audit;
mod config;
mod csv;
mod customers;
mod events;
mod perf;
mod restart;
mod sessions;
mod voice;

/// For every listed test function `module::name(&TestDb)`, a test
/// `sqlite::module::name` and a test `postgres::module::name`.
macro_rules! conformance {
    ($($module:ident: [$($name:ident),* $(,)?]),* $(,)?) => {
        mod sqlite {
            $(mod $module {
                $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    crate::harness::run(store::Backend::Sqlite, crate::$module::$name).await;
                })*
            })*
        }
        mod postgres {
            $(mod $module {
                $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    crate::harness::run(store::Backend::Postgres, crate::$module::$name).await;
                })*
            })*
        }
    };
}

conformance! {
    events: [
        empty_log,
        append_and_read_back,
        paged_and_filtered_reads,
        duplicate_seq_changes_nothing,
        concurrent_appends_group_commit,
        acknowledged_appends_survive_reopen,
        closed_store_refuses_appends,
    ],
    config: [settings_queues_agents, engine_config_replaced_whole, snapshot_latest_wins],
    restart: [engine_run_replays_after_reopen],
    accounts: [teams_crud, users_crud, login_failures_and_lock],
    customers: [customer_crud_and_validation, lookup_by_phone, paged_listing, contact_records_and_history, search_by_text],
    csv: [import_reports_bad_rows_and_stores_good_ones, import_updates_by_id, export_round_trips, bad_header_stores_nothing],
    audit: [append_and_query],
    sessions: [sessions_lifecycle, documents_round_trip],
    voice: [
        survey_answers_round_trip_and_filters,
        survey_answers_are_all_or_nothing,
        survey_offers_anti_fatigue,
        survey_summary_math,
        ivr_node_stats_aggregate,
        ivr_node_stats_per_interval,
        calls_put_replace_and_lookup,
        calls_newest_first_pagination,
        voice_records_survive_reopen,
    ],
}
