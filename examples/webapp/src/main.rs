//! `strata-webapp`: serves the blog.
//!
//! ```sh
//! cargo run -p strata-webapp                                   # 127.0.0.1:8080, ./strata-webapp.strata
//! cargo run -p strata-webapp -- --listen 127.0.0.1:9000 --db /tmp/blog.strata
//! RUST_LOG=strata_webapp=debug cargo run -p strata-webapp       # more logging
//! ```

#![deny(unsafe_code)]

use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;
use tracing_subscriber::EnvFilter;

/// The seed's Flask blog on axum and Strata.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The database file (made if missing).
    #[arg(long, default_value = "strata-webapp.strata")]
    db: PathBuf,
    /// Where the administrator's backups go (made if missing).
    #[arg(long, default_value = "strata-webapp-backups")]
    backup_dir: PathBuf,
    /// A secret of at least 64 bytes that signs the login cookies (or the
    /// environment's STRATA_WEBAPP_SECRET); without one, a random key is
    /// made and a restart logs everyone out.
    #[arg(long, env = "STRATA_WEBAPP_SECRET", hide_env_values = true)]
    secret: Option<String>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    if args.secret.as_ref().is_some_and(|s| s.len() < 64) {
        return Err("--secret must be at least 64 bytes".into());
    }
    let path = args.db.clone();
    let database = tokio::task::spawn_blocking(move || strata_webapp::open(path)).await??;
    tracing::info!(db = %args.db.display(), "database open");
    let state = strata_webapp::AppState::new(database, args.secret.as_deref().map(str::as_bytes))
        .with_backup_dir(&args.backup_dir);
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    tracing::info!("listening on http://{}", listener.local_addr()?);
    strata_webapp::serve(listener, state, async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    })
    .await?;
    Ok(())
}
