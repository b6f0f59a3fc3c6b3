//! Output folders that never lie: every command that writes a folder (run, compare, and any
//! later one) writes into a fresh, uniquely named staging folder beside the target and then
//! puts it in place with one rename. So the target is always either the previous complete
//! output, or the new complete output — never a mix, never half-written.
//!
//! - A folder that exists and was not written by kafkasim (no marker file) is refused unless
//!   `--force`; an empty folder is taken (nothing in it can be lost).
//! - A previous kafkasim output is moved aside, and removed only after the new one is in place.
//! - A lock file beside the target (`.NAME.kafkasim-lock`, held with an OS file lock that dies
//!   with the process) keeps two writers of one target apart: the second waits.
//! - On any failure (or a panic) the staging folder is removed and the target is untouched;
//!   leftovers of a killed process (staging or swapped-out folders, all holding the marker) are
//!   swept by the next writer of the same target.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The marker file every kafkasim output folder holds.
pub const MARKER: &str = ".kafkasim-output";
const MARKER_TEXT: &str =
    "This folder was written by kafkasim. kafkasim replaces it whole when it writes here again.\n";

/// Why a folder cannot be written: `usage` errors (the user's choice of folder) exit 2.
#[derive(Debug)]
pub struct OutError {
    pub usage: bool,
    pub message: String,
}

fn usage(message: String) -> OutError {
    OutError { usage: true, message }
}

fn io_err(what: &str, path: &Path, e: io::Error) -> OutError {
    OutError { usage: false, message: format!("{what} {}: {e}", path.display()) }
}

/// A staging folder being filled for `target`. Dropped without `commit`, it is removed.
pub struct Staging {
    target: PathBuf,
    staging: PathBuf,
    _lock: fs::File,
    committed: bool,
}

/// A test hook: with KAFKASIM_TEST_PAUSE=<point>, the writer stops there so a test can kill it.
fn pause_point(name: &str) {
    if let Some(v) = std::env::var_os("KAFKASIM_TEST_PAUSE")
        && v == name
    {
        // Announce, then wait to be killed (a test hook; never set in normal use).
        eprintln!("kafkasim: paused at {name}");
        std::thread::sleep(std::time::Duration::from_secs(60));
    }
}

/// Whether `dir` is a folder kafkasim wrote (it holds our marker).
pub fn is_ours(dir: &Path) -> bool {
    fs::read_to_string(dir.join(MARKER)).is_ok_and(|t| t == MARKER_TEXT)
}

fn hidden_name(target: &Path, what: &str) -> String {
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    format!(".{name}.kafkasim-{what}")
}

/// Starts writing `target`: checks it may be replaced, takes its lock, sweeps a killed writer's
/// leftovers, and makes an empty staging folder (with the marker) to write into.
pub fn begin(target: &Path, force: bool) -> Result<Staging, OutError> {
    let shown = target.display().to_string();
    let abs = resolve(target, &shown)?;
    let parent = abs.parent().expect("resolve refuses the root");
    // A refused target is refused before anything is created beside it (no lock file, no folder).
    check_replaceable(&abs, &shown, force)?;
    fs::create_dir_all(parent).map_err(|e| io_err("cannot create the folder for", target, e))?;

    let lock_path = parent.join(hidden_name(&abs, "lock"));
    let lock_existed = fs::symlink_metadata(&lock_path).is_ok();
    let lock = take_lock(&lock_path, &shown)?;

    // Checked again under the lock: another process may have put something there meanwhile. A
    // lock file this call created goes with the refusal (one that was there stays: a waiting
    // writer may hold it open).
    if let Err(e) = check_replaceable(&abs, &shown, force) {
        if !lock_existed {
            let _ = fs::remove_file(&lock_path);
        }
        return Err(e);
    }
    sweep_leftovers(parent, &abs);
    make_staging(target, &abs, &shown, lock)
}

/// The absolute folder `target` names, refused if it is the root or holds the current folder.
fn resolve(target: &Path, shown: &str) -> Result<PathBuf, OutError> {
    let abs = std::path::absolute(target).map_err(|e| io_err("cannot resolve", target, e))?;
    // `.`/`..` components: judge the folder they name, not the spelling.
    let abs = match fs::canonicalize(&abs) {
        Ok(p) => p,
        Err(_) => match (abs.parent().and_then(|p| fs::canonicalize(p).ok()), abs.file_name()) {
            (Some(parent), Some(name)) => parent.join(name),
            _ => abs,
        },
    };
    let (Some(_), Some(_)) = (abs.parent(), abs.file_name()) else {
        return Err(usage(format!(
            "--out {shown}: kafkasim will not replace the root folder; name a folder for the outputs"
        )));
    };
    if let Ok(cwd) = std::env::current_dir().and_then(fs::canonicalize)
        && cwd.starts_with(&abs)
    {
        return Err(usage(format!(
            "--out {shown}: this folder holds the current folder; kafkasim replaces its output folder whole, so name a new folder such as output/run1"
        )));
    }
    Ok(abs)
}

/// Opens the target's lock file and locks it, waiting (and saying so) while another writer
/// holds it.
fn take_lock(lock_path: &Path, shown: &str) -> Result<fs::File, OutError> {
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(lock_path)
        .map_err(|e| io_err("cannot create the lock file", lock_path, e))?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => {
            eprintln!("kafkasim: another kafkasim is writing {shown}; waiting for it to finish");
            lock.lock().map_err(|e| io_err("cannot lock", lock_path, e))?;
        }
        Err(fs::TryLockError::Error(e)) => return Err(io_err("cannot lock", lock_path, e)),
    }
    Ok(lock)
}

/// A fresh staging folder beside the target, named by this process and a counter, with the
/// marker in it.
fn make_staging(target: &Path, abs: &Path, shown: &str, lock: fs::File) -> Result<Staging, OutError> {
    let parent = abs.parent().expect("resolve refuses the root");
    let pid = std::process::id();
    for n in 0..1000u32 {
        let staging = parent.join(format!("{}-{pid}-{n}", hidden_name(abs, "staging")));
        match fs::create_dir(&staging) {
            Ok(()) => {
                let s = Staging { target: abs.to_path_buf(), staging, _lock: lock, committed: false };
                fs::write(s.staging.join(MARKER), MARKER_TEXT)
                    .map_err(|e| io_err("cannot write in the folder beside", target, e))?;
                return Ok(s);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io_err("cannot create a folder beside", target, e)),
        }
    }
    Err(usage(format!("--out {shown}: cannot find a free staging name beside it")))
}

fn check_replaceable(abs: &Path, shown: &str, force: bool) -> Result<(), OutError> {
    let Ok(meta) = fs::symlink_metadata(abs) else { return Ok(()) };
    if force {
        return Ok(());
    }
    if !meta.is_dir() {
        return Err(usage(format!(
            "--out {shown} exists and is not a folder; kafkasim writes a folder there (pass --force to replace it)"
        )));
    }
    let empty = fs::read_dir(abs).map(|mut d| d.next().is_none()).unwrap_or(false);
    if !empty && !is_ours(abs) {
        return Err(usage(format!(
            "--out {shown} exists and was not written by kafkasim (it has no {MARKER} file); kafkasim replaces its output folder whole, so name a new folder or pass --force to replace it"
        )));
    }
    Ok(())
}

/// Removes staging and set-aside folders of this target left by a killed writer. Safe: we hold
/// the target's lock, so no live writer owns them, and only folders holding our marker go.
fn sweep_leftovers(parent: &Path, abs: &Path) {
    let prefixes = [hidden_name(abs, "staging-"), hidden_name(abs, "old-")];
    let Ok(entries) = fs::read_dir(parent) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if prefixes.iter().any(|p| name.starts_with(p.as_str())) && is_ours(&e.path()) {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

impl Staging {
    /// Where to write the files.
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// The folder the outputs end up in.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Puts the staging folder in place of the target with one rename. A previous output is
    /// swapped out atomically where the system can (Linux renameat2 RENAME_EXCHANGE), otherwise
    /// moved aside first; either way it is removed only once the new one is in place.
    pub fn commit(mut self) -> Result<(), OutError> {
        let parent = self.target.parent().expect("checked in begin").to_path_buf();
        pause_point("before-rename");
        let previous = if fs::symlink_metadata(&self.target).is_err() {
            fs::rename(&self.staging, &self.target).map_err(|e| io_err("cannot put in place", &self.target, e))?;
            None
        } else if exchange(&self.staging, &self.target).is_ok() {
            // The staging name now holds the previous output.
            Some(self.staging.clone())
        } else {
            let old = parent.join(format!("{}-{}", hidden_name(&self.target, "old"), std::process::id()));
            let _ = fs::remove_dir_all(&old);
            fs::rename(&self.target, &old).map_err(|e| io_err("cannot move aside the previous", &self.target, e))?;
            if let Err(e) = fs::rename(&self.staging, &self.target) {
                let _ = fs::rename(&old, &self.target);
                return Err(io_err("cannot put in place", &self.target, e));
            }
            Some(old)
        };
        self.committed = true;
        pause_point("after-rename");
        if let Some(old) = previous {
            let meta = fs::symlink_metadata(&old);
            let _ = if meta.is_ok_and(|m| m.is_dir()) { fs::remove_dir_all(&old) } else { fs::remove_file(&old) };
        }
        Ok(())
    }
}

/// Swaps two paths atomically.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let ca = CString::new(a.as_os_str().as_bytes())?;
    let cb = CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: two valid NUL-terminated paths; renameat2 only reads them.
    let r = unsafe { libc::renameat2(libc::AT_FDCWD, ca.as_ptr(), libc::AT_FDCWD, cb.as_ptr(), libc::RENAME_EXCHANGE) };
    if r == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> io::Result<()> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "no atomic exchange"))
}

impl Staging {
    /// A second scratch folder beside the target (for `--check-determinism`), removed when
    /// dropped; it shares this writer's lock.
    pub fn sibling(&self) -> Result<Staging, OutError> {
        let lock = self._lock.try_clone().map_err(|e| io_err("cannot share the lock of", &self.target, e))?;
        let mut n = 0u32;
        loop {
            let dir = PathBuf::from(format!("{}-scratch{n}", self.staging.display()));
            match fs::create_dir(&dir) {
                Ok(()) => {
                    let s = Staging { target: self.target.clone(), staging: dir, _lock: lock, committed: false };
                    fs::write(s.staging.join(MARKER), MARKER_TEXT)
                        .map_err(|e| io_err("cannot write in the folder beside", &self.target, e))?;
                    return Ok(s);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
                Err(e) => return Err(io_err("cannot create a folder beside", &self.target, e)),
            }
        }
    }
}

/// The first difference between two folders' files (names, then bytes), recursively; None when
/// they are byte-identical.
pub fn first_difference(a: &Path, b: &Path) -> io::Result<Option<String>> {
    fn listing(dir: &Path, base: &Path, out: &mut Vec<(PathBuf, Option<Vec<u8>>)>) -> io::Result<()> {
        let mut entries: Vec<_> = fs::read_dir(dir)?.collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let p = e.path();
            let rel = p.strip_prefix(base).unwrap_or(&p).to_path_buf();
            if e.file_type()?.is_dir() {
                out.push((rel, None));
                listing(&p, base, out)?;
            } else {
                out.push((rel, Some(fs::read(&p)?)));
            }
        }
        Ok(())
    }
    let (mut la, mut lb) = (Vec::new(), Vec::new());
    listing(a, a, &mut la)?;
    listing(b, b, &mut lb)?;
    for i in 0..la.len().max(lb.len()) {
        match (la.get(i), lb.get(i)) {
            (Some((na, ba)), Some((nb, bb))) if na == nb => {
                if ba != bb {
                    let at = match (ba, bb) {
                        (Some(x), Some(y)) => x.iter().zip(y).position(|(p, q)| p != q).unwrap_or(x.len().min(y.len())),
                        _ => 0,
                    };
                    return Ok(Some(format!("{} differs (first at byte {at})", na.display())));
                }
            }
            (Some((na, _)), _) => return Ok(Some(format!("{} is written by one run only", na.display()))),
            (None, Some((nb, _))) => return Ok(Some(format!("{} is written by one run only", nb.display()))),
            (None, None) => break,
        }
    }
    Ok(None)
}

#[cfg(test)]
#[test]
fn first_difference_finds_the_byte() {
    let d = std::env::temp_dir().join(format!("kafkasim-firstdiff-{}", std::process::id()));
    let (a, b) = (d.join("a"), d.join("b"));
    fs::create_dir_all(a.join("sub")).unwrap();
    fs::create_dir_all(b.join("sub")).unwrap();
    fs::write(a.join("sub/x"), "abcd").unwrap();
    fs::write(b.join("sub/x"), "abcd").unwrap();
    assert_eq!(first_difference(&a, &b).unwrap(), None);
    fs::write(b.join("sub/x"), "abXd").unwrap();
    assert_eq!(first_difference(&a, &b).unwrap().unwrap(), "sub/x differs (first at byte 2)");
    fs::remove_dir_all(&d).unwrap();
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("kafkasim-outdir-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> =
            fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
        v.sort();
        v
    }

    #[test]
    fn writes_replace_whole_and_leave_nothing_else() {
        let d = scratch("replace");
        let target = d.join("out");
        let s = begin(&target, false).unwrap();
        fs::write(s.path().join("a.txt"), "1").unwrap();
        s.commit().unwrap();
        let s = begin(&target, false).unwrap();
        fs::write(s.path().join("b.txt"), "2").unwrap();
        s.commit().unwrap();
        assert_eq!(names(&target), [MARKER, "b.txt"], "the previous output is replaced whole");
        assert_eq!(names(&d), [".out.kafkasim-lock", "out"]);
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn failures_leave_the_target_untouched() {
        let d = scratch("fail");
        let target = d.join("out");
        let s = begin(&target, false).unwrap();
        fs::write(s.path().join("a.txt"), "1").unwrap();
        s.commit().unwrap();
        let s = begin(&target, false).unwrap();
        fs::write(s.path().join("half.txt"), "x").unwrap();
        drop(s);
        assert_eq!(names(&target), [MARKER, "a.txt"]);
        assert_eq!(names(&d), [".out.kafkasim-lock", "out"], "the staging folder is removed");
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn foreign_folders_and_files_are_refused_without_force() {
        let d = scratch("foreign");
        let target = d.join("mine");
        fs::create_dir_all(&target).unwrap();
        fs::write(target.join("metrics.csv"), "precious").unwrap();
        let e = begin(&target, false).err().unwrap();
        assert!(e.usage && e.message.contains("not written by kafkasim") && e.message.contains("--force"), "{e:?}");
        assert_eq!(fs::read_to_string(target.join("metrics.csv")).unwrap(), "precious");
        let file = d.join("file");
        fs::write(&file, "x").unwrap();
        assert!(begin(&file, false).err().unwrap().message.contains("not a folder"));
        let s = begin(&target, true).unwrap();
        s.commit().unwrap();
        assert_eq!(names(&target), [MARKER]);
        assert!(begin(Path::new("/"), true).err().unwrap().message.contains("root"));
        assert!(begin(Path::new("."), true).err().unwrap().message.contains("current folder"));
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_killed_writers_leftovers_are_swept() {
        let d = scratch("sweep");
        let target = d.join("out");
        let left = d.join(".out.kafkasim-staging-999999-0");
        fs::create_dir_all(&left).unwrap();
        fs::write(left.join(MARKER), MARKER_TEXT).unwrap();
        let users = d.join(".out.kafkasim-staging-mine");
        fs::create_dir_all(&users).unwrap();
        begin(&target, false).unwrap().commit().unwrap();
        assert!(!left.exists());
        assert!(users.exists(), "a folder without our marker is never removed");
        fs::remove_dir_all(&d).unwrap();
    }
}
