//! `strata`: check, inspect, query, dump and load Strata database files.
//! Run `strata --help`, or see `cli/README.md`.

#![deny(unsafe_code)]

use clap::{Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use strata_cli::commands::{check, dump, load, migrate, ops, schema, sql, stats};
use strata_cli::error::Result;

/// Look inside a Strata database file: check it, describe it, query it
/// with SQL, dump and load its rows.
///
/// Reading subcommands open the file read-only: they never write, and
/// share the file with other readers; a file an application holds open
/// for writing is refused (`Locked`). Errors are one line on stderr and
/// a non-zero exit status. `RUST_LOG=strata=debug` logs what the
/// database does, on stderr.
#[derive(Parser, Debug)]
#[command(name = "strata", version, about, long_about)]
struct Cli {
    /// Print JSON on stdout instead of tables, for machines.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check the engine's pages and trees, then every row, index,
    /// foreign key and link against the stored schemas. Exits non-zero
    /// naming the first fault.
    Check {
        /// The database file.
        file: PathBuf,
    },
    /// Format version, page size, pages used and free, file and log
    /// sizes, tables and rows, the last checkpoint, the schema version.
    Stats {
        /// The database file.
        file: PathBuf,
    },
    /// The models stored in the file, with their row counts.
    Tables {
        /// The database file.
        file: PathBuf,
    },
    /// Fields and types, keys, indexes and relationships of every model,
    /// or of one.
    Schema {
        /// The database file.
        file: PathBuf,
        /// A model's table or model name (any case).
        model: Option<String>,
    },
    /// Run one read-only SQL SELECT (or EXPLAIN SELECT) over the models'
    /// tables, planned by the ORM's planner.
    ///
    /// Example: strata sql app.strata "SELECT * FROM Students WHERE GPA > 3.5"
    Sql {
        /// The database file.
        file: PathBuf,
        /// The statement.
        query: String,
    },
    /// Write rows as JSON lines (or CSV): one table, or every table.
    Dump {
        /// The database file.
        file: PathBuf,
        /// Only this table (a model's, or a link or engine table as hex).
        #[arg(long)]
        table: Option<String>,
        /// The output format.
        #[arg(long, value_enum, default_value_t = DumpFormat::Jsonl)]
        format: DumpFormat,
    },
    /// Write a consistent copy of the database to DEST (which must not
    /// exist); the copy opens and passes `check`.
    Backup {
        /// The database file.
        file: PathBuf,
        /// Where the copy goes.
        dest: PathBuf,
    },
    /// Shrink the data file to within 1.2x of its live pages and give
    /// back the log's space beyond its preallocation.
    Compact {
        /// The database file.
        file: PathBuf,
    },
    /// The file's schema history: each applied migration step and
    /// automatic change with its version and when it committed, the
    /// file's migration version, and each stored model's schema version.
    ///
    /// Migrations themselves run from the application's code
    /// (`Database::migrate` with its `Migrations`): this command has no
    /// models, so it only shows the history, with --status.
    Migrate {
        /// The database file.
        file: PathBuf,
        /// Show the history (the only thing this command does).
        #[arg(long)]
        status: bool,
    },
    /// Add rows to a model's table from JSON lines, checked as the ORM
    /// checks an add (types, lengths, key, unique values, foreign keys),
    /// in one transaction: the first refused line stops it, nothing
    /// written.
    Load {
        /// The database file (it must exist).
        file: PathBuf,
        /// The model's table.
        #[arg(long)]
        table: String,
        /// Read the lines from this file instead of stdin.
        #[arg(long)]
        input: Option<PathBuf>,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum DumpFormat {
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated values with a header line.
    Csv,
}

fn run(cli: Cli) -> Result<()> {
    let out = &mut std::io::stdout().lock();
    let json = cli.json;
    match cli.command {
        Command::Check { file } => check::run(out, &file, json),
        Command::Stats { file } => stats::run(out, &file, json),
        Command::Tables { file } => schema::tables(out, &file, json),
        Command::Schema { file, model } => schema::schema(out, &file, model.as_deref(), json),
        Command::Sql { file, query } => sql::run(out, &file, &query, json),
        Command::Dump {
            file,
            table,
            format,
        } => {
            let format = match format {
                DumpFormat::Jsonl => dump::Format::Jsonl,
                DumpFormat::Csv => dump::Format::Csv,
            };
            dump::run(out, &file, table.as_deref(), format)
        }
        Command::Backup { file, dest } => ops::backup(out, &file, &dest, json),
        Command::Compact { file } => ops::compact(out, &file, json),
        Command::Migrate { file, status } => migrate::run(out, &file, status, json),
        Command::Load { file, table, input } => match input {
            Some(p) => {
                let f = std::fs::File::open(&p)
                    .map_err(|e| strata_cli::error::CliError(format!("{}: {e}", p.display())))?;
                load::run(out, &file, &table, std::io::BufReader::new(f), json)
            }
            None => load::run(out, &file, &table, std::io::stdin().lock(), json),
        },
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // --help and --version print and succeed.
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        // A usage error: its first line, as every other error.
        Err(e) => {
            let msg = e.to_string();
            let first = msg.lines().next().unwrap_or("bad arguments");
            let first = first.strip_prefix("error: ").unwrap_or(first);
            let _ = writeln!(std::io::stderr(), "strata: {first} (see strata --help)");
            return ExitCode::from(2);
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // A closed pipe (`strata dump ... | head`) is not an error.
            if e.0.contains("Broken pipe") {
                return ExitCode::SUCCESS;
            }
            let _ = writeln!(std::io::stderr(), "strata: {e}");
            ExitCode::FAILURE
        }
    }
}
