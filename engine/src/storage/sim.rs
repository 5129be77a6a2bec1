//! A simulated, in-memory file system for crash-recovery tests.
//!
//! Each file is an inode holding two byte images: the bytes *written*
//! (`current`, what reads return) and the bytes made *durable* by
//! `sync_data` (`durable`, what is certain to survive a power failure). The
//! writes and truncations in between are kept, in order, as the inode's
//! pending ops. Names work the same way: a current and a durable namespace,
//! with the creations, renames and removals in between kept as pending
//! directory ops until [`Vfs::sync_dir`] of their directory.
//!
//! A *crash image* is what a disk could hold after power fails at a given
//! instant: the durable namespace plus a prefix of the pending directory ops,
//! and for each file its durable bytes plus some of its pending ops. With
//! [`CrashMode::Random`] each 512-byte sector a pending write touches is
//! independently kept, lost or turned into garbage: the media model of the
//! parent module's doc.
//!
//! A name moved by [`Vfs::rename_no_replace`] is two directory ops, a link
//! and an unlink, as on the real file system, so a crash image may hold
//! both names. Directories can be made read-only
//! ([`SimVfs::set_dir_read_only`]), and a name can be made to lead to a
//! FIFO, a socket or a device ([`SimVfs::make_special`]), which opening
//! refuses as the real file system does.
//!
//! A [`FaultPlan`] makes chosen calls fail, crashes the machine at a chosen
//! call or sync (every later call fails), or caps the disk size. A failed
//! `sync_data` drops the file's dirty data as Linux does, so it never becomes
//! durable. All randomness derives from the seed given to [`SimVfs::new`], so
//! a test is reproducible from its seed. Files live in memory: keep them to
//! test sizes.

use super::vfs::{FileId, NotARegularFile, OpenMode, StorageFile, Vfs};
use parking_lot::{Mutex, MutexGuard};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Granularity at which [`CrashMode::Random`] tears writes.
const SECTOR: usize = 512;

/// Faults to inject. Indices are 0-based and count every trait call made on
/// the [`SimVfs`] and on all of its files (see [`SimVfs::calls`] and
/// [`SimVfs::syncs`]).
///
/// ```
/// use std::sync::Arc;
/// use strata_engine::storage::{FaultPlan, SimVfs};
/// use strata_engine::{Database, Error, Options};
/// let vfs = SimVfs::new(5);
/// let db = Database::open_with("/sim/db", Options { storage: Arc::new(vfs.clone()), ..Options::default() })?;
/// db.transaction(|tx| tx.create_table("t"))?;
/// // Fail every call from now on: the commit's write or sync fails, and
/// // the handle is poisoned rather than trusting a retried sync.
/// vfs.set_faults(FaultPlan { fail_from: Some(vfs.calls()), ..FaultPlan::default() });
/// assert!(db.transaction(|tx| tx.put("t", b"k", b"v")).is_err());
/// assert!(matches!(db.begin(), Err(Error::Poisoned { .. })));
/// # std::mem::forget(db);
/// # Ok::<(), strata_engine::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct FaultPlan {
    /// The call with this index fails, once, with
    /// `io::Error::other("simulated I/O failure at call N")` and has no
    /// effect, except that a failing `sync_data` discards the file's dirty
    /// data (it stays readable but can never become durable).
    pub fail_call: Option<u64>,
    /// Every call with an index at or above this fails as for `fail_call`.
    pub fail_from: Option<u64>,
    /// The machine crashes at the call with this index: that call and every
    /// later one on the `SimVfs` and its files fail with
    /// `io::Error::other("simulated crash")`, and [`SimVfs::crash`] images
    /// the state as it was just before that call.
    pub crash_at_call: Option<u64>,
    /// As `crash_at_call`, triggered by the sync (`sync_data` or `sync_dir`)
    /// with this sync index; that sync does not happen.
    pub crash_at_sync: Option<u64>,
    /// Cap on the total length of all live files (named or open). A
    /// `write_at` or `set_len` that would exceed it fails with
    /// `ErrorKind::StorageFull` and has no effect.
    pub disk_limit: Option<u64>,
}

/// Which unsynced operations a crash image keeps.
///
/// ```
/// use std::path::Path;
/// use strata_engine::storage::{CrashMode, OpenMode, SimVfs, Vfs};
/// let vfs = SimVfs::new(3);
/// vfs.write_file(Path::new("/d/f"), b"old");
/// let f = vfs.open(Path::new("/d/f"), OpenMode::Existing)?;
/// f.write_at(b"new", 0)?; // pending: not synced
/// let keep = vfs.snapshot_durable_image(CrashMode::KeepAll).read_file(Path::new("/d/f"));
/// let drop = vfs.snapshot_durable_image(CrashMode::DropAll).read_file(Path::new("/d/f"));
/// assert_eq!((keep, drop), (Some(b"new".to_vec()), Some(b"old".to_vec())));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrashMode {
    /// Every pending write and directory op reached the disk: the image is
    /// what reads return now, less data lost by failed syncs.
    KeepAll,
    /// Nothing pending reached the disk: the image is the durable state.
    DropAll,
    /// A random prefix of the pending directory ops; each pending `set_len`
    /// kept or lost; each sector of each pending write kept (p = 1/2), lost
    /// (1/4) or filled with garbage (1/4), independently.
    Random,
}

/// The simulated file system. Clones share the same files, counters, fault
/// plan and crash state.
///
/// ```
/// use std::sync::Arc;
/// use strata_engine::storage::{CrashMode, SimVfs};
/// use strata_engine::{Database, Options};
///
/// let vfs = SimVfs::new(42); // every random choice derives from the seed
/// let options = Options { storage: Arc::new(vfs.clone()), ..Options::default() };
/// let db = Database::open_with("/sim/db", options.clone())?;
/// db.transaction(|tx| { tx.create_table("t")?; tx.put("t", b"k", b"v") })?;
///
/// // Power fails: only what was synced survives. The commit was.
/// let disk = vfs.crash(CrashMode::DropAll);
/// std::mem::forget(db); // its files are gone with the crashed machine
/// let options = Options { storage: Arc::new(disk), ..options };
/// let db = Database::open_with("/sim/db", options)?;
/// assert_eq!(db.begin_read()?.get("t", b"k")?, Some(b"v".to_vec()));
/// # Ok::<(), strata_engine::Error>(())
/// ```
#[derive(Clone)]
pub struct SimVfs {
    machine: Arc<Mutex<Machine>>,
}

type InodeId = u64;

/// A change to a file's bytes not yet made durable.
#[derive(Debug)]
enum PendingOp {
    Write { offset: usize, data: Vec<u8> },
    SetLen(usize),
}

#[derive(Debug, Default)]
struct Inode {
    current: Vec<u8>,
    durable: Vec<u8>,
    pending: Vec<PendingOp>,
    /// Open handles; the inode is kept while any exist.
    handles: usize,
    /// The handle holding the exclusive lock.
    lock_holder: Option<u64>,
    /// Permissions allow reading only ([`SimVfs::set_read_only`]).
    read_only: bool,
    /// Not a regular file: what it is ([`SimVfs::make_special`]).
    special: Option<&'static str>,
}

/// A change to the namespace not yet made durable. Renames carry their inode
/// so that they apply correctly even if the creation is not yet durable.
#[derive(Debug)]
enum DirOp {
    /// A new name for an inode: a file created, or a hard link.
    Create {
        path: PathBuf,
        inode: InodeId,
    },
    Rename {
        from: PathBuf,
        to: PathBuf,
        inode: InodeId,
    },
    Remove {
        path: PathBuf,
    },
}

impl DirOp {
    /// Whether syncing `dir` makes this op durable. A rename between two
    /// directories becomes durable, whole, by syncing either of them.
    fn in_dir(&self, dir: &Path) -> bool {
        let under = |p: &Path| p.parent() == Some(dir);
        match self {
            DirOp::Create { path, .. } | DirOp::Remove { path } => under(path),
            DirOp::Rename { from, to, .. } => under(from) || under(to),
        }
    }

    fn apply(&self, names: &mut BTreeMap<PathBuf, InodeId>) {
        match self {
            DirOp::Create { path, inode } => _ = names.insert(path.clone(), *inode),
            DirOp::Rename { from, to, inode } => {
                names.remove(from);
                names.insert(to.clone(), *inode);
            }
            DirOp::Remove { path } => _ = names.remove(path),
        }
    }
}

/// The simulated machine behind every clone of a [`SimVfs`]: its files
/// and namespaces, written and durable, the call counters, the fault plan,
/// and whether it has crashed.
#[derive(Default)]
struct Machine {
    seed: u64,
    /// Crash images taken so far; each draws its own random stream.
    images: u64,
    calls: u64,
    syncs: u64,
    faults: FaultPlan,
    /// Crashed: nothing changes any more and every call fails.
    dead: bool,
    /// Source of inode and handle ids.
    next_id: u64,
    inodes: BTreeMap<InodeId, Inode>,
    names: BTreeMap<PathBuf, InodeId>,
    durable_names: BTreeMap<PathBuf, InodeId>,
    dir_ops: Vec<DirOp>,
    /// Directories in which no name may be created, renamed or removed
    /// ([`SimVfs::set_dir_read_only`]).
    read_only_dirs: BTreeSet<PathBuf>,
}

/// Why [`Machine::admit`] refused a call.
enum Refusal {
    Crash,
    Fail(u64),
}

impl From<Refusal> for io::Error {
    fn from(r: Refusal) -> io::Error {
        match r {
            Refusal::Crash => io::Error::other("simulated crash"),
            Refusal::Fail(n) => io::Error::other(format!("simulated I/O failure at call {n}")),
        }
    }
}

impl Machine {
    /// Counts a trait call and applies the fault plan to it. Calls on a
    /// crashed machine are refused without being counted.
    fn admit(&mut self, is_sync: bool) -> Result<(), Refusal> {
        if self.dead {
            return Err(Refusal::Crash);
        }
        let call = self.calls;
        self.calls += 1;
        let sync = is_sync.then_some(self.syncs);
        self.syncs += u64::from(is_sync);
        let f = &self.faults;
        if f.crash_at_call == Some(call) || (sync.is_some() && sync == f.crash_at_sync) {
            self.dead = true;
            return Err(Refusal::Crash);
        }
        if f.fail_call == Some(call) || f.fail_from.is_some_and(|from| call >= from) {
            return Err(Refusal::Fail(call));
        }
        Ok(())
    }

    /// Refuses a change to the names in `path`'s directory if it is
    /// read-only.
    fn may_change(&self, path: &Path) -> io::Result<()> {
        match path.parent() {
            Some(dir) if self.read_only_dirs.contains(dir) => {
                Err(path_error(io::ErrorKind::PermissionDenied, path))
            }
            _ => Ok(()),
        }
    }

    fn fresh_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn inode(&mut self, id: InodeId) -> io::Result<&mut Inode> {
        // Open handles keep their inode alive, so this fails only on a bug.
        self.inodes
            .get_mut(&id)
            .ok_or_else(|| io::Error::other("simulated inode vanished"))
    }

    /// The inode `id`, once checked that growing it to `len` bytes keeps
    /// the live files within the disk limit.
    fn grow(&mut self, id: InodeId, len: usize) -> io::Result<&mut Inode> {
        if let Some(limit) = self.faults.disk_limit {
            let named: BTreeSet<InodeId> = self.names.values().copied().collect();
            let used: u64 = self
                .inodes
                .iter()
                .filter(|(id, ino)| ino.handles > 0 || named.contains(id))
                .map(|(_, ino)| ino.current.len() as u64)
                .sum();
            let old = self.inode(id)?.current.len();
            if len > old && used.saturating_add((len - old) as u64) > limit {
                return Err(io::ErrorKind::StorageFull.into());
            }
        }
        self.inode(id)
    }

    /// Drops the inodes that no name, pending directory op or handle uses.
    fn collect_garbage(&mut self) {
        let mut keep: BTreeSet<InodeId> = self.names.values().copied().collect();
        keep.extend(self.durable_names.values().copied());
        for op in &self.dir_ops {
            if let DirOp::Create { inode, .. } | DirOp::Rename { inode, .. } = op {
                keep.insert(*inode);
            }
        }
        self.inodes
            .retain(|id, ino| ino.handles > 0 || keep.contains(id));
    }

    /// A crash image of this state, as a fresh, independent state.
    fn image(&mut self, mode: CrashMode) -> Machine {
        self.images += 1;
        let mut rng = SplitMix64(self.seed ^ self.images.wrapping_mul(0xD1B5_4A32_D192_ED03));
        let mut out = Machine {
            seed: rng.next(),
            ..Machine::default()
        };
        let kept_ops = match mode {
            CrashMode::KeepAll => self.dir_ops.len(),
            CrashMode::DropAll => 0,
            CrashMode::Random => rng.below(self.dir_ops.len() as u64 + 1) as usize,
        };
        let mut names = self.durable_names.clone();
        self.dir_ops[..kept_ops]
            .iter()
            .for_each(|op| op.apply(&mut names));
        // Memoised, so that two names of one inode stay one file.
        let mut renumbered = BTreeMap::new();
        for (path, old_id) in names {
            let id = *renumbered.entry(old_id).or_insert_with(|| {
                let bytes = self
                    .inodes
                    .get(&old_id)
                    .map_or_else(Vec::new, |ino| settle(ino, mode, &mut rng));
                let id = out.fresh_id();
                let inode = Inode {
                    current: bytes.clone(),
                    durable: bytes,
                    special: self.inodes.get(&old_id).and_then(|ino| ino.special),
                    ..Inode::default()
                };
                out.inodes.insert(id, inode);
                id
            });
            out.names.insert(path.clone(), id);
            out.durable_names.insert(path, id);
        }
        out.read_only_dirs = self.read_only_dirs.clone();
        out
    }
}

/// The bytes an inode holds after a crash: its durable bytes plus whichever
/// pending ops `mode` lets through.
fn settle(ino: &Inode, mode: CrashMode, rng: &mut SplitMix64) -> Vec<u8> {
    let mut bytes = ino.durable.clone();
    for op in &ino.pending {
        match (mode, op) {
            (CrashMode::DropAll, _) => break,
            (CrashMode::KeepAll, op) => apply(&mut bytes, op),
            (CrashMode::Random, PendingOp::SetLen(_)) => {
                if rng.below(2) == 0 {
                    apply(&mut bytes, op);
                }
            }
            (CrashMode::Random, PendingOp::Write { offset, data }) => {
                let (mut pos, end) = (*offset, offset + data.len());
                while pos < end {
                    let piece_end = ((pos / SECTOR + 1) * SECTOR).min(end);
                    let piece = &data[pos - offset..piece_end - offset];
                    match rng.below(4) {
                        0 | 1 => write_bytes(&mut bytes, pos, piece),
                        2 => {}
                        _ => {
                            let garbage: Vec<u8> = piece.iter().map(|_| rng.next() as u8).collect();
                            write_bytes(&mut bytes, pos, &garbage);
                        }
                    }
                    pos = piece_end;
                }
            }
        }
    }
    bytes
}

fn apply(bytes: &mut Vec<u8>, op: &PendingOp) {
    match op {
        PendingOp::Write { offset, data } => write_bytes(bytes, *offset, data),
        PendingOp::SetLen(len) => bytes.resize(*len, 0),
    }
}

/// Writes `data` at `offset`, zero-extending `bytes` as needed.
fn write_bytes(bytes: &mut Vec<u8>, offset: usize, data: &[u8]) {
    let end = offset + data.len();
    if bytes.len() < end {
        bytes.resize(end, 0);
    }
    bytes[offset..end].copy_from_slice(data);
}

/// SplitMix64 (Steele, Lea and Flood): tiny, and good enough to pick crash
/// damage.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..n`; `n` must be non-zero.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A file offset or length as an in-memory index, if a `Vec` can reach it.
fn to_index(n: u64) -> io::Result<usize> {
    usize::try_from(n)
        .ok()
        .filter(|&n| isize::try_from(n).is_ok())
        .ok_or_else(|| io::ErrorKind::FileTooLarge.into())
}

fn path_error(kind: io::ErrorKind, path: &Path) -> io::Error {
    io::Error::new(kind, format!("{}: {kind}", path.display()))
}

impl SimVfs {
    /// An empty file system whose random choices all derive from `seed`.
    ///
    /// ```
    /// use std::path::Path;
    /// use strata_engine::storage::{OpenMode, SimVfs, Vfs};
    /// let vfs = SimVfs::new(7);
    /// let f = vfs.open(Path::new("/d/f"), OpenMode::CreateNew)?;
    /// f.write_at(b"hello", 0)?;
    /// assert_eq!(vfs.read_file(Path::new("/d/f")), Some(b"hello".to_vec()));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new(seed: u64) -> SimVfs {
        SimVfs::from_machine(Machine {
            seed,
            ..Machine::default()
        })
    }

    fn from_machine(machine: Machine) -> SimVfs {
        SimVfs {
            machine: Arc::new(Mutex::new(machine)),
        }
    }

    /// Locks the state for one trait call, counted and subject to faults.
    fn enter(&self, is_sync: bool) -> io::Result<MutexGuard<'_, Machine>> {
        let mut state = self.machine.lock();
        state.admit(is_sync)?;
        Ok(state)
    }

    /// Replaces the fault plan. The call and sync counters are not reset.
    ///
    /// ```
    /// use std::path::Path;
    /// use strata_engine::storage::{FaultPlan, OpenMode, SimVfs, Vfs};
    /// let vfs = SimVfs::new(1);
    /// let f = vfs.open(Path::new("/d/f"), OpenMode::CreateNew)?;
    /// vfs.set_faults(FaultPlan { fail_call: Some(vfs.calls()), ..FaultPlan::default() });
    /// assert!(f.sync_data().is_err()); // the next call fails
    /// f.sync_data()?; // and only that one
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_faults(&self, plan: FaultPlan) {
        self.machine.lock().faults = plan;
    }

    /// Trait calls made so far on this file system and all its files,
    /// including failed ones and the one that crashed it; calls refused
    /// after a crash are not counted.
    ///
    /// ```
    /// use std::path::Path;
    /// use strata_engine::storage::{OpenMode, SimVfs, Vfs};
    /// let vfs = SimVfs::new(1);
    /// let f = vfs.open(Path::new("/d/f"), OpenMode::CreateNew)?; // call 0
    /// f.write_at(b"x", 0)?; // call 1
    /// assert_eq!(vfs.calls(), 2);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn calls(&self) -> u64 {
        self.machine.lock().calls
    }

    /// `sync_data` and `sync_dir` calls made so far, counted as by
    /// [`SimVfs::calls`].
    ///
    /// ```
    /// use std::path::Path;
    /// use strata_engine::storage::{OpenMode, SimVfs, Vfs};
    /// let vfs = SimVfs::new(1);
    /// let f = vfs.open(Path::new("/d/f"), OpenMode::CreateNew)?;
    /// f.sync_data()?;
    /// vfs.sync_dir(Path::new("/d"))?;
    /// assert_eq!((vfs.syncs(), vfs.calls()), (2, 3));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn syncs(&self) -> u64 {
        self.machine.lock().syncs
    }

    /// Whether the machine has crashed, by [`SimVfs::crash`] or by a
    /// [`FaultPlan`] trigger.
    ///
    /// ```
    /// use strata_engine::storage::{CrashMode, SimVfs};
    /// let vfs = SimVfs::new(1);
    /// assert!(!vfs.is_crashed());
    /// let after = vfs.crash(CrashMode::KeepAll);
    /// assert!(vfs.is_crashed() && !after.is_crashed());
    /// ```
    pub fn is_crashed(&self) -> bool {
        self.machine.lock().dead
    }

    /// Crashes the machine now (or keeps the moment a fault-plan crash
    /// already fired) and returns the disk as it comes back up: a new,
    /// independent file system with fresh counters, no faults and no locks.
    /// Every later call on `self` and its files fails.
    ///
    /// ```
    /// use std::path::Path;
    /// use strata_engine::storage::{CrashMode, OpenMode, SimVfs, Vfs};
    /// let vfs = SimVfs::new(1);
    /// let f = vfs.open(Path::new("/d/f"), OpenMode::CreateNew)?;
    /// vfs.sync_dir(Path::new("/d"))?; // the name is durable
    /// f.write_at(b"synced", 0)?;
    /// f.sync_data()?;
    /// f.write_at(b"SYNCED", 0)?; // not synced
    /// let disk = vfs.crash(CrashMode::DropAll);
    /// assert_eq!(disk.read_file(Path::new("/d/f")), Some(b"synced".to_vec()));
    /// assert!(f.write_at(b"x", 0).is_err()); // the old machine is down
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn crash(&self, mode: CrashMode) -> SimVfs {
        let mut state = self.machine.lock();
        state.dead = true;
        SimVfs::from_machine(state.image(mode))
    }

    /// The file system a crash at this instant could leave, as
    /// [`SimVfs::crash`] but without crashing `self`: call it repeatedly to
    /// sample crash images of one moment. Each call draws a different,
    /// deterministic, random stream.
    ///
    /// ```
    /// use std::path::Path;
    /// use strata_engine::storage::{CrashMode, OpenMode, SimVfs, Vfs};
    /// let vfs = SimVfs::new(1);
    /// let f = vfs.open(Path::new("/d/f"), OpenMode::CreateNew)?;
    /// f.write_at(b"unsynced", 0)?;
    /// // Without a sync of the directory, a crash now may lose the name itself.
    /// let image = vfs.snapshot_durable_image(CrashMode::DropAll);
    /// assert_eq!(image.read_file(Path::new("/d/f")), None);
    /// assert!(!vfs.is_crashed()); // the machine runs on
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn snapshot_durable_image(&self, mode: CrashMode) -> SimVfs {
        SimVfs::from_machine(self.machine.lock().image(mode))
    }

    /// The bytes a read of `path` would return, or `None` if no file is
    /// there. Like all test helpers: not counted, free of faults, and
    /// usable after a crash.
    ///
    /// ```
    /// use std::path::Path;
    /// use strata_engine::storage::SimVfs;
    /// let vfs = SimVfs::new(1);
    /// vfs.write_file(Path::new("/d/f"), b"bytes");
    /// assert_eq!(vfs.read_file(Path::new("/d/f")), Some(b"bytes".to_vec()));
    /// assert_eq!(vfs.read_file(Path::new("/d/g")), None);
    /// ```
    pub fn read_file(&self, path: &Path) -> Option<Vec<u8>> {
        let state = self.machine.lock();
        let ino = state.inodes.get(state.names.get(path)?)?;
        Some(ino.current.clone())
    }

    /// Sets the contents of `path`, both as read and as durable, forgetting
    /// its unsynced writes; a missing file is created with a durable name.
    /// For tests that corrupt files.
    ///
    /// ```
    /// use std::path::Path;
    /// use strata_engine::storage::{CrashMode, SimVfs};
    /// let vfs = SimVfs::new(1);
    /// vfs.write_file(Path::new("/d/f"), b"durable at once");
    /// let image = vfs.crash(CrashMode::DropAll);
    /// assert_eq!(image.read_file(Path::new("/d/f")), Some(b"durable at once".to_vec()));
    /// ```
    pub fn write_file(&self, path: &Path, bytes: &[u8]) {
        let mut state = self.machine.lock();
        let id = match state.names.get(path) {
            Some(&id) => id,
            None => {
                let id = state.fresh_id();
                state.names.insert(path.to_path_buf(), id);
                state.durable_names.insert(path.to_path_buf(), id);
                id
            }
        };
        let ino = state.inodes.entry(id).or_default();
        ino.current = bytes.to_vec();
        ino.durable = bytes.to_vec();
        ino.pending.clear();
    }

    /// The length a read of `path` would see, or `None` if no file is there.
    ///
    /// ```
    /// use std::path::Path;
    /// use strata_engine::storage::SimVfs;
    /// let vfs = SimVfs::new(1);
    /// vfs.write_file(Path::new("/d/f"), &[0; 100]);
    /// assert_eq!(vfs.file_len(Path::new("/d/f")), Some(100));
    /// ```
    pub fn file_len(&self, path: &Path) -> Option<u64> {
        let state = self.machine.lock();
        let ino = state.inodes.get(state.names.get(path)?)?;
        Some(ino.current.len() as u64)
    }

    /// Makes the file at `path` readable only (as `chmod a-w` would), or
    /// writable again: opening it for writing then fails with
    /// `PermissionDenied`. Handles already open keep their mode. Returns
    /// whether a file is there.
    ///
    /// ```
    /// use std::path::Path;
    /// use strata_engine::storage::{OpenMode, SimVfs, Vfs};
    /// let vfs = SimVfs::new(1);
    /// vfs.write_file(Path::new("/d/f"), b"x");
    /// assert!(vfs.set_read_only(Path::new("/d/f"), true));
    /// assert!(vfs.open(Path::new("/d/f"), OpenMode::Existing).is_err());
    /// assert!(vfs.open(Path::new("/d/f"), OpenMode::ReadOnly).is_ok());
    /// ```
    pub fn set_read_only(&self, path: &Path, read_only: bool) -> bool {
        let mut state = self.machine.lock();
        let Some(&id) = state.names.get(path) else {
            return false;
        };
        match state.inodes.get_mut(&id) {
            Some(ino) => {
                ino.read_only = read_only;
                true
            }
            None => false,
        }
    }

    /// The paths of all files in the current namespace, sorted.
    ///
    /// ```
    /// use std::path::{Path, PathBuf};
    /// use strata_engine::storage::SimVfs;
    /// let vfs = SimVfs::new(1);
    /// vfs.write_file(Path::new("/d/b"), b"");
    /// vfs.write_file(Path::new("/d/a"), b"");
    /// assert_eq!(vfs.list_files(), [PathBuf::from("/d/a"), PathBuf::from("/d/b")]);
    /// ```
    pub fn list_files(&self) -> Vec<PathBuf> {
        self.machine.lock().names.keys().cloned().collect()
    }

    /// Makes directory `dir` read-only (as `chmod a-w` would), or
    /// writable again: creating, renaming or removing a name in it then
    /// fails with `PermissionDenied`. Files in it keep their own mode.
    ///
    /// ```
    /// use std::path::Path;
    /// use strata_engine::storage::{OpenMode, SimVfs, Vfs};
    /// let vfs = SimVfs::new(1);
    /// vfs.set_dir_read_only(Path::new("/ro"), true);
    /// let e = vfs.open(Path::new("/ro/f"), OpenMode::CreateNew).unwrap_err();
    /// assert_eq!(e.kind(), std::io::ErrorKind::PermissionDenied);
    /// ```
    pub fn set_dir_read_only(&self, dir: &Path, read_only: bool) {
        let mut state = self.machine.lock();
        if read_only {
            state.read_only_dirs.insert(dir.to_path_buf());
        } else {
            state.read_only_dirs.remove(dir);
        }
    }

    /// Puts at `path`, durably, something that is not a regular file:
    /// `kind` says what (`"a FIFO"`, `"a socket"`, ...). Opening it fails
    /// with a [`NotARegularFile`], as on the real file system.
    ///
    /// ```
    /// use std::path::Path;
    /// use strata_engine::storage::{NotARegularFile, OpenMode, SimVfs, Vfs};
    /// let vfs = SimVfs::new(1);
    /// vfs.make_special(Path::new("/d/fifo"), "a FIFO");
    /// let e = vfs.open(Path::new("/d/fifo"), OpenMode::Existing).unwrap_err();
    /// assert!(NotARegularFile::is(&e));
    /// ```
    pub fn make_special(&self, path: &Path, kind: &'static str) {
        let mut state = self.machine.lock();
        let id = state.fresh_id();
        let inode = Inode {
            special: Some(kind),
            ..Inode::default()
        };
        state.inodes.insert(id, inode);
        state.names.insert(path.to_path_buf(), id);
        state.durable_names.insert(path.to_path_buf(), id);
        state.collect_garbage();
    }
}

impl fmt::Debug for SimVfs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("SimVfs");
        match self.machine.try_lock() {
            Some(s) => d
                .field("seed", &s.seed)
                .field("calls", &s.calls)
                .field("syncs", &s.syncs)
                .field("crashed", &s.dead)
                .field("files", &s.names.keys().collect::<Vec<_>>()),
            None => d.field("state", &"<locked>"),
        }
        .finish()
    }
}

impl Vfs for SimVfs {
    fn open(&self, path: &Path, mode: OpenMode) -> io::Result<Box<dyn StorageFile>> {
        let mut state = self.enter(false)?;
        let inode = match (state.names.get(path).copied(), mode) {
            (None, OpenMode::Existing | OpenMode::ReadOnly) => {
                return Err(path_error(io::ErrorKind::NotFound, path));
            }
            (Some(_), OpenMode::CreateNew) => {
                return Err(path_error(io::ErrorKind::AlreadyExists, path));
            }
            (Some(id), _) if state.inode(id)?.special.is_some() => {
                let kind = state.inode(id)?.special.unwrap_or("not a regular file");
                return Err(NotARegularFile::error(path, kind));
            }
            (Some(id), OpenMode::Existing | OpenMode::CreateTruncate)
                if state.inode(id)?.read_only =>
            {
                return Err(path_error(io::ErrorKind::PermissionDenied, path));
            }
            (Some(id), OpenMode::CreateTruncate) => {
                let ino = state.inode(id)?;
                ino.current.clear();
                ino.pending.push(PendingOp::SetLen(0));
                id
            }
            (Some(id), _) => id,
            (None, _) => {
                state.may_change(path)?;
                let id = state.fresh_id();
                state.inodes.insert(id, Inode::default());
                state.names.insert(path.to_path_buf(), id);
                let path = path.to_path_buf();
                state.dir_ops.push(DirOp::Create { path, inode: id });
                id
            }
        };
        state.inode(inode)?.handles += 1;
        let handle = state.fresh_id();
        let writable = mode != OpenMode::ReadOnly;
        Ok(Box::new(SimFile {
            vfs: self.clone(),
            inode,
            handle,
            writable,
        }))
    }

    fn exists(&self, path: &Path) -> io::Result<bool> {
        Ok(self.enter(false)?.names.contains_key(path))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut state = self.enter(false)?;
        state.may_change(from)?;
        state.may_change(to)?;
        let inode = state
            .names
            .remove(from)
            .ok_or_else(|| path_error(io::ErrorKind::NotFound, from))?;
        state.names.insert(to.to_path_buf(), inode);
        if from != to {
            let (from, to) = (from.to_path_buf(), to.to_path_buf());
            state.dir_ops.push(DirOp::Rename { from, to, inode });
            state.collect_garbage();
        }
        Ok(())
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        let mut state = self.enter(false)?;
        state.may_change(path)?;
        if state.names.remove(path).is_none() {
            return Err(path_error(io::ErrorKind::NotFound, path));
        }
        state.dir_ops.push(DirOp::Remove {
            path: path.to_path_buf(),
        });
        state.collect_garbage();
        Ok(())
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let mut state = self.enter(true)?;
        let Machine {
            dir_ops,
            durable_names,
            ..
        } = &mut *state;
        dir_ops.retain(|op| {
            let here = op.in_dir(dir);
            if here {
                op.apply(durable_names);
            }
            !here
        });
        state.collect_garbage();
        Ok(())
    }

    /// A link, then an unlink: two directory ops, so that a crash image
    /// may hold both names, as on the real file system.
    fn rename_no_replace(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut state = self.enter(false)?;
        state.may_change(from)?;
        state.may_change(to)?;
        let inode = *state
            .names
            .get(from)
            .ok_or_else(|| path_error(io::ErrorKind::NotFound, from))?;
        if state.names.contains_key(to) {
            return Err(path_error(io::ErrorKind::AlreadyExists, to));
        }
        if from != to {
            state.names.remove(from);
            state.names.insert(to.to_path_buf(), inode);
            let (from, to) = (from.to_path_buf(), to.to_path_buf());
            state.dir_ops.push(DirOp::Create { path: to, inode });
            state.dir_ops.push(DirOp::Remove { path: from });
        }
        Ok(())
    }

    fn file_id(&self, path: &Path) -> io::Result<FileId> {
        let state = self.enter(false)?;
        match state.names.get(path) {
            Some(&inode) => Ok(FileId::new(0, inode)),
            None => Err(path_error(io::ErrorKind::NotFound, path)),
        }
    }

    fn read_dir(&self, dir: &Path) -> io::Result<Vec<PathBuf>> {
        let state = self.enter(false)?;
        Ok(state
            .names
            .keys()
            .filter(|p| p.parent() == Some(dir))
            .cloned()
            .collect())
    }
}

/// An open handle on a [`SimVfs`] file.
#[derive(Debug)]
struct SimFile {
    vfs: SimVfs,
    inode: InodeId,
    handle: u64,
    writable: bool,
}

impl SimFile {
    /// As [`SimVfs::enter`], for a call that modifies the file.
    fn enter_writable(&self) -> io::Result<MutexGuard<'_, Machine>> {
        let state = self.vfs.enter(false)?;
        if !self.writable {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "file opened read-only",
            ));
        }
        Ok(state)
    }
}

impl StorageFile for SimFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let mut state = self.vfs.enter(false)?;
        let current = &state.inode(self.inode)?.current;
        let start = to_index(offset)?;
        let end = start
            .checked_add(buf.len())
            .ok_or(io::ErrorKind::UnexpectedEof)?;
        buf.copy_from_slice(
            current
                .get(start..end)
                .ok_or(io::ErrorKind::UnexpectedEof)?,
        );
        Ok(())
    }

    fn write_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        let mut state = self.enter_writable()?;
        if buf.is_empty() {
            return Ok(());
        }
        let end = offset.checked_add(buf.len() as u64);
        let end = to_index(end.ok_or(io::ErrorKind::FileTooLarge)?)?;
        let offset = end - buf.len();
        let ino = state.grow(self.inode, end)?;
        write_bytes(&mut ino.current, offset, buf);
        ino.pending.push(PendingOp::Write {
            offset,
            data: buf.to_vec(),
        });
        Ok(())
    }

    fn sync_data(&self) -> io::Result<()> {
        let mut state = self.vfs.machine.lock();
        let admitted = state.admit(true);
        if let Err(Refusal::Fail(_)) = admitted {
            // As Linux does: the dirty pages are marked clean, and lost.
            state.inode(self.inode)?.pending.clear();
        }
        admitted?;
        let ino = state.inode(self.inode)?;
        for op in std::mem::take(&mut ino.pending) {
            apply(&mut ino.durable, &op);
        }
        Ok(())
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        let mut state = self.enter_writable()?;
        let len = to_index(len)?;
        let ino = state.grow(self.inode, len)?;
        ino.current.resize(len, 0);
        ino.pending.push(PendingOp::SetLen(len));
        Ok(())
    }

    fn len(&self) -> io::Result<u64> {
        Ok(self.vfs.enter(false)?.inode(self.inode)?.current.len() as u64)
    }

    fn try_lock_exclusive(&self) -> io::Result<bool> {
        let mut state = self.vfs.enter(false)?;
        let ino = state.inode(self.inode)?;
        if ino.lock_holder.is_some_and(|holder| holder != self.handle) {
            return Ok(false);
        }
        ino.lock_holder = Some(self.handle);
        Ok(true)
    }

    fn file_id(&self) -> io::Result<FileId> {
        drop(self.vfs.enter(false)?);
        Ok(FileId::new(0, self.inode))
    }
}

impl Drop for SimFile {
    fn drop(&mut self) {
        let mut state = self.vfs.machine.lock();
        if let Some(ino) = state.inodes.get_mut(&self.inode) {
            ino.handles = ino.handles.saturating_sub(1);
            if ino.lock_holder == Some(self.handle) {
                ino.lock_holder = None;
            }
        }
        state.collect_garbage();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> &Path {
        Path::new(s)
    }

    /// Opens a new file at `path` and makes its name durable.
    fn created(vfs: &SimVfs, path: &str) -> Box<dyn StorageFile> {
        let f = vfs.open(p(path), OpenMode::CreateNew).unwrap();
        vfs.sync_dir(p(path).parent().unwrap()).unwrap();
        f
    }

    fn image(vfs: &SimVfs, mode: CrashMode, path: &str) -> Option<Vec<u8>> {
        vfs.snapshot_durable_image(mode).read_file(p(path))
    }

    fn plan(f: impl FnOnce(&mut FaultPlan)) -> FaultPlan {
        let mut plan = FaultPlan::default();
        f(&mut plan);
        plan
    }

    #[test]
    fn unsynced_writes_are_read_back_but_not_durable() {
        let vfs = SimVfs::new(1);
        let f = created(&vfs, "/d/f");
        f.write_at(b"hello", 0).unwrap();
        f.sync_data().unwrap();
        f.write_at(b"world", 5).unwrap();
        let mut buf = [0; 10];
        f.read_at(&mut buf, 0).unwrap();
        assert_eq!(&buf, b"helloworld");
        assert_eq!(
            image(&vfs, CrashMode::KeepAll, "/d/f").unwrap(),
            b"helloworld"
        );
        assert!(!vfs.is_crashed());

        let after = vfs.crash(CrashMode::DropAll);
        assert_eq!(after.read_file(p("/d/f")).unwrap(), b"hello");
        assert!(vfs.is_crashed());
        assert_eq!(
            f.read_at(&mut buf, 0).unwrap_err().to_string(),
            "simulated crash"
        );
        // The image is a working file system with counters of its own.
        let g = after.open(p("/d/f"), OpenMode::Existing).unwrap();
        assert_eq!(g.len().unwrap(), 5);
        assert_eq!((after.calls(), after.syncs()), (2, 0));
    }

    /// A durable 2048-byte file of 0xAA under a pending write of 0xBB over
    /// bytes 256..1792: four sectors, the first and last touched in part.
    fn torn_setup(seed: u64) -> (SimVfs, Box<dyn StorageFile>) {
        let vfs = SimVfs::new(seed);
        vfs.write_file(p("/d/f"), &[0xAA; 2048]);
        let f = vfs.open(p("/d/f"), OpenMode::Existing).unwrap();
        f.write_at(&[0xBB; 1536], 256).unwrap();
        (vfs, f)
    }

    #[test]
    fn random_crash_tears_writes_at_sector_granularity() {
        let (vfs, _f) = torn_setup(7);
        let (mut kept, mut dropped, mut garbage, mut mixed) = (0, 0, 0, 0);
        for _ in 0..64 {
            let bytes = image(&vfs, CrashMode::Random, "/d/f").unwrap();
            assert_eq!(bytes.len(), 2048);
            assert!(
                bytes[..256]
                    .iter()
                    .chain(&bytes[1792..])
                    .all(|&b| b == 0xAA)
            );
            let mut kinds = BTreeSet::new();
            for (start, end) in [(256, 512), (512, 1024), (1024, 1536), (1536, 1792)] {
                let piece = &bytes[start..end];
                if piece.iter().all(|&b| b == 0xBB) {
                    kept += 1;
                    kinds.insert("kept");
                } else if piece.iter().all(|&b| b == 0xAA) {
                    dropped += 1;
                    kinds.insert("dropped");
                } else {
                    // Random bytes, not old and new data torn mid-sector.
                    let known = piece.iter().filter(|&&b| b == 0xAA || b == 0xBB).count();
                    assert!(known * 8 < piece.len(), "{start}..{end} is a blend");
                    garbage += 1;
                }
            }
            mixed += usize::from(kinds.len() == 2);
        }
        // Of 256 pieces, about 128 kept, 64 dropped and 64 garbage.
        assert!((90..170).contains(&kept), "kept {kept}");
        assert!((35..100).contains(&dropped), "dropped {dropped}");
        assert!((35..100).contains(&garbage), "garbage {garbage}");
        assert!(mixed > 10, "mixed {mixed}");
    }

    #[test]
    fn random_crash_images_are_deterministic_per_seed() {
        let sample = |seed| {
            let (vfs, _f) = torn_setup(seed);
            (0..8)
                .map(|_| image(&vfs, CrashMode::Random, "/d/f"))
                .collect::<Vec<_>>()
        };
        let a = sample(42);
        assert_eq!(a, sample(42));
        assert_ne!(a, sample(43));
        assert!(
            a.iter().any(|bytes| *bytes != a[0]),
            "repeated images all alike"
        );
    }

    #[test]
    fn failed_sync_loses_the_dirty_data() {
        let vfs = SimVfs::new(3);
        vfs.write_file(p("/d/f"), b"old!");
        let f = vfs.open(p("/d/f"), OpenMode::Existing).unwrap();
        f.write_at(b"new", 0).unwrap();
        let n = vfs.calls();
        vfs.set_faults(plan(|f| f.fail_call = Some(n)));
        let err = f.sync_data().unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("simulated I/O failure at call {n}")
        );
        assert_eq!(vfs.read_file(p("/d/f")).unwrap(), b"new!");
        f.write_at(b"?", 3).unwrap();
        f.sync_data().unwrap();
        // The lost write never becomes durable; the later one does.
        let after = vfs.crash(CrashMode::KeepAll);
        assert_eq!(after.read_file(p("/d/f")).unwrap(), b"old?");
    }

    #[test]
    fn crash_at_sync_freezes_the_machine() {
        let vfs = SimVfs::new(4);
        let f = created(&vfs, "/d/f");
        vfs.set_faults(plan(|f| f.crash_at_sync = Some(2)));
        f.write_at(b"AA", 0).unwrap();
        f.sync_data().unwrap();
        f.write_at(b"BB", 2).unwrap();
        assert_eq!(f.sync_data().unwrap_err().to_string(), "simulated crash");
        assert!(vfs.is_crashed());
        let calls = vfs.calls();
        assert!(f.write_at(b"CC", 4).is_err());
        assert!(f.len().is_err());
        assert!(vfs.open(p("/d/g"), OpenMode::CreateNew).is_err());
        assert!(vfs.exists(p("/d/f")).is_err());
        assert_eq!(vfs.calls(), calls);
        // Every image comes from the moment of the crash.
        assert_eq!(image(&vfs, CrashMode::KeepAll, "/d/f").unwrap(), b"AABB");
        let after = vfs.crash(CrashMode::DropAll);
        assert_eq!(after.read_file(p("/d/f")).unwrap(), b"AA");
        assert_eq!(after.list_files(), [PathBuf::from("/d/f")]);
    }

    #[test]
    fn crash_at_call_fails_that_call_and_all_later_ones() {
        let vfs = SimVfs::new(5);
        let f = created(&vfs, "/d/f");
        let n = vfs.calls();
        vfs.set_faults(plan(|f| f.crash_at_call = Some(n + 1)));
        f.write_at(b"one", 0).unwrap();
        assert!(f.write_at(b"two", 3).is_err());
        assert!(f.write_at(b"three", 6).is_err());
        assert_eq!(image(&vfs, CrashMode::KeepAll, "/d/f").unwrap(), b"one");
    }

    #[test]
    fn a_created_file_is_durable_only_after_sync_dir() {
        let vfs = SimVfs::new(6);
        let f = vfs.open(p("/d/f"), OpenMode::CreateNew).unwrap();
        f.write_at(b"data", 0).unwrap();
        f.sync_data().unwrap();
        assert!(vfs.exists(p("/d/f")).unwrap());
        assert!(
            vfs.snapshot_durable_image(CrashMode::DropAll)
                .list_files()
                .is_empty()
        );
        vfs.sync_dir(p("/e")).unwrap();
        assert_eq!(image(&vfs, CrashMode::DropAll, "/d/f"), None);
        vfs.sync_dir(p("/d")).unwrap();
        assert_eq!(image(&vfs, CrashMode::DropAll, "/d/f").unwrap(), b"data");
    }

    #[test]
    fn rename_and_remove_are_durable_after_sync_dir() {
        let vfs = SimVfs::new(8);
        vfs.write_file(p("/d/db"), b"old");
        let tmp = created(&vfs, "/d/tmp");
        tmp.write_at(b"new", 0).unwrap();
        tmp.sync_data().unwrap();
        vfs.rename(p("/d/tmp"), p("/d/db")).unwrap();
        assert_eq!(vfs.list_files(), [PathBuf::from("/d/db")]);
        assert_eq!(vfs.read_file(p("/d/db")).unwrap(), b"new");

        assert_eq!(image(&vfs, CrashMode::DropAll, "/d/db").unwrap(), b"old");
        assert_eq!(image(&vfs, CrashMode::DropAll, "/d/tmp").unwrap(), b"new");
        let kept = vfs.snapshot_durable_image(CrashMode::KeepAll);
        assert_eq!(kept.list_files(), [PathBuf::from("/d/db")]);
        assert_eq!(kept.read_file(p("/d/db")).unwrap(), b"new");

        vfs.sync_dir(p("/d")).unwrap();
        let synced = vfs.snapshot_durable_image(CrashMode::DropAll);
        assert_eq!(synced.list_files(), [PathBuf::from("/d/db")]);
        assert_eq!(synced.read_file(p("/d/db")).unwrap(), b"new");

        vfs.remove(p("/d/db")).unwrap();
        assert!(image(&vfs, CrashMode::DropAll, "/d/db").is_some());
        vfs.sync_dir(p("/d")).unwrap();
        assert!(
            vfs.snapshot_durable_image(CrashMode::DropAll)
                .list_files()
                .is_empty()
        );
    }

    #[test]
    fn random_crash_keeps_a_prefix_of_directory_ops() {
        let vfs = SimVfs::new(9);
        let names = ["/d/a", "/d/b", "/d/c"].map(PathBuf::from);
        for name in &names {
            vfs.open(name, OpenMode::CreateNew).unwrap();
        }
        let mut seen = BTreeSet::new();
        for _ in 0..40 {
            let files = vfs.snapshot_durable_image(CrashMode::Random).list_files();
            assert_eq!(files, names[..files.len()], "not a prefix of the ops");
            seen.insert(files.len());
        }
        assert_eq!(seen.len(), 4);
    }

    #[test]
    fn locks_are_exclusive_and_released_on_drop() {
        let vfs = SimVfs::new(10);
        let a = created(&vfs, "/d/f");
        let b = vfs.open(p("/d/f"), OpenMode::Existing).unwrap();
        let other = created(&vfs, "/d/g");
        assert!(a.try_lock_exclusive().unwrap());
        assert!(a.try_lock_exclusive().unwrap());
        assert!(!b.try_lock_exclusive().unwrap());
        assert!(other.try_lock_exclusive().unwrap());
        drop(a);
        assert!(b.try_lock_exclusive().unwrap());
        let c = vfs.open(p("/d/f"), OpenMode::ReadOnly).unwrap();
        assert!(!c.try_lock_exclusive().unwrap());
    }

    #[test]
    fn disk_limit_gives_storage_full_and_writes_nothing() {
        let vfs = SimVfs::new(11);
        vfs.set_faults(plan(|f| f.disk_limit = Some(1000)));
        let (f, g) = (created(&vfs, "/d/f"), created(&vfs, "/d/g"));
        f.write_at(&[1; 600], 0).unwrap();
        let err = g.write_at(&[2; 500], 0).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::StorageFull);
        assert_eq!(g.len().unwrap(), 0);
        g.write_at(&[2; 400], 0).unwrap();
        f.write_at(&[3; 600], 0).unwrap();
        assert_eq!(
            f.set_len(601).unwrap_err().kind(),
            io::ErrorKind::StorageFull
        );
        assert_eq!(vfs.read_file(p("/d/f")).unwrap(), [3; 600]);
        // A removed file's space is freed once its last handle closes.
        vfs.remove(p("/d/g")).unwrap();
        assert!(f.set_len(601).is_err());
        drop(g);
        f.set_len(1000).unwrap();
    }

    #[test]
    fn fail_call_fails_exactly_one_call_and_fail_from_all_later() {
        let vfs = SimVfs::new(12);
        let f = created(&vfs, "/d/f");
        let n = vfs.calls();
        vfs.set_faults(plan(|f| f.fail_call = Some(n)));
        let err = f.write_at(b"lost", 0).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("simulated I/O failure at call {n}")
        );
        assert_eq!(f.len().unwrap(), 0);
        f.write_at(b"kept", 0).unwrap();
        assert_eq!(vfs.read_file(p("/d/f")).unwrap(), b"kept");
        assert_eq!(vfs.calls(), n + 3);

        vfs.set_faults(plan(|f| f.fail_from = Some(n + 4)));
        f.write_at(b"K", 0).unwrap();
        assert!(f.write_at(b"L", 1).is_err());
        assert!(f.is_empty().is_err());
        assert!(vfs.exists(p("/d/f")).is_err());
        assert_eq!(vfs.read_file(p("/d/f")).unwrap(), b"Kept");
        assert_eq!(
            (vfs.calls(), vfs.syncs(), vfs.is_crashed()),
            (n + 7, 1, false)
        );
    }

    #[test]
    fn open_modes_permissions_and_eof() {
        let vfs = SimVfs::new(14);
        let kind = |r: io::Result<Box<dyn StorageFile>>| r.unwrap_err().kind();
        assert_eq!(
            kind(vfs.open(p("/d/f"), OpenMode::Existing)),
            io::ErrorKind::NotFound
        );
        assert_eq!(
            kind(vfs.open(p("/d/f"), OpenMode::ReadOnly)),
            io::ErrorKind::NotFound
        );
        vfs.write_file(p("/d/f"), b"durable");
        assert_eq!(
            kind(vfs.open(p("/d/f"), OpenMode::CreateNew)),
            io::ErrorKind::AlreadyExists
        );

        assert!(vfs.set_read_only(p("/d/f"), true));
        for mode in [OpenMode::Existing, OpenMode::CreateTruncate] {
            assert_eq!(
                kind(vfs.open(p("/d/f"), mode)),
                io::ErrorKind::PermissionDenied
            );
        }
        let r = vfs.open(p("/d/f"), OpenMode::ReadOnly).unwrap();
        assert!(vfs.set_read_only(p("/d/f"), false));
        assert!(!vfs.set_read_only(p("/d/none"), true));
        assert_eq!(
            r.write_at(b"x", 0).unwrap_err().kind(),
            io::ErrorKind::PermissionDenied
        );
        assert_eq!(
            r.set_len(0).unwrap_err().kind(),
            io::ErrorKind::PermissionDenied
        );
        let mut buf = [0; 4];
        assert_eq!(
            r.read_at(&mut buf, 4).unwrap_err().kind(),
            io::ErrorKind::UnexpectedEof
        );
        r.read_at(&mut buf, 3).unwrap();
        assert_eq!(&buf, b"able");

        let t = vfs.open(p("/d/f"), OpenMode::CreateTruncate).unwrap();
        assert!(t.is_empty().unwrap());
        let too_large = io::ErrorKind::FileTooLarge;
        assert_eq!(t.write_at(b"x", u64::MAX).unwrap_err().kind(), too_large);
        assert_eq!(t.set_len(u64::MAX).unwrap_err().kind(), too_large);
        t.write_at(b"z", 3).unwrap();
        assert_eq!(vfs.read_file(p("/d/f")).unwrap(), b"\0\0\0z");
        assert_eq!(
            (vfs.file_len(p("/d/f")), vfs.file_len(p("/d/g"))),
            (Some(4), None)
        );
        // The truncation is pending like any write.
        assert_eq!(image(&vfs, CrashMode::DropAll, "/d/f").unwrap(), b"durable");
        let mut saw_truncation = false;
        for _ in 0..20 {
            let bytes = image(&vfs, CrashMode::Random, "/d/f").unwrap();
            assert!([0, 4, 7].contains(&bytes.len()), "{bytes:?}");
            saw_truncation |= bytes.starts_with(b"\0\0\0");
        }
        assert!(saw_truncation);
    }

    #[test]
    fn rename_without_replacing_is_a_link_then_an_unlink() {
        let vfs = SimVfs::new(16);
        let tmp = created(&vfs, "/d/tmp");
        tmp.write_at(b"new", 0).unwrap();
        tmp.sync_data().unwrap();
        let id = tmp.file_id().unwrap();
        vfs.write_file(p("/d/taken"), b"old");
        let kind = vfs
            .rename_no_replace(p("/d/tmp"), p("/d/taken"))
            .unwrap_err()
            .kind();
        assert_eq!(kind, io::ErrorKind::AlreadyExists);
        assert_eq!(vfs.read_file(p("/d/taken")).unwrap(), b"old");
        vfs.rename_no_replace(p("/d/tmp"), p("/d/db")).unwrap();
        assert_eq!(vfs.file_id(p("/d/db")).unwrap(), id);
        assert_ne!(vfs.file_id(p("/d/taken")).unwrap(), id);
        assert_eq!(
            vfs.file_id(p("/d/tmp")).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
        let mut listed = vfs.read_dir(p("/d")).unwrap();
        listed.sort();
        assert_eq!(listed, [PathBuf::from("/d/db"), PathBuf::from("/d/taken")]);
        // A crash image holds a prefix of the link and the unlink: the new
        // name only with the old, or both, or the new alone.
        let mut seen = BTreeSet::new();
        for _ in 0..40 {
            let files = vfs.snapshot_durable_image(CrashMode::Random).list_files();
            assert!(files.contains(&PathBuf::from("/d/taken")));
            seen.insert((
                files.contains(&PathBuf::from("/d/tmp")),
                files.contains(&PathBuf::from("/d/db")),
            ));
        }
        assert_eq!(
            seen,
            [(true, false), (true, true), (false, true)]
                .into_iter()
                .collect()
        );
    }

    #[test]
    fn read_only_directories_and_special_files() {
        let vfs = SimVfs::new(17);
        vfs.write_file(p("/d/f"), b"x");
        vfs.set_dir_read_only(p("/d"), true);
        let kind = |r: io::Result<Box<dyn StorageFile>>| r.unwrap_err().kind();
        assert_eq!(
            kind(vfs.open(p("/d/g"), OpenMode::CreateNew)),
            io::ErrorKind::PermissionDenied
        );
        assert_eq!(
            vfs.remove(p("/d/f")).unwrap_err().kind(),
            io::ErrorKind::PermissionDenied
        );
        // Files in it keep their own mode.
        vfs.open(p("/d/f"), OpenMode::Existing).unwrap();
        vfs.set_dir_read_only(p("/d"), false);
        vfs.open(p("/d/g"), OpenMode::CreateNew).unwrap();

        vfs.make_special(p("/d/fifo"), "a FIFO");
        for mode in [OpenMode::ReadOnly, OpenMode::Existing] {
            let e = vfs.open(p("/d/fifo"), mode).unwrap_err();
            assert!(NotARegularFile::is(&e), "{e}");
            assert_eq!(e.to_string(), "/d/fifo: a FIFO, not a regular file");
        }
        let image = vfs.crash(CrashMode::DropAll);
        assert!(NotARegularFile::is(
            &image.open(p("/d/fifo"), OpenMode::ReadOnly).unwrap_err()
        ));
    }

    #[test]
    fn a_removed_file_stays_usable_through_its_handle() {
        let vfs = SimVfs::new(15);
        let f = created(&vfs, "/d/f");
        f.write_at(b"abc", 0).unwrap();
        vfs.remove(p("/d/f")).unwrap();
        assert!(!vfs.exists(p("/d/f")).unwrap());
        assert_eq!(f.len().unwrap(), 3);
        f.sync_data().unwrap();
        assert_eq!((vfs.calls(), vfs.syncs()), (7, 2));
        // The removal is not durable yet, so the synced bytes survive.
        assert_eq!(
            vfs.crash(CrashMode::DropAll).read_file(p("/d/f")).unwrap(),
            b"abc"
        );
    }
}
