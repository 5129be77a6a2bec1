//! The engine in a few lines: open (or create) a database file, create a
//! table, transfer money between accounts in transactions, read it back.
//!
//! Run it with `cargo run --release -p strata-engine --example bank`;
//! it keeps its data in `strata-bank.strata` in the current directory
//! (or the path given as the first argument), so a second run continues
//! where the first stopped.

use strata_engine::{Database, Error};

fn balance(tx: &strata_engine::Transaction, who: &str) -> Result<i64, Error> {
    Ok(tx
        .get("accounts", who.as_bytes())?
        .map(|v| i64::from_le_bytes(v.try_into().unwrap_or_default()))
        .unwrap_or(0))
}

/// Moves `amount` from one account to another, atomically.
fn transfer(db: &Database, from: &str, to: &str, amount: i64) -> Result<bool, Error> {
    let mut tx = db.begin()?;
    let (a, b) = (balance(&tx, from)?, balance(&tx, to)?);
    if a < amount {
        return Ok(false); // dropping `tx` rolls it back
    }
    tx.put("accounts", from.as_bytes(), &(a - amount).to_le_bytes())?;
    tx.put("accounts", to.as_bytes(), &(b + amount).to_le_bytes())?;
    tx.commit()?;
    Ok(true)
}

fn main() -> Result<(), Error> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "strata-bank.strata".into());
    let db = Database::open(&path)?;
    println!("opened {path} (page size {})", db.page_size());

    let mut tx = db.begin()?;
    tx.create_table("accounts")?;
    if tx.get("accounts", b"alice")?.is_none() {
        for (who, amount) in [("alice", 100i64), ("bob", 50), ("carol", 0)] {
            tx.put("accounts", who.as_bytes(), &amount.to_le_bytes())?;
        }
        println!("created accounts: alice 100, bob 50, carol 0");
    }
    tx.commit()?;

    for (from, to, amount) in [
        ("alice", "bob", 30),
        ("bob", "carol", 70),
        ("carol", "alice", 500),
    ] {
        let done = transfer(&db, from, to, amount)?;
        println!(
            "transfer {amount:>3} {from:>5} -> {to:<5} {}",
            if done {
                "committed"
            } else {
                "refused: insufficient funds, rolled back"
            }
        );
    }

    let tx = db.begin()?;
    let mut total = 0;
    for entry in tx.range("accounts", ..)? {
        let (who, value) = entry?;
        let amount = i64::from_le_bytes(value.try_into().unwrap_or_default());
        total += amount;
        println!("  {:<6} {amount:>4}", String::from_utf8_lossy(&who));
    }
    println!("  total  {total:>4}  (money is neither created nor lost)");
    drop(tx);

    let report = db.check()?;
    println!(
        "integrity check passed: {} tables, {} entries, {} pages",
        report.tables, report.entries, report.page_count
    );
    Ok(())
}
