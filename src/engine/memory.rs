//! How much memory a session may use, and where it spills.
//!
//! In: `--memory-limit` (or `S3TRAWL_MEMORY_LIMIT`, or a config's `memory_limit`), `--temp-dir`.
//! Out: the session's runtime: a fair spill pool (every sort, aggregation, join and window that
//! can spill shares it and spills to the temp folder before it runs out) and a disk manager
//! there. A query that needs more than the pool even after spilling ends with DataFusion's
//! "Resources exhausted" error, which the command line turns into one line and exit 2, rather
//! than the kernel killing the process.
//!
//! The limit is the process's budget, not the pool's: decoding buffers, batches in flight and
//! the allocator's slack are not counted by any pool, so the pool is [`POOL_SHARE`] of the
//! limit. Without a limit given, it is half of the machine's memory, or of what its cgroup
//! allows if that is less.

use std::path::PathBuf;
use std::sync::Arc;

use datafusion::error::{DataFusionError, Result};
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::memory_pool::{FairSpillPool, TrackConsumersPool};
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};

/// The share of the limit the query pool gets; the rest is for what no pool counts.
pub const POOL_SHARE: f64 = 0.7;

/// A session's memory settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Memory {
    /// The process's budget, in bytes.
    pub limit: u64,
    /// Where spills go (`None`: the system's temporary folder).
    pub temp_dir: Option<PathBuf>,
}

impl Default for Memory {
    fn default() -> Self {
        Memory {
            limit: default_limit(),
            temp_dir: None,
        }
    }
}

impl Memory {
    /// The query pool's size.
    pub fn pool(&self) -> usize {
        (self.limit as f64 * POOL_SHARE) as usize
    }

    /// A runtime with this budget's pool and spill folder.
    pub fn runtime(&self) -> Result<Arc<RuntimeEnv>> {
        let pool = TrackConsumersPool::new(
            FairSpillPool::new(self.pool()),
            std::num::NonZeroUsize::new(3).expect("3 is not 0"),
        );
        let disk = DiskManagerBuilder::default().with_mode(match &self.temp_dir {
            Some(dir) => DiskManagerMode::Directories(vec![dir.clone()]),
            None => DiskManagerMode::OsTmpDirectory,
        });
        Ok(Arc::new(
            RuntimeEnvBuilder::new()
                .with_memory_pool(Arc::new(pool))
                .with_disk_manager_builder(disk)
                .build()?,
        ))
    }
}

/// Half of the machine's memory, or of its cgroup's limit if that is less (8 GiB when neither
/// can be read).
pub fn default_limit() -> u64 {
    let physical = physical_memory();
    let cgroup = cgroup_limit();
    let available = match (physical, cgroup) {
        (Some(p), Some(c)) => p.min(c),
        (p, c) => p.or(c).unwrap_or(16 << 30),
    };
    available / 2
}

/// `MemTotal` of `/proc/meminfo`.
fn physical_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The memory limit of this process's cgroup (v2, else v1), if it has one.
fn cgroup_limit() -> Option<u64> {
    for path in [
        "/sys/fs/cgroup/memory.max",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
    ] {
        if let Ok(text) = std::fs::read_to_string(path) {
            let text = text.trim();
            // `max`, or v1's "no limit" (a number near 2^63).
            if let Ok(n) = text.parse::<u64>()
                && n < (1 << 60)
            {
                return Some(n);
            }
        }
    }
    None
}

/// Gives the memory freed so far back to the system. The binary keeps up to 256 MiB of freed
/// memory per allocator heap (see `main.rs`: it saves page faults while decoding); between the
/// queries of a detection run, what one query freed is not what the next needs, and a run's
/// peak would otherwise be the sum of every heap's leftovers.
pub fn give_back_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages of the allocator's heaps to the system.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The process's anonymous resident memory (heap, stacks, anonymous maps and shared memory),
/// in bytes (Linux; `None` elsewhere). Pages of mapped log files are left out: they are the
/// page cache's, clean, and the kernel takes them back under pressure rather than killing
/// anything, so a scan of a large plain object (read through `mmap`) is not over its budget.
pub fn resident() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib = |name: &str| -> Option<u64> {
        let line = text.lines().find(|l| l.starts_with(name))?;
        line[name.len()..].split_whitespace().next()?.parse().ok()
    };
    Some((kib("RssAnon:")? + kib("RssShmem:").unwrap_or(0)) * 1024)
}

/// The resident memory at which the watchdog tells the command to stop, and the one at which
/// it ends the process itself: `limit` and a margin for the process's own overhead.
pub fn ceilings(limit: u64) -> (u64, u64) {
    (
        limit + (limit / 10).max(128 << 20),
        limit + (limit / 5).max(256 << 20),
    )
}

/// Watches the process's resident memory every 10 ms from a thread of its own (so a thread
/// busy formatting or decoding cannot hold it up). Past the first of [`ceilings`] (after giving
/// freed memory back) it tells the command through the returned channel, so the command can
/// end cleanly; if the memory still grows past the second, or the command has not ended half a
/// second later, it prints `line` and ends the process with exit 2. Whatever no pool accounts
/// for is bounded this way: the kernel never has to kill the process.
pub fn watchdog(limit: u64, line: String) -> tokio::sync::oneshot::Receiver<()> {
    let (tell, told) = tokio::sync::oneshot::channel();
    let (soft, hard) = ceilings(limit);
    let spawned = std::thread::Builder::new()
        .name("s3trawl-memory".into())
        .stack_size(64 << 10)
        .spawn(move || {
            let mut tell = Some(tell);
            let mut told_at: Option<std::time::Instant> = None;
            loop {
                std::thread::sleep(std::time::Duration::from_millis(10));
                let Some(mut rss) = resident() else { return };
                if rss > soft {
                    give_back_freed_memory();
                    rss = resident().unwrap_or(rss);
                }
                if rss <= soft && told_at.is_none() {
                    continue;
                }
                if let Some(tell) = tell.take() {
                    told_at = Some(std::time::Instant::now());
                    if tell.send(()).is_err() {
                        return;
                    }
                    continue;
                }
                if rss > hard
                    || told_at.is_some_and(|t| t.elapsed() > std::time::Duration::from_millis(500))
                {
                    eprintln!("{line}");
                    // The command did not end in time: nothing it holds can be trusted to be
                    // dropped before the kernel acts, so the process ends here.
                    #[allow(clippy::disallowed_methods)]
                    std::process::exit(2);
                }
            }
        });
    if let Err(e) = spawned {
        eprintln!("s3trawl: cannot watch memory: {e}");
    }
    told
}

/// Whether `e` says a query ran out of its memory pool.
pub fn exhausted(e: &DataFusionError) -> bool {
    matches!(e.find_root(), DataFusionError::ResourcesExhausted(_))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_half_of_what_the_machine_allows() {
        let limit = default_limit();
        assert!(limit > 0);
        if let Some(p) = physical_memory() {
            assert!(limit <= p / 2);
        }
    }

    #[tokio::test]
    async fn a_query_over_the_pool_is_resources_exhausted_not_a_kill() {
        let memory = Memory {
            limit: 8 << 20,
            temp_dir: None,
        };
        let state = datafusion::execution::SessionStateBuilder::new()
            .with_default_features()
            .with_runtime_env(memory.runtime().unwrap())
            .build();
        let ctx = datafusion::prelude::SessionContext::new_with_state(state);
        // Aggregating a million distinct strings cannot fit in 5.6 MiB, nor spill by group.
        let e = ctx
            .sql("SELECT array_agg(repeat('x', 100) || v) FROM generate_series(1, 1000000) AS t(v)")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap_err();
        assert!(exhausted(&e), "{e}");
    }
}
