//! Output folders: what ecsim may replace, and how it replaces it.
//!
//! * Every folder ecsim writes carries a small marker file, [`MARKER`] (`.ecsim`: the command,
//!   ecsim's version and, for sweeps, the sweep's fingerprint). `--out DIR` replaces only a folder
//!   with that marker, an empty folder, or nothing; anything else (a user's folder, a file, a
//!   link) is refused with an error naming it unless `--force` is given. Even with `--force`,
//!   ecsim never replaces `/`, the home folder, the current folder, a folder holding one of the
//!   command's input files, or a parent of any of these, nor a device or other special file.
//! * A run writes into a hidden staging folder `.NAME.partial-PID` beside the final one, which
//!   is put into place only when complete: on Linux by an atomic exchange of the two folders
//!   (`renameat2(RENAME_EXCHANGE)`), elsewhere by moving the old one aside, the new one in, and
//!   the old one back on any failure. A signal waits for a commit in progress to finish.
//! * SIGINT, SIGTERM and SIGHUP are handled alike: the handler (a thread waiting with
//!   `sigwait`, so it may take locks and touch files) removes what is unfinished, says what was
//!   left where, and exits with 128 + the signal's number (130, 143, 129).
//! * Staging folders of processes that are no longer alive (and carry the marker) are removed by
//!   the next command writing beside them.

use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use anyhow::{Context, Result, anyhow, bail};

/// The marker file of every folder ecsim writes.
pub const MARKER: &str = ".ecsim";

/// What a marker file says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    /// The command that wrote the folder (`run`, `compare`, `sweep`, `merge`, `report`).
    pub command: String,
    /// ecsim's version.
    pub version: String,
    /// A sweep's fingerprint (sweep and merge folders).
    pub fingerprint: Option<String>,
}

impl Marker {
    /// A marker for `command` written by this ecsim.
    pub fn new(command: &str, fingerprint: Option<String>) -> Marker {
        Marker {
            command: command.to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            fingerprint,
        }
    }

    fn text(&self) -> String {
        let mut s = format!(
            "# written by ecsim: this folder may be replaced by the next ecsim command writing here\ncommand = {}\nversion = {}\n",
            self.command, self.version
        );
        if let Some(f) = &self.fingerprint {
            s.push_str(&format!("fingerprint = {f}\n"));
        }
        s
    }

    /// Write the marker into `dir`.
    pub fn write(&self, dir: &Path) -> Result<()> {
        let p = dir.join(MARKER);
        std::fs::write(&p, self.text()).with_context(|| format!("cannot write {}", p.display()))
    }

    /// The marker of `dir`, if it has one (a regular file that parses).
    pub fn read(dir: &Path) -> Option<Marker> {
        let p = dir.join(MARKER);
        let meta = std::fs::symlink_metadata(&p).ok()?;
        if !meta.is_file() || meta.len() > 4096 {
            return None;
        }
        let text = std::fs::read_to_string(&p).ok()?;
        // Only ecsim's own file: its first line, a known command and a version.
        if !text.starts_with("# written by ecsim") {
            return None;
        }
        let mut m = Marker {
            command: String::new(),
            version: String::new(),
            fingerprint: None,
        };
        for line in text.lines() {
            let Some((k, v)) = line.split_once(" = ") else {
                continue;
            };
            match k.trim() {
                "command" => m.command = v.trim().to_string(),
                "version" => m.version = v.trim().to_string(),
                "fingerprint" => m.fingerprint = Some(v.trim().to_string()),
                _ => {}
            }
        }
        const COMMANDS: [&str; 5] = ["run", "compare", "sweep", "merge", "report"];
        (COMMANDS.contains(&m.command.as_str()) && !m.version.is_empty()).then_some(m)
    }
}

/// Whether `name` can be one folder name: a single normal path component, no control
/// characters. Variant and sweep names become folder names; anything else could point outside
/// the output folder.
pub fn check_folder_name(what: &str, name: &str) -> Result<()> {
    let mut parts = Path::new(name).components();
    let single = matches!(parts.next(), Some(Component::Normal(_))) && parts.next().is_none();
    if !single
        || name.contains(['/', '\\'])
        || name.chars().any(|c| c.is_control())
        || name.starts_with('.')
    {
        bail!(
            "{what} {name:?} cannot be used as a folder name: it must be one path component (no '/', '\\', leading '.' or control characters); use letters, digits, '-' and '_'"
        );
    }
    Ok(())
}

/// `p` made absolute without following a final symbolic link: its parent canonicalized (the
/// parent is created if missing) and its own name appended.
fn resolve(p: &Path) -> Result<PathBuf> {
    let name = match p.components().next_back() {
        Some(Component::Normal(n)) => n.to_os_string(),
        _ => bail!(
            "--out {}: the output folder needs a name (not '/', '.' or '..')",
            p.display()
        ),
    };
    let parent = p
        .parent()
        .filter(|x| !x.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    let parent = parent
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", parent.display()))?;
    Ok(parent.join(name))
}

/// Folders that are never replaced, with why: `/`, the home folder, the current folder and the
/// folders of the command's input files (and, by the caller's test, their parents).
fn protected(inputs: &[&Path]) -> Vec<(PathBuf, String)> {
    let mut out = vec![(PathBuf::from("/"), "the root folder".to_string())];
    if let Some(h) = std::env::var_os("HOME").and_then(|h| Path::new(&h).canonicalize().ok()) {
        out.push((h, "your home folder".into()));
    }
    if let Ok(c) = std::env::current_dir().and_then(|c| c.canonicalize()) {
        out.push((c, "the current folder".into()));
    }
    for i in inputs {
        if let Ok(c) = i.canonicalize() {
            let (dir, what) = if c.is_dir() {
                (c.clone(), format!("{}, an input", i.display()))
            } else {
                (
                    c.parent().unwrap_or(Path::new("/")).to_path_buf(),
                    format!("the folder of {}", i.display()),
                )
            };
            out.push((dir, what));
        }
    }
    out
}

/// Refuse to replace `target` unless ecsim wrote it (or it is empty or absent), or `force` is
/// given; never replace a protected folder (see the module doc) or a special file.
pub fn check_target(target: &Path, force: bool, inputs: &[&Path]) -> Result<()> {
    let resolved = resolve(target)?;
    let followed = resolved.canonicalize().unwrap_or_else(|_| resolved.clone());
    for i in inputs {
        let Ok(c) = i.canonicalize() else { continue };
        for r in [&resolved, &followed] {
            // The input itself, or anything inside an input folder (merge reads folders).
            if *r == c || (c.is_dir() && r.starts_with(&c)) {
                bail!(
                    "--out {}: refusing to replace it: it is {} or inside it, an input of this command; choose another output folder (--force does not change this)",
                    target.display(),
                    i.display()
                );
            }
        }
    }
    for (dir, what) in protected(inputs) {
        for r in [&resolved, &followed] {
            if dir.starts_with(r) {
                let rel = if dir == *r { "is" } else { "holds" };
                bail!(
                    "--out {}: refusing to replace it: it {rel} {what} ({}); choose another output folder (--force does not change this)",
                    target.display(),
                    dir.display()
                );
            }
        }
    }
    let meta = match std::fs::symlink_metadata(target) {
        Ok(m) => m,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(anyhow!("cannot inspect {}: {e}", target.display())),
    };
    let ft = meta.file_type();
    let hint = "ecsim replaces only folders it wrote (they hold a .ecsim file); choose another --out, or pass --force to replace it";
    if ft.is_symlink() {
        if force {
            return Ok(());
        }
        bail!(
            "--out {} is a symbolic link: not replacing it; {hint} (the link, not what it points to)",
            target.display()
        );
    }
    if ft.is_dir() {
        if Marker::read(target).is_some() || force {
            return Ok(());
        }
        let empty = std::fs::read_dir(target)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if empty {
            return Ok(());
        }
        bail!(
            "--out {} already exists and was not written by ecsim (it has no .ecsim file): not replacing it; {hint} and everything in it",
            target.display()
        );
    }
    if ft.is_file() {
        if force {
            return Ok(());
        }
        bail!(
            "--out {} is a file, not an output folder: not replacing it; {hint}",
            target.display()
        );
    }
    bail!(
        "--out {} is a device or other special file: ecsim never replaces it, even with --force",
        target.display()
    )
}

// ---------------------------------------------------------------------------------------------
// Signals and what to clean up.

/// Something unfinished to clean up if a signal arrives.
#[derive(Debug, Clone)]
pub enum Pending {
    /// A staging folder that would replace `target`.
    Staging {
        /// The staging folder.
        staging: PathBuf,
        /// The output folder it is for.
        target: PathBuf,
    },
    /// A report being staged in `stage` inside the output folder `dir`.
    Report {
        /// The staging folder.
        stage: PathBuf,
        /// The output folder.
        dir: PathBuf,
    },
    /// An output folder that is complete, and what is left to remove (the old output).
    Done {
        /// The folder.
        target: PathBuf,
        /// Paths to remove.
        leftovers: Vec<PathBuf>,
    },
    /// A sweep working in its output folder: finished runs stay, files in flight go.
    Sweep {
        /// `DIR/runs`.
        runs: PathBuf,
        /// The command that continues it.
        resume: String,
    },
}

static PENDING: Mutex<Vec<(u64, Pending)>> = Mutex::new(Vec::new());
static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn pending() -> MutexGuard<'static, Vec<(u64, Pending)>> {
    PENDING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Register `p` for cleanup on a signal until [`forget`] is called with the id returned.
pub fn on_signal_clean(p: Pending) -> u64 {
    let id = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    pending().push((id, p));
    id
}

/// Make what `p` names with `create` and register it for cleanup on a signal, both while
/// signals wait: a signal's cleanup holds the same lock until the process exits, so the folder
/// either exists and is registered (and the cleanup removes it), or is never made. (Registering
/// first and creating after let a signal between the two remove nothing, and the folder appear
/// after the cleanup said it was gone.)
pub fn on_signal_clean_creating<E>(
    p: Pending,
    create: impl FnOnce() -> std::result::Result<(), E>,
) -> std::result::Result<u64, E> {
    let mut list = pending();
    create()?;
    let id = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    list.push((id, p));
    Ok(id)
}

/// Undo [`on_signal_clean`] (a completed output stays known as complete, without leftovers).
pub fn forget(id: u64) {
    let mut list = pending();
    list.retain(|(i, p)| *i != id || matches!(p, Pending::Done { .. }));
    for (i, p) in list.iter_mut() {
        if let (true, Pending::Done { leftovers, .. }) = (*i == id, p) {
            leftovers.clear();
        }
    }
}

/// Run the commit `f` of the unfinished thing registered as `id` while signals wait. If it
/// succeeds, `id` becomes [`Pending::Done`] for `done`, with `leftovers` (where the old output
/// may be) still removed by a signal until [`forget`]; if `f` says both the old and the new
/// output are kept ([`Stranded`]), `id` is dropped (nothing is removed).
pub fn commit_locked<T>(
    id: u64,
    done: &Path,
    leftovers: Vec<PathBuf>,
    f: impl FnOnce() -> Result<T>,
) -> Result<T> {
    let mut list = pending();
    let r = f();
    match &r {
        Ok(_) => {
            for (i, p) in list.iter_mut() {
                if *i == id {
                    *p = Pending::Done {
                        target: done.to_path_buf(),
                        leftovers: leftovers.clone(),
                    };
                }
            }
        }
        Err(e) if e.downcast_ref::<Stranded>().is_some() => list.retain(|(i, _)| *i != id),
        Err(_) => {}
    }
    r
}

/// The error of a swap that failed half-way and could not be undone: the old output and the
/// new one are both kept where the message says.
#[derive(Debug)]
pub struct Stranded(pub String);

impl std::fmt::Display for Stranded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Stranded {}

/// The suffix of a temporary file or folder of this process.
pub fn partial_suffix() -> String {
    format!("partial-{}", std::process::id())
}

/// Remove what is registered, say what was left where, and exit with `code`, still holding the
/// lock: nothing registered or created under it after the cleanup looked can appear.
fn clean_up(signal: &str, code: i32) -> ! {
    let list = pending();
    if list.is_empty() {
        eprintln!("interrupted ({signal}): no output written");
    }
    for (_, p) in list.iter() {
        match p {
            Pending::Staging { staging, target } => {
                let removed = remove_retrying(staging);
                let old = if std::fs::symlink_metadata(target).is_ok() {
                    format!("{} is as it was", target.display())
                } else {
                    format!("no output written to {}", target.display())
                };
                if removed {
                    eprintln!("interrupted ({signal}): unfinished output removed; {old}");
                } else {
                    eprintln!(
                        "interrupted ({signal}): {old}; the unfinished output could not be removed and is left in {}",
                        staging.display()
                    );
                }
            }
            Pending::Report { stage, dir } => {
                remove_retrying(stage);
                eprintln!(
                    "interrupted ({signal}): unfinished report removed; the charts and report.html in {} are as they were",
                    dir.display()
                );
            }
            Pending::Done { target, leftovers } => {
                for l in leftovers {
                    remove_retrying(l);
                }
                eprintln!(
                    "interrupted ({signal}) after {} was complete",
                    target.display()
                );
            }
            Pending::Sweep { runs, resume } => {
                remove_own_partials(runs);
                eprintln!(
                    "interrupted ({signal}): the finished runs are kept in {}; `{resume}` does the rest",
                    runs.display()
                );
            }
        }
    }
    std::process::exit(code)
}

/// Remove `p` while other threads of this process may still be writing into it (they cannot
/// recreate the folder itself, only files in it): retry a few times.
fn remove_retrying(p: &Path) -> bool {
    for _ in 0..50 {
        if remove_any(p).is_ok() && std::fs::symlink_metadata(p).is_err() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    false
}

/// Remove this process's temporary files (`*.partial-PID`) in `dir`.
fn remove_own_partials(dir: &Path) {
    let suffix = format!(".{}", partial_suffix());
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.file_name().to_string_lossy().ends_with(&suffix) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// Handle SIGINT, SIGTERM and SIGHUP from now on; call first thing, before any thread starts
/// (the signals are blocked in every thread and taken by one waiting thread).
#[cfg(unix)]
pub fn handle_signals() {
    use nix::sys::signal::{SigSet, Signal};
    let mut set = SigSet::empty();
    for s in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        set.add(s);
    }
    if set.thread_block().is_err() {
        return;
    }
    std::thread::spawn(move || {
        loop {
            if let Ok(sig) = set.wait() {
                clean_up(sig.as_str(), 128 + sig as i32);
            }
        }
    });
}

/// Handle Ctrl-C from now on.
#[cfg(not(unix))]
pub fn handle_signals() {
    let _ = ctrlc::set_handler(|| clean_up("Ctrl-C", 130));
}

/// Whether a process id is alive (unknown counts as alive).
fn alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = i32::try_from(pid) else {
            return true;
        };
        !matches!(
            nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None),
            Err(nix::errno::Errno::ESRCH)
        )
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// The process id of a name `<prefix>partial-PID`, if it has that form.
fn partial_pid(name: &str, prefix: &str) -> Option<u32> {
    name.strip_prefix(prefix)?
        .strip_prefix("partial-")?
        .parse()
        .ok()
}

/// Remove staging folders `<prefix>partial-PID` in `dir` of processes no longer alive that
/// carry the marker.
pub fn clean_stale(dir: &Path, prefix: &str) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = partial_pid(&name, prefix) else {
            continue;
        };
        if pid == std::process::id() || alive(pid) || !e.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let p = e.path();
        if Marker::read(&p).is_some() && std::fs::remove_dir_all(&p).is_ok() {
            eprintln!(
                "note: removed {}, left by an ecsim process that ended",
                p.display()
            );
        }
    }
}

/// Remove temporary files `*.partial-PID` in `dir` (a folder ecsim wrote) of processes no
/// longer alive.
pub fn clean_stale_files(dir: &Path) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .rsplit_once(".partial-")
            .and_then(|(_, pid)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !alive(pid) && e.file_type().is_ok_and(|t| t.is_file()) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Remove a folder (with everything in it), a file or a link.
fn remove_any(p: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(p),
        Ok(_) => std::fs::remove_file(p),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------------------------------------
// The swap.

/// How a rename is done: `std::fs::rename`, or a failing one in tests.
pub type Rename<'a> = &'a dyn Fn(&Path, &Path) -> std::io::Result<()>;

/// Try the atomic exchange of `a` and `b` (both must exist). `Ok(false)`: not supported here.
fn exchange(a: &Path, b: &Path) -> std::io::Result<bool> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use nix::errno::Errno;
        use nix::fcntl::{AT_FDCWD, RenameFlags, renameat2};
        match renameat2(AT_FDCWD, a, AT_FDCWD, b, RenameFlags::RENAME_EXCHANGE) {
            Ok(()) => Ok(true),
            Err(Errno::EINVAL | Errno::ENOSYS | Errno::EOPNOTSUPP) => Ok(false),
            Err(e) => Err(std::io::Error::from(e)),
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        let _ = (a, b);
        Ok(false)
    }
}

/// Rename `a` to `b` unless `b` exists (atomically where the OS can).
fn rename_noreplace(a: &Path, b: &Path, rename: Rename<'_>) -> std::io::Result<()> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use nix::errno::Errno;
        use nix::fcntl::{AT_FDCWD, RenameFlags, renameat2};
        match renameat2(AT_FDCWD, a, AT_FDCWD, b, RenameFlags::RENAME_NOREPLACE) {
            Ok(()) => return Ok(()),
            Err(Errno::EINVAL | Errno::ENOSYS | Errno::EOPNOTSUPP) => {}
            Err(e) => return Err(std::io::Error::from(e)),
        }
    }
    if std::fs::symlink_metadata(b).is_ok() {
        return Err(std::io::Error::new(
            ErrorKind::AlreadyExists,
            format!("{} appeared meanwhile", b.display()),
        ));
    }
    rename(a, b)
}

/// Put the complete folder `new` at `target`, replacing what is there, so that `target` is at
/// every instant either the old or the new one. `aside` is a free name beside `target` for the
/// fallback without an atomic exchange. Returns where the old one now is (to be removed), if
/// there was one. On error nothing has changed, unless the message says otherwise.
pub fn swap_in(
    new: &Path,
    target: &Path,
    aside: &Path,
    use_exchange: bool,
    rename: Rename<'_>,
) -> Result<Option<PathBuf>> {
    if std::fs::symlink_metadata(target).is_err() {
        rename_noreplace(new, target, rename).with_context(|| {
            format!(
                "cannot move {} into {}; nothing was replaced",
                new.display(),
                target.display()
            )
        })?;
        return Ok(None);
    }
    if use_exchange {
        match exchange(new, target) {
            Ok(true) => return Ok(Some(new.to_path_buf())),
            Ok(false) => {}
            Err(e) => {
                return Err(anyhow!(
                    "cannot exchange {} with {}: {e}; {} is as it was",
                    new.display(),
                    target.display(),
                    target.display()
                ));
            }
        }
    }
    rename(target, aside).with_context(|| {
        format!(
            "cannot move the old {} aside; it is as it was",
            target.display()
        )
    })?;
    if let Err(e) = rename(new, target) {
        return match rename(aside, target) {
            Ok(()) => Err(anyhow!(
                "cannot move {} into {}: {e}; {} is as it was",
                new.display(),
                target.display(),
                target.display()
            )),
            Err(back) => Err(anyhow::Error::new(Stranded(format!(
                "cannot move {} into {}: {e}; and cannot put the old one back ({back}): the old output is in {}, the new one in {}",
                new.display(),
                target.display(),
                aside.display(),
                new.display()
            )))),
        };
    }
    Ok(Some(aside.to_path_buf()))
}

/// Remove the old output after a swap, warning (not failing) if it cannot be removed.
pub fn remove_old(old: Option<PathBuf>) {
    if let Some(old) = old
        && let Err(e) = remove_any(&old)
    {
        eprintln!(
            "warning: the new output is in place, but the old one could not be removed ({e}): it is left in {}",
            old.display()
        );
    }
}

/// A staging folder that becomes the output folder on [`Staging::commit`].
pub struct Staging {
    staging: PathBuf,
    target: PathBuf,
    id: u64,
    keep: bool,
    /// What `target` was when it was checked, to check again just before the commit.
    seen: Seen,
    force: bool,
}

/// The output folder as checked before the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    Absent,
    /// It existed: its device and inode (the same folder is still there at the commit).
    Present(u64, u64),
}

#[cfg(unix)]
fn seen(target: &Path) -> Seen {
    use std::os::unix::fs::MetadataExt;
    match std::fs::symlink_metadata(target) {
        Ok(m) => Seen::Present(m.dev(), m.ino()),
        Err(_) => Seen::Absent,
    }
}

#[cfg(not(unix))]
fn seen(target: &Path) -> Seen {
    match std::fs::symlink_metadata(target) {
        Ok(_) => Seen::Present(0, 0),
        Err(_) => Seen::Absent,
    }
}

/// A free staging name beside the target: `base`, or `base-N` if a folder ecsim did not mark
/// already has that name (never removed: it may be a user's old output left aside).
fn free_staging(base: PathBuf) -> PathBuf {
    let mut p = base.clone();
    for k in 1..1000 {
        match std::fs::symlink_metadata(&p) {
            Err(_) => return p,
            Ok(m) if m.is_dir() && Marker::read(&p).is_some() => {
                if remove_any(&p).is_ok() {
                    return p;
                }
            }
            Ok(_) => {}
        }
        p = PathBuf::from(format!("{}-{k}", base.display()));
    }
    p
}

impl Staging {
    /// Check that `target` may be replaced (see [`check_target`]), clean stale staging folders
    /// beside it and create its staging folder, marked with `marker`.
    pub fn new(target: &Path, marker: &Marker, force: bool, inputs: &[&Path]) -> Result<Staging> {
        check_target(target, force, inputs)?;
        let parent = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let base = target
            .file_name()
            .and_then(|n| n.to_str())
            .context("the output folder needs a name in UTF-8")?;
        let prefix = format!(".{base}.");
        clean_stale(parent, &prefix);
        let staging = free_staging(parent.join(format!("{prefix}{}", partial_suffix())));
        let seen = seen(target);
        let id = on_signal_clean_creating(
            Pending::Staging {
                staging: staging.clone(),
                target: target.to_path_buf(),
            },
            || std::fs::create_dir(&staging),
        )
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", staging.display()))?;
        let s = Staging {
            staging,
            target: target.to_path_buf(),
            id,
            keep: false,
            seen,
            force,
        };
        marker.write(&s.staging)?;
        Ok(s)
    }

    /// Where to write.
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// Move the complete folder into place, replacing an older one (a signal waits for this).
    pub fn commit(self) -> Result<()> {
        self.commit_with(true, &|a, b| std::fs::rename(a, b))
    }

    fn commit_with(mut self, use_exchange: bool, rename: Rename<'_>) -> Result<()> {
        let aside = self.staging.with_file_name(format!(
            ".{}.old-{}",
            self.target
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("out"),
            std::process::id()
        ));
        let (staging, target) = (self.staging.clone(), self.target.clone());
        let leftovers = vec![staging.clone(), aside.clone()];
        let (was, force) = (self.seen, self.force);
        let result = commit_locked(self.id, &target, leftovers, || {
            still_replaceable(&target, was, force, &staging)?;
            swap_in(&staging, &target, &aside, use_exchange, rename)
        });
        match &result {
            Ok(_) => self.keep = true,
            Err(e) if e.downcast_ref::<Stranded>().is_some() => self.keep = true,
            Err(e) if e.downcast_ref::<Changed>().is_some() => self.keep = true,
            Err(_) => {}
        }
        remove_old(result?);
        forget(self.id);
        Ok(())
    }
}

/// The output folder changed while ecsim ran: the new output stays in its staging folder.
#[derive(Debug)]
struct Changed(String);

impl std::fmt::Display for Changed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Changed {}

/// Check the output folder again just before the commit: something may have appeared there, or
/// been put there, while ecsim ran. Without `force` it must still be absent, marked by ecsim or
/// empty; with `force`, the same thing that was checked.
fn still_replaceable(target: &Path, was: Seen, force: bool, staging: &Path) -> Result<()> {
    let now = seen(target);
    let ok = if force {
        now == was || now == Seen::Absent
    } else {
        match std::fs::symlink_metadata(target) {
            Err(_) => true,
            Ok(m) if m.is_dir() => {
                Marker::read(target).is_some()
                    || std::fs::read_dir(target).is_ok_and(|mut d| d.next().is_none())
            }
            Ok(_) => false,
        }
    };
    if ok {
        return Ok(());
    }
    Err(anyhow::Error::new(Changed(format!(
        "{} changed while ecsim ran (something ecsim did not write is there now): not replacing it; the new output is in {}",
        target.display(),
        staging.display()
    ))))
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.keep {
            let _ = remove_any(&self.staging);
            forget(self.id);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Single files a command writes (`ecsim import -o FILE`).

/// Write `bytes` to the file `target`, replacing it only if ecsim wrote it (its first line
/// starts with `header`), or with `force`; never an input of the command, a folder, a link
/// (without `force`) or a special file. The file is written beside the target under a
/// temporary name `.NAME.partial-PID` and renamed into place, so `target` is at every instant
/// the old file or the complete new one.
pub fn write_owned_file(
    target: &Path,
    bytes: &[u8],
    header: &str,
    force: bool,
    inputs: &[&Path],
) -> Result<()> {
    let shown = target.display();
    let resolved = resolve(target)?;
    let followed = resolved.canonicalize().unwrap_or_else(|_| resolved.clone());
    for i in inputs {
        let Ok(c) = i.canonicalize() else { continue };
        if resolved == c || followed == c {
            bail!(
                "-o {shown}: refusing to replace it: it is {}, an input of this command (--force does not change this)",
                i.display()
            );
        }
    }
    match std::fs::symlink_metadata(target) {
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(anyhow!("cannot inspect {shown}: {e}")),
        Ok(m) => {
            let ft = m.file_type();
            let hint = "ecsim replaces only files it wrote; choose another -o, or pass --force to replace it";
            if ft.is_dir() {
                bail!("-o {shown} is a folder: give a file name");
            }
            if ft.is_symlink() {
                if !force {
                    bail!(
                        "-o {shown} is a symbolic link: not replacing it; {hint} (the link, not what it points to)"
                    );
                }
            } else if !ft.is_file() {
                bail!(
                    "-o {shown} is a device or other special file: ecsim never replaces it, even with --force"
                );
            } else if !force {
                let mut first = String::new();
                let ours = std::fs::File::open(target)
                    .and_then(|f| {
                        use std::io::{BufRead, BufReader, Read};
                        BufReader::new(f.take(4096)).read_line(&mut first)
                    })
                    .is_ok_and(|_| first.starts_with(header));
                if !ours {
                    bail!(
                        "-o {shown} already exists and was not written by ecsim: not replacing it; {hint}"
                    );
                }
            }
        }
    }
    let name = resolved
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let tmp = resolved.with_file_name(format!(".{name}.{}", partial_suffix()));
    let result = std::fs::write(&tmp, bytes)
        .map_err(|e| anyhow!("cannot write {}: {e}", tmp.display()))
        .and_then(|()| {
            std::fs::rename(&tmp, &resolved)
                .map_err(|e| anyhow!("cannot move {} into place: {e}", shown))
        });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ecsim-out-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn folder_names_are_single_components() {
        for ok in ["a", "web-1", "x_y", "a.b"] {
            assert!(check_folder_name("variant", ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            ".",
            "..",
            "../../x",
            "a/b",
            "/abs",
            "a\\b",
            "a\0b",
            "\u{1b}[2J",
            ".hidden",
        ] {
            let e = check_folder_name("variant", bad).unwrap_err().to_string();
            assert!(
                e.contains("cannot be used as a folder name"),
                "{bad:?}: {e}"
            );
        }
    }

    #[test]
    fn marker_round_trip() {
        let d = tmp("marker");
        assert_eq!(Marker::read(&d), None);
        let m = Marker::new("sweep", Some("abc".into()));
        m.write(&d).unwrap();
        assert_eq!(Marker::read(&d), Some(m));
        let _ = std::fs::remove_dir_all(d);
    }

    /// The fallback without an exchange: when moving the new folder in fails, the old one is put
    /// back; the error says so.
    #[test]
    fn fallback_swap_puts_the_old_folder_back_on_failure() {
        let d = tmp("fallback");
        let (new, target, aside) = (d.join("new"), d.join("out"), d.join("aside"));
        std::fs::create_dir(&new).unwrap();
        std::fs::write(new.join("f"), "new").unwrap();
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("f"), "old").unwrap();
        let calls = std::cell::Cell::new(0);
        let failing_second = |a: &Path, b: &Path| {
            calls.set(calls.get() + 1);
            if calls.get() == 2 {
                Err(std::io::Error::other("injected"))
            } else {
                std::fs::rename(a, b)
            }
        };
        let e = swap_in(&new, &target, &aside, false, &failing_second).unwrap_err();
        assert!(format!("{e:#}").contains("is as it was"), "{e:#}");
        assert_eq!(std::fs::read_to_string(target.join("f")).unwrap(), "old");
        assert!(!aside.exists());
        // Without failures the fallback swaps.
        let old = swap_in(&new, &target, &aside, false, &|a, b| std::fs::rename(a, b)).unwrap();
        assert_eq!(std::fs::read_to_string(target.join("f")).unwrap(), "new");
        assert_eq!(old.as_deref(), Some(aside.as_path()));
        let _ = std::fs::remove_dir_all(d);
    }

    /// The exchange (Linux): the new folder is in place and the old one where `new` was.
    #[test]
    fn exchange_swap_replaces_in_one_step() {
        let d = tmp("exchange");
        let (new, target, aside) = (d.join("new"), d.join("out"), d.join("aside"));
        std::fs::create_dir(&new).unwrap();
        std::fs::write(new.join("f"), "new").unwrap();
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("f"), "old").unwrap();
        let never = |_: &Path, _: &Path| Err(std::io::Error::other("must not be called"));
        match swap_in(&new, &target, &aside, true, &never) {
            Ok(old) => {
                assert_eq!(std::fs::read_to_string(target.join("f")).unwrap(), "new");
                assert_eq!(old.as_deref(), Some(new.as_path()));
                assert_eq!(std::fs::read_to_string(new.join("f")).unwrap(), "old");
            }
            // No exchange on this system or file system: the fallback was refused by `never`,
            // and nothing changed.
            Err(_) => assert_eq!(std::fs::read_to_string(target.join("f")).unwrap(), "old"),
        }
        let _ = std::fs::remove_dir_all(d);
    }

    #[test]
    fn a_folder_that_appears_during_the_run_is_not_replaced() {
        // Regression (review of issue 10): the target was checked only before the run.
        let d = tmp("appears");
        let target = d.join("out");
        let staging = d.join(".out.partial-1");
        std::fs::create_dir_all(&staging).unwrap();
        let was = seen(&target);
        assert!(still_replaceable(&target, was, false, &staging).is_ok());
        std::fs::create_dir_all(&target).unwrap();
        std::fs::write(target.join("notes.txt"), "mine").unwrap();
        let e = still_replaceable(&target, was, false, &staging).unwrap_err();
        assert!(e.to_string().contains("changed while ecsim ran"), "{e}");
        assert!(e.to_string().contains(".out.partial-1"), "{e}");
        // With --force, only the folder that was checked may be replaced.
        let e = still_replaceable(&target, was, true, &staging).unwrap_err();
        assert!(e.to_string().contains("changed while ecsim ran"), "{e}");
        let was = seen(&target);
        assert!(still_replaceable(&target, was, true, &staging).is_ok());
    }

    #[test]
    fn only_ecsims_own_marker_counts_and_unmarked_staging_names_are_kept() {
        // Regression (review of issue 10): any `.ecsim` file with a `command = ` line counted,
        // and a folder with this process's staging name was removed unchecked.
        let d = tmp("marker-strict");
        std::fs::write(d.join(".ecsim"), "command = make test\n").unwrap();
        assert!(Marker::read(&d).is_none());
        Marker::new("run", None).write(&d).unwrap();
        assert!(Marker::read(&d).is_some());
        let taken = d.join(".o.partial-7");
        std::fs::create_dir_all(&taken).unwrap();
        std::fs::write(taken.join("data.txt"), "precious").unwrap();
        let free = free_staging(taken.clone());
        assert_ne!(free, taken);
        assert!(taken.join("data.txt").exists());
    }
}
