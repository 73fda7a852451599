//! Renders what a run produced: CSV files, `summary.json`, the terminal summary, comparison and
//! sweep tables, charts and HTML reports. This crate opens no files: the CLI hands it writers
//! and file contents.
//!
//! - [`escape`]: escaping of names for CSV, HTML/SVG and the terminal;
//! - [`schema`]: the columns of every output table, shared by its writer and its readers;
//! - [`csv_sink`]: [`CsvSink`], the [`ecsim_model::record::Sink`] that writes a run's tables;
//! - [`summary`]: `summary.json` (serde_json) and the text `ecsim run` prints;
//! - [`compare`]: `compare.csv` and the text `ecsim compare` prints;
//! - [`size`]: `size.csv`, the frontier chart and the answer `ecsim size` prints;
//! - [`sweep`]: sweep run files, `runs.csv` and `aggregate.csv`;
//! - [`charts`] and [`report`]: charts (SVG, PNG) and the HTML pages, from output files as text.
// No unsafe code here: the workspace denies it, and only `ecsim_prefetch` allows it.
#![forbid(unsafe_code)]

pub mod audit;
pub mod charts;
pub mod compare;
pub mod csv_sink;
pub mod escape;
mod goals;
pub mod human;
pub mod report;
pub mod schema;
pub mod size;
pub mod summary;
pub mod sweep;
pub mod sweep_long;
mod units;

pub use audit::{AuditResult, audit_text};
pub use compare::{Comparison, VariantResult, compare_csv, compare_text, paid_utilisation_pct};
pub use csv_sink::{CsvSink, SinkError, Writers};
pub use summary::{read_summary, summary_json, summary_text, summary_text_with_objectives};
pub use sweep::{SweepRun, read_sweep_run, sweep_run_csv, sweep_tables};
pub use units::usd_exact;
