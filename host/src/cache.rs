//! The compiled-code cache: `Component::serialize()` output on disk, so a CLI run loads
//! native code (a few ms) instead of compiling the component (~100+ ms).
//!
//! The file name is keyed by the sha256 of the exact component bytes, the engine's
//! compatibility hash (wasmtime version, target triple, CPU features, compilation
//! settings) and the target triple: a different component or engine never finds a
//! stale file. Files are written atomically (temp file + rename) and never modified in
//! place. Any problem loading a file falls back to compiling and rewriting it.

use std::fs;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::{COMPONENT, COMPONENT_SHA256, HostError};

/// What happened with the compiled-code cache when a [`crate::Vetter`] was created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheStatus {
    /// No cache directory was configured: the component was compiled.
    Disabled,
    /// Loaded from the cache file.
    Hit(PathBuf),
    /// Not in the cache: compiled and written to the file.
    Written(PathBuf),
    /// The cache file could not be loaded (corrupt, truncated, incompatible): compiled
    /// and rewritten.
    Recovered(PathBuf),
    /// Compiled, but the cache file could not be written (the reason is kept).
    WriteFailed(PathBuf, String),
}

impl CacheStatus {
    /// The cache file, if a cache directory was configured.
    pub fn path(&self) -> Option<&Path> {
        match self {
            CacheStatus::Disabled => None,
            CacheStatus::Hit(p)
            | CacheStatus::Written(p)
            | CacheStatus::Recovered(p)
            | CacheStatus::WriteFailed(p, _) => Some(p),
        }
    }
}

/// The default cache directory: `$MICROVET_CACHE_DIR`, else `$XDG_CACHE_HOME/microvet`,
/// else `$HOME/.cache/microvet`.
pub fn default_cache_dir() -> Option<PathBuf> {
    let non_empty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = non_empty("MICROVET_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = non_empty("XDG_CACHE_HOME") {
        return Some(PathBuf::from(dir).join("microvet"));
    }
    non_empty("HOME").map(|home| PathBuf::from(home).join(".cache").join("microvet"))
}

/// The cache file name for `engine`: `microvet-<version>-<16 hex>.cwasm`.
pub(crate) fn file_name(engine: &Engine) -> String {
    /// Feeds `Hash` output into sha256 (deterministic, unlike `DefaultHasher` across
    /// Rust versions).
    struct ShaHasher(Sha256);
    impl Hasher for ShaHasher {
        fn finish(&self) -> u64 {
            0
        }
        fn write(&mut self, bytes: &[u8]) {
            self.0.update(bytes);
        }
    }
    let mut hasher = ShaHasher(Sha256::new());
    hasher.write(COMPONENT_SHA256.as_bytes());
    hasher.write(crate::TARGET_TRIPLE.as_bytes());
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let digest = hasher.0.finalize();
    let mut key = String::with_capacity(16);
    for b in digest.iter().take(8) {
        key.push_str(&format!("{b:02x}"));
    }
    format!("microvet-{}-{key}.cwasm", env!("CARGO_PKG_VERSION"))
}

/// Load the component from the cache in `dir`, or compile it and write the cache.
pub(crate) fn load_or_compile(
    engine: &Engine,
    dir: Option<&Path>,
) -> Result<(Component, CacheStatus), HostError> {
    let Some(dir) = dir else {
        return Ok((compile(engine)?, CacheStatus::Disabled));
    };
    let path = dir.join(file_name(engine));
    let mut recovering = false;
    if path.is_file() {
        match load(engine, &path) {
            Ok(component) => return Ok((component, CacheStatus::Hit(path))),
            // Corrupt, truncated, or from an incompatible engine: recompile below.
            Err(_) => recovering = true,
        }
    }
    let component = compile(engine)?;
    let status = match write(&component, dir, &path) {
        Ok(()) if recovering => CacheStatus::Recovered(path),
        Ok(()) => CacheStatus::Written(path),
        Err(e) => CacheStatus::WriteFailed(path, e),
    };
    Ok((component, status))
}

fn compile(engine: &Engine) -> Result<Component, HostError> {
    Component::new(engine, COMPONENT)
        .map_err(|e| HostError::setup("cannot compile the component", e))
}

/// Load a cache file written by [`write`].
///
/// The file is read into memory and deserialized from there (`Component::deserialize`),
/// not mapped with `Component::deserialize_file`: a mapped file that someone truncates
/// or rewrites in place while a long-running host still uses the component would kill
/// the process with SIGBUS. Reading ~1 MB costs well under a millisecond.
fn load(engine: &Engine, path: &Path) -> wasmtime::Result<Component> {
    let bytes = fs::read(path)?;
    deserialize(engine, &bytes)
}

/// The one `unsafe` block of the project.
#[allow(unsafe_code)]
fn deserialize(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Component> {
    // SAFETY: `Component::deserialize` runs the native code in `bytes`, so it must only
    // ever see output of `Component::serialize`. This is sound here because:
    // - the only files loaded are named by `file_name`, a hash of the exact component
    //   bytes embedded in this binary, the target triple and the engine's compatibility
    //   hash (wasmtime version, CPU features, compilation settings), and they are written
    //   only by `write` below from `Component::serialize` of those bytes;
    // - the cache directory is the user's own (created with mode 0700 on unix), so no
    //   other user can plant a file there (whoever can write there can already replace
    //   the `microvet` binary or its environment);
    // - files are written to a temp file and renamed into place, so a partial write is
    //   never seen; the bytes are copied out of the file before use, so later changes
    //   to the file cannot affect a loaded component;
    // - wasmtime itself checks the header, the wasmtime version and the engine
    //   configuration recorded in the bytes and refuses an incompatible or corrupt
    //   artifact (which we then treat as a cache miss).
    unsafe { Component::deserialize(engine, bytes) }
}

fn write(component: &Component, dir: &Path, path: &Path) -> Result<(), String> {
    let bytes = component.serialize().map_err(|e| e.to_string())?;
    create_private_dir(dir).map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
    let mut tmp = tempfile_in(dir).map_err(|e| format!("cannot create a temp file: {e}"))?;
    let result = (|| {
        tmp.file.write_all(&bytes)?;
        tmp.file.sync_all()?;
        fs::rename(&tmp.path, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp.path);
        return Err(format!("cannot write `{}`: {e}", path.display()));
    }
    Ok(())
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

struct TempFile {
    file: fs::File,
    path: PathBuf,
}

/// A new, exclusively created temp file in `dir` (same file system as the target, so
/// the rename is atomic).
fn tempfile_in(dir: &Path) -> std::io::Result<TempFile> {
    let pid = std::process::id();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mut last = None;
    for attempt in 0u32..16 {
        let path = dir.join(format!(".microvet-{pid}-{nanos:08x}-{attempt}.tmp"));
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(file) => return Ok(TempFile { file, path }),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free temp file name")))
}
