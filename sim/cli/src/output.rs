//! Atomic output folders: a run writes into a hidden staging folder beside the final one and
//! renames it into place only when every file is complete. A failed run removes the staging
//! folder; Ctrl-C removes it too. An existing output folder is replaced only by a complete one.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use anyhow::{Context, Result};

static STAGING: OnceLock<Mutex<Option<PathBuf>>> = OnceLock::new();

fn registry() -> &'static Mutex<Option<PathBuf>> {
    STAGING.get_or_init(|| {
        let _ = ctrlc::set_handler(|| {
            if let Some(p) = registry().lock().ok().and_then(|g| g.clone()) {
                let _ = std::fs::remove_dir_all(p);
            }
            eprintln!("interrupted: no output written");
            std::process::exit(130);
        });
        Mutex::new(None)
    })
}

/// Remove `path` if the user interrupts (Ctrl-C) until [`forget`] is called.
pub fn remove_on_interrupt(path: &Path) {
    *registry().lock().expect("staging registry") = Some(path.to_path_buf());
}

/// Undo [`remove_on_interrupt`].
pub fn forget() {
    *registry().lock().expect("staging registry") = None;
}

/// A staging folder that becomes the output folder on [`Staging::commit`].
pub struct Staging {
    staging: PathBuf,
    target: PathBuf,
    committed: bool,
}

impl Staging {
    /// Create the staging folder for `target`.
    pub fn new(target: &Path) -> Result<Staging> {
        let parent = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
        let base = target
            .file_name()
            .and_then(|n| n.to_str())
            .context("the output folder needs a name")?;
        let staging = parent.join(format!(".{base}.partial-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&staging);
        std::fs::create_dir(&staging)
            .with_context(|| format!("cannot create {}", staging.display()))?;
        *registry().lock().expect("staging registry") = Some(staging.clone());
        Ok(Staging {
            staging,
            target: target.to_path_buf(),
            committed: false,
        })
    }

    /// Where to write.
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// Move the complete folder into place, replacing an older one.
    pub fn commit(mut self) -> Result<()> {
        let old = self.staging.with_file_name(format!(
            ".{}.old-{}",
            self.target
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("out"),
            std::process::id()
        ));
        let had_old = self.target.exists();
        if had_old {
            std::fs::rename(&self.target, &old)
                .with_context(|| format!("cannot move the old {} aside", self.target.display()))?;
        }
        std::fs::rename(&self.staging, &self.target)
            .with_context(|| format!("cannot move the output into {}", self.target.display()))?;
        *registry().lock().expect("staging registry") = None;
        self.committed = true;
        if had_old {
            let _ = std::fs::remove_dir_all(&old);
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.staging);
            if let Ok(mut g) = registry().lock() {
                *g = None;
            }
        }
    }
}
