//! Change detection for mounted files: policy folders and certificate files.
//!
//! Kubernetes updates a mounted ConfigMap or Secret by writing a new timestamped folder
//! and renaming a `..data` symlink over the old one; the visible files are symlinks
//! through `..data`. A watch on a file sees none of that, so each path is watched
//! together with its parent folder, and the watches are made anew after every change
//! (a symlinked folder that was swapped is a different folder now). Bursts of events are
//! coalesced; a slow poll catches anything the events missed. The callback decides
//! whether anything really changed (by digest), so spurious wake-ups cost one read.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher};
use tokio::sync::mpsc;

/// Quiet time after the last event before the callback runs.
const SETTLE: Duration = Duration::from_millis(150);

/// Watches `paths` and runs `on_change` (on a blocking thread) after each settled burst of
/// changes and every `poll`. Runs until the runtime stops.
pub fn spawn(what: &'static str, paths: Vec<PathBuf>, poll: Duration, on_change: Arc<dyn Fn() + Send + Sync>) {
    tokio::spawn(async move {
        let (mut _watcher, mut events) = watch(what, &paths);
        loop {
            tokio::select! {
                _ = events.recv() => {}
                _ = tokio::time::sleep(poll) => {}
            }
            while let Ok(Some(())) = tokio::time::timeout(SETTLE, events.recv()).await {}
            // Watch again before reading, so that a change made while the callback reads
            // is seen by the next round.
            (_watcher, events) = watch(what, &paths);
            let callback = on_change.clone();
            if let Err(e) = tokio::task::spawn_blocking(move || callback()).await {
                tracing::error!(what, error = %e, "reload task failed");
            }
        }
    });
}

/// A watcher over each path (recursively) and its parent folder, and the channel it
/// signals. When watching fails (a path that does not exist yet), the poll remains.
fn watch(what: &'static str, paths: &[PathBuf]) -> (Option<notify::RecommendedWatcher>, mpsc::UnboundedReceiver<()>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let handler = move |event: notify::Result<notify::Event>| {
        // Reads (our own, too) are not changes.
        if let Ok(e) = event {
            if !matches!(e.kind, EventKind::Access(_)) {
                let _ = tx.send(());
            }
        }
    };
    let mut watcher = match notify::recommended_watcher(handler) {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(what, error = %e, "cannot watch files; polling only");
            return (None, rx);
        }
    };
    for path in paths {
        for (target, mode) in [(Some(path.as_path()), RecursiveMode::Recursive), (parent(path), RecursiveMode::NonRecursive)] {
            let Some(target) = target else { continue };
            if let Err(e) = watcher.watch(target, mode) {
                tracing::debug!(what, path = %target.display(), error = %e, "not watched");
            }
        }
    }
    (Some(watcher), rx)
}

fn parent(path: &Path) -> Option<&Path> {
    match path.parent() {
        Some(p) if p.as_os_str().is_empty() => Some(Path::new(".")),
        other => other,
    }
}
