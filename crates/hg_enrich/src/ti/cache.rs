//! The disk cache of upstream results: one `redb` table keyed by provider, type and observable,
//! each value stamped with the time it was stored; a provider's TTL decides on read whether it
//! is still fresh. Only answers (status OK or NO_DATA) are stored, never failures.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redb::{Database, ReadableTableMetadata, TableDefinition};

use super::TiResult;

const RESULTS: TableDefinition<&str, &[u8]> = TableDefinition::new("ti_results_v1");

/// Why the cache failed.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The database could not be opened (another process holds it, or it is damaged).
    #[error("cannot open the TI cache {path}: {message}")]
    Open {
        /// The file.
        path: String,
        /// The cause.
        message: String,
    },
    /// A read or write failed.
    #[error("TI cache: {0}")]
    Database(String),
}

fn db_error(e: impl std::fmt::Display) -> CacheError {
    CacheError::Database(e.to_string())
}

/// The cache database.
pub struct TiCache {
    db: Database,
}

impl std::fmt::Debug for TiCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TiCache")
    }
}

fn key(provider: &str, ioc_type: &str, value: &str) -> String {
    format!("{provider}\u{1f}{ioc_type}\u{1f}{value}")
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A stored entry (8-byte little-endian write time, then the result as JSON) as a cached result,
/// if younger than `ttl`. An entry that no longer parses (written by another version) is a miss.
fn fresh_result(bytes: &[u8], now: u64, ttl: Duration) -> Option<TiResult> {
    let (stamp, json) = bytes.split_first_chunk::<8>()?;
    if now.saturating_sub(u64::from_le_bytes(*stamp)) >= ttl.as_secs() {
        return None;
    }
    let mut result = serde_json::from_slice::<TiResult>(json).ok()?;
    result.cached = true;
    Some(result)
}

impl TiCache {
    /// Opens (or creates) the cache file.
    pub fn open(path: &Path) -> Result<TiCache, CacheError> {
        let open_error = |message: String| CacheError::Open {
            path: path.display().to_string(),
            message,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| open_error(e.to_string()))?;
        }
        let db = Database::create(path).map_err(|e| open_error(e.to_string()))?;
        let txn = db.begin_write().map_err(|e| open_error(e.to_string()))?;
        txn.open_table(RESULTS)
            .map_err(|e| open_error(e.to_string()))?;
        txn.commit().map_err(|e| open_error(e.to_string()))?;
        Ok(TiCache { db })
    }

    /// The stored result of `provider` for (type, canonical value) if younger than `ttl`,
    /// marked `cached`.
    pub fn get(
        &self,
        provider: &str,
        ioc_type: &str,
        value: &str,
        ttl: Duration,
    ) -> Result<Option<TiResult>, CacheError> {
        Ok(self
            .get_many(provider, [(ioc_type, value)], ttl)?
            .pop()
            .flatten())
    }

    /// [`TiCache::get`] for many (type, canonical value) pairs of one provider, in one read
    /// transaction (a transaction per key was most of the cost of a cached look-up).
    pub fn get_many<'a>(
        &self,
        provider: &str,
        keys: impl IntoIterator<Item = (&'a str, &'a str)>,
        ttl: Duration,
    ) -> Result<Vec<Option<TiResult>>, CacheError> {
        let txn = self.db.begin_read().map_err(db_error)?;
        let table = txn.open_table(RESULTS).map_err(db_error)?;
        let now = now_secs();
        let mut found = Vec::new();
        for (ioc_type, value) in keys {
            let stored = table
                .get(key(provider, ioc_type, value).as_str())
                .map_err(db_error)?;
            found.push(stored.and_then(|stored| fresh_result(stored.value(), now, ttl)));
        }
        Ok(found)
    }

    /// Stores results in one transaction (keyed by their provider, type and `safe_ioc`).
    pub fn put_many<'a>(
        &self,
        results: impl IntoIterator<Item = &'a TiResult>,
    ) -> Result<usize, CacheError> {
        let stamp = now_secs().to_le_bytes();
        let txn = self.db.begin_write().map_err(db_error)?;
        let mut written = 0;
        {
            let mut table = txn.open_table(RESULTS).map_err(db_error)?;
            for result in results {
                let mut value = stamp.to_vec();
                let mut stored = result.clone();
                stored.cached = false;
                serde_json::to_writer(&mut value, &stored).map_err(db_error)?;
                table
                    .insert(
                        key(&result.provider, &result.ioc_type, &result.safe_ioc).as_str(),
                        value.as_slice(),
                    )
                    .map_err(db_error)?;
                written += 1;
            }
        }
        txn.commit().map_err(db_error)?;
        Ok(written)
    }

    /// Removes every entry older than `max_age`; returns how many.
    pub fn purge_older_than(&self, max_age: Duration) -> Result<usize, CacheError> {
        let cutoff = now_secs().saturating_sub(max_age.as_secs());
        let txn = self.db.begin_write().map_err(db_error)?;
        let removed;
        {
            let mut table = txn.open_table(RESULTS).map_err(db_error)?;
            let before = table.len().map_err(db_error)?;
            table
                .retain(|_, v| {
                    v.split_first_chunk::<8>()
                        .is_some_and(|(s, _)| u64::from_le_bytes(*s) >= cutoff)
                })
                .map_err(db_error)?;
            removed = before - table.len().map_err(db_error)?;
        }
        txn.commit().map_err(db_error)?;
        Ok(removed as usize)
    }
}
