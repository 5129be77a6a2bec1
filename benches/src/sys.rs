//! What the harness asks of the operating system: peak memory, file
//! sizes, and the description of the machine for the report.

use std::path::Path;
use std::process::Command;

/// The peak resident set size of this process, in KiB
/// (`getrusage(RUSAGE_SELF).ru_maxrss`, which Linux gives in KiB).
#[allow(unsafe_code)]
pub fn peak_rss_kb() -> u64 {
    // SAFETY: `rusage` is a plain C struct of integers and `timeval`s, for
    // which all-zero bytes are a valid value, so `zeroed` is sound. The
    // pointer passed to `getrusage` is to that local, properly aligned and
    // writable struct, which lives across the call; `getrusage` only
    // writes into it and keeps no reference. `RUSAGE_SELF` is a valid
    // `who`, so the call cannot fail with EINVAL; should it fail anyway,
    // the zeroed struct reads as 0.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    u64::try_from(usage.ru_maxrss).unwrap_or(0)
}

/// The sum of the lengths of the regular files under `dir`.
pub fn dir_size(dir: &Path) -> std::io::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        if meta.is_dir() {
            total += dir_size(&entry.path())?;
        } else if meta.is_file() {
            total += meta.len();
        }
    }
    Ok(total)
}

/// The trimmed standard output of a command, or `None` if it failed.
fn command_output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The machine the benchmarks ran on, as the report describes it.
#[derive(Clone, Debug)]
pub struct Machine {
    /// `nproc`.
    pub nproc: String,
    /// The CPU model from `/proc/cpuinfo`.
    pub cpu: String,
    /// Total memory from `/proc/meminfo`.
    pub memory: String,
    /// The file system of the data directory (`df -T`), and its device.
    pub file_system: String,
    /// `uname -r`.
    pub kernel: String,
    /// `rustc --version` of the compiler that built this harness.
    pub rustc: String,
    /// The load average now (other work on the machine skews figures).
    pub load: String,
    /// The harness's scheduling policy (`chrt`), inherited by the engines'
    /// processes: a real-time policy keeps other work on the machine from
    /// delaying them.
    pub scheduling: String,
}

/// This process's scheduling policy and real-time priority, from fields 41
/// and 40 of `/proc/self/stat`.
pub fn scheduling_policy() -> String {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return "unknown".into();
    };
    // Fields after the command name, which is in parentheses and may hold
    // spaces: field 3 is the first of them.
    let Some((_, rest)) = stat.rsplit_once(") ") else {
        return "unknown".into();
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let (Some(prio), Some(policy)) = (fields.get(40 - 3), fields.get(41 - 3)) else {
        return "unknown".into();
    };
    let name = match *policy {
        "0" => "SCHED_OTHER (normal)",
        "1" => "SCHED_FIFO (real time)",
        "2" => "SCHED_RR (real time)",
        "3" => "SCHED_BATCH",
        "5" => "SCHED_IDLE",
        "6" => "SCHED_DEADLINE",
        _ => "unknown",
    };
    match *policy {
        "1" | "2" => format!("{name}, priority {prio}"),
        _ => name.to_string(),
    }
}

/// The 1, 5 and 15 minute load averages from `/proc/loadavg`.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into())
}

impl Machine {
    /// Describes this machine, with the file system holding `data_dir`.
    pub fn describe(data_dir: &Path) -> Machine {
        let nproc = command_output("nproc", &[]).unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map_or_else(|_| "unknown".into(), |n| n.to_string())
        });
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                (k.trim() == "model name").then(|| v.trim().to_string())
            })
            .unwrap_or_else(|| "unknown".into());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory = meminfo
            .lines()
            .find_map(|l| {
                let rest = l.strip_prefix("MemTotal:")?;
                let kb: f64 = rest.trim().trim_end_matches("kB").trim().parse().ok()?;
                Some(format!("{:.1} GiB", kb / (1024.0 * 1024.0)))
            })
            .unwrap_or_else(|| "unknown".into());
        let dir = data_dir.to_string_lossy();
        let file_system = command_output("df", &["-T", &dir])
            .and_then(|out| {
                let line = out.lines().nth(1)?.to_string();
                let cols: Vec<&str> = line.split_whitespace().collect();
                Some(format!(
                    "{} ({} mounted on {}, holding {})",
                    cols.get(1)?,
                    cols.first()?,
                    cols.last()?,
                    dir
                ))
            })
            .unwrap_or_else(|| "unknown".into());
        let kernel = command_output("uname", &["-r"]).unwrap_or_else(|| "unknown".into());
        Machine {
            nproc,
            cpu,
            memory,
            file_system,
            kernel,
            rustc: env!("STRATA_BENCH_RUSTC").to_string(),
            load: load_average(),
            scheduling: scheduling_policy(),
        }
    }
}

/// Today's date and time in UTC, `YYYY-MM-DD HH:MM UTC`, from the system
/// clock (days to civil date after Howard Hinnant's algorithm).
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}
