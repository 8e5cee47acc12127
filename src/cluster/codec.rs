//! What Ballista's plan codecs cannot carry by name, carried by value: the detection functions
//! bound to a config ([`crate::detect::udf`]), in-memory tables (`window_rejects`, the
//! rejects a detection run found), raw-log tables (client to scheduler) and scans of log
//! objects (scheduler to executors; [`crate::engine::wire`]).
//!
//! In: plans the client, the scheduler and the executors send each other. Out: the same plans,
//! with those functions rebuilt from their config's settings, those tables from Arrow IPC, and
//! raw-log tables and scans from their descriptions, their object stores registered on the
//! machine that decodes them ([`super::stores`]). Everything else goes to Ballista's own codecs.
//! Every role is given these codecs (the client in its session config, the scheduler and the
//! executors in their process config).

use std::sync::Arc;

use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;
use arrow::record_batch::RecordBatch;
use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::TableProvider;
use datafusion::common::{DataFusionError, Result, TableReference};
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::datasource::physical_plan::FileScanConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Extension, LogicalPlan, ScalarUDF};
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::from_proto::{
    parse_protobuf_file_scan_config, parse_table_schema_from_proto,
};
use datafusion_proto::physical_plan::to_proto::serialize_file_scan_config;
use datafusion_proto::physical_plan::{
    PhysicalExtensionCodec, PhysicalPlanDecodeContext, PhysicalProtoConverterExtension,
};
use datafusion_proto::protobuf::FileScanExecConf;
use prost::Message;

use super::guard::{DataRoots, check_physical};
use super::stores;
use crate::detect::udf;
use crate::engine::table::RawLogTable;
use crate::engine::wire::{ScanWire, TableWire};

/// Marks a table provider this codec wrote (Ballista's own never starts so).
const MEMORY_TABLE: &[u8] = b"s3trawl:memtable:";
/// Marks a raw-log table.
const RAW_TABLE: &[u8] = b"s3trawl:rawlogs:";
/// Marks a scan of log objects.
const LOG_SCAN: &[u8] = b"s3trawl:logscan:";

fn external(message: String) -> DataFusionError {
    DataFusionError::External(message.into())
}

/// The logical codec of every role.
#[derive(Debug, Default)]
pub struct LogicalCodec {
    ballista: BallistaLogicalExtensionCodec,
    /// On the scheduler: the data roots a raw-log table's locations must be under, checked
    /// before its store is set up.
    roots: Option<Arc<DataRoots>>,
}

impl LogicalCodec {
    /// The codec of a role that reads only under `roots`.
    pub fn guarded(roots: Arc<DataRoots>) -> Self {
        LogicalCodec {
            roots: Some(roots),
            ..Self::default()
        }
    }
}

impl LogicalExtensionCodec for LogicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        ctx: &TaskContext,
    ) -> Result<Extension> {
        self.ballista.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        self.ballista.try_encode(node, buf)
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        if let Some(ipc) = buf.strip_prefix(MEMORY_TABLE) {
            let batches = StreamReader::try_new(ipc, None)?
                .collect::<std::result::Result<Vec<RecordBatch>, _>>()?;
            return Ok(Arc::new(MemTable::try_new(schema, vec![batches])?));
        }
        if let Some(json) = buf.strip_prefix(RAW_TABLE) {
            let wire: TableWire = serde_json::from_slice(json)
                .map_err(|e| external(format!("raw-log table {table_ref}: {e}")))?;
            let table = wire.table()?;
            if let Some(roots) = &self.roots {
                table
                    .urls()
                    .iter()
                    .try_for_each(|u| roots.check_location(u))?;
            }
            let mut lister = None;
            for url in wire.urls() {
                lister = lister.or(stores::register(ctx.runtime_env().as_ref(), url)?);
            }
            return Ok(Arc::new(table.listing_with(lister)));
        }
        self.ballista
            .try_decode_table_provider(buf, table_ref, schema, ctx)
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        if let Some(raw) = node.downcast_ref::<RawLogTable>() {
            buf.extend_from_slice(RAW_TABLE);
            serde_json::to_writer(&mut *buf, &TableWire::of(raw))
                .map_err(|e| external(format!("raw-log table {table_ref}: {e}")))?;
            return Ok(());
        }
        let Some(memory) = node.downcast_ref::<MemTable>() else {
            return self
                .ballista
                .try_encode_table_provider(table_ref, node, buf);
        };
        buf.extend_from_slice(MEMORY_TABLE);
        let mut writer = StreamWriter::try_new(&mut *buf, &memory.schema())?;
        for partition in &memory.batches {
            // Tables made in memory are not being written to while a plan is sent.
            let batches = partition.try_read().map_err(|_| {
                external(format!("in-memory table {table_ref} is being written to"))
            })?;
            for batch in batches.iter() {
                writer.write(batch)?;
            }
        }
        writer.finish()?;
        Ok(())
    }

    fn try_decode_file_format(
        &self,
        buf: &[u8],
        ctx: &TaskContext,
    ) -> Result<Arc<dyn FileFormatFactory>> {
        self.ballista.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(
        &self,
        buf: &mut Vec<u8>,
        node: Arc<dyn FileFormatFactory>,
    ) -> Result<()> {
        self.ballista.try_encode_file_format(buf, node)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        decode_udf(name, buf, || self.ballista.try_decode_udf(name, buf))
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        encode_udf(node, buf, |buf| self.ballista.try_encode_udf(node, buf))
    }
}

/// The physical codec of every role.
#[derive(Debug, Default)]
pub struct PhysicalCodec {
    ballista: BallistaPhysicalExtensionCodec,
    /// On the scheduler and the executors: the data roots every object of a log scan must be
    /// under, checked before its store is set up.
    roots: Option<Arc<DataRoots>>,
}

impl PhysicalCodec {
    /// The codec of a role that reads only under `roots`.
    pub fn guarded(roots: Arc<DataRoots>) -> Self {
        PhysicalCodec {
            roots: Some(roots),
            ..Self::default()
        }
    }
}

impl PhysicalExtensionCodec for PhysicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        match buf.strip_prefix(LOG_SCAN) {
            Some(scan) => self.decode_log_scan(scan, ctx, proto_converter),
            None => self.ballista.try_decode(buf, inputs, ctx, proto_converter),
        }
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        let scan = node
            .downcast_ref::<DataSourceExec>()
            .and_then(|exec| exec.data_source().downcast_ref::<FileScanConfig>())
            .and_then(|config| Some((config, ScanWire::of(config)?)));
        match scan {
            Some((config, wire)) => self.encode_log_scan(config, &wire, buf, proto_converter),
            None => self.ballista.try_encode(node, buf, proto_converter),
        }
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        decode_udf(name, buf, || self.ballista.try_decode_udf(name, buf))
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        encode_udf(node, buf, |buf| self.ballista.try_encode_udf(node, buf))
    }
}

impl PhysicalCodec {
    /// A scan of log objects: [`LOG_SCAN`], the length of its description (4 bytes, little
    /// endian), the description as JSON, and DataFusion's encoding of the `FileScanConfig`.
    fn encode_log_scan(
        &self,
        config: &FileScanConfig,
        wire: &ScanWire,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        let json = serde_json::to_vec(wire).map_err(|e| external(format!("a log scan: {e}")))?;
        let len = u32::try_from(json.len())
            .map_err(|_| external("a log scan's description is over 4 GiB".into()))?;
        let conf = serialize_file_scan_config(config, self, proto_converter)?;
        buf.extend_from_slice(LOG_SCAN);
        buf.extend_from_slice(&len.to_le_bytes());
        buf.extend_from_slice(&json);
        conf.encode(buf)
            .map_err(|e| external(format!("a log scan: {e}")))?;
        Ok(())
    }

    fn decode_log_scan(
        &self,
        buf: &[u8],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let truncated = || external("a log scan's encoding is cut short".into());
        let (len, rest) = buf.split_first_chunk::<4>().ok_or_else(truncated)?;
        let len = u32::from_le_bytes(*len) as usize;
        if rest.len() < len {
            return Err(truncated());
        }
        let (json, conf) = rest.split_at(len);
        let wire: ScanWire =
            serde_json::from_slice(json).map_err(|e| external(format!("a log scan: {e}")))?;
        let conf =
            FileScanExecConf::decode(conf).map_err(|e| external(format!("a log scan: {e}")))?;
        let source = wire.file_source(parse_table_schema_from_proto(&conf)?);
        let decode = PhysicalPlanDecodeContext::new(ctx, self);
        let config = parse_protobuf_file_scan_config(&conf, &decode, proto_converter, source)?;
        let scan = DataSourceExec::from_data_source(wire.restore_bundles(config)?);
        if let Some(roots) = &self.roots {
            check_physical(&(Arc::clone(&scan) as Arc<dyn ExecutionPlan>), roots)?;
        }
        // Into the registry every runtime of this process shares (an executor decodes a task
        // with one runtime and runs it with another).
        stores::register(ctx.runtime_env().as_ref(), &conf.object_store_url)?;
        Ok(scan)
    }
}

/// A detection function's definition into `buf`, or what `otherwise` writes.
fn encode_udf(
    node: &ScalarUDF,
    buf: &mut Vec<u8>,
    otherwise: impl FnOnce(&mut Vec<u8>) -> Result<()>,
) -> Result<()> {
    match udf::encode(node) {
        Some(definition) => {
            buf.extend_from_slice(&definition);
            Ok(())
        }
        None => otherwise(buf),
    }
}

/// A detection function from its definition, or what `otherwise` finds.
fn decode_udf(
    name: &str,
    buf: &[u8],
    otherwise: impl FnOnce() -> Result<Arc<ScalarUDF>>,
) -> Result<Arc<ScalarUDF>> {
    if buf.is_empty() {
        return otherwise();
    }
    udf::decode(name, buf).map(Arc::new).map_err(external)
}
