//! Object stores on the machine a plan arrives at: the scheduler lists a raw-log table's
//! objects and the executors fetch them, each with its own credentials (AWS's chain on that
//! machine: environment, profile, instance or container role).
//!
//! In: a location's URL and the runtime of the session that decodes the plan. Out: the store
//! registered in that runtime, and its page-by-page listing for pruned listings. A bucket's
//! store is built once per process (finding credentials and the region takes requests) and
//! registered in every runtime that needs it (an executor makes one per task). Local paths
//! need nothing: the machines see the same paths (one machine, or a shared file system).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};

use datafusion::common::{DataFusionError, Result};
use datafusion::execution::runtime_env::RuntimeEnv;
use object_store::aws::AmazonS3;
use object_store::list::PaginatedListStore;

use crate::source::LogLocation;

/// The S3 stores this process has built, by bucket URL.
fn built() -> &'static Mutex<HashMap<String, Arc<AmazonS3>>> {
    static BUILT: OnceLock<Mutex<HashMap<String, Arc<AmazonS3>>>> = OnceLock::new();
    BUILT.get_or_init(Default::default)
}

/// Registers the store of `url` in `runtime` when it is on S3; its listing, if so.
pub fn register(runtime: &RuntimeEnv, url: &str) -> Result<Option<Arc<dyn PaginatedListStore>>> {
    if !url.starts_with("s3://") {
        return Ok(None);
    }
    let failed = |e: crate::error::Error| DataFusionError::External(e.into());
    let location = LogLocation::parse(url).map_err(failed)?;
    let bucket = location.store_url().as_str().to_string();
    let cached = built()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&bucket)
        .cloned();
    let store = match cached {
        Some(store) => store,
        None => {
            let Some(store) = block_on(location.s3_store())?.map_err(failed)? else {
                return Ok(None);
            };
            built()
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(bucket, Arc::clone(&store));
            store
        }
    };
    runtime.register_object_store(location.url.get_url(), Arc::clone(&store) as _);
    Ok(Some(store))
}

/// `future`'s output, from the synchronous code of a plan codec: on a multi-threaded runtime
/// (the roles' and the client's) without stopping its other tasks, else on a runtime of its
/// own.
fn block_on<F: Future>(future: F) -> Result<F::Output> {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            Ok(tokio::task::block_in_place(|| handle.block_on(future)))
        }
        Ok(_) => Err(DataFusionError::Execution(
            "an S3 location in a cluster's plan needs a multi-threaded runtime to reach its store"
                .into(),
        )),
        Err(_) => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            Ok(runtime.block_on(future))
        }
    }
}
