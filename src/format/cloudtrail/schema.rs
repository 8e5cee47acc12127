//! The `cloudtrail` table: Athena's CloudTrail column names (AWS Athena User Guide, "Querying
//! AWS CloudTrail logs"), nested identity and TLS structs included, plus S3 convenience columns
//! and lineage.
//!
//! The schema is one tree of [`Node`]s: the decoder walks it to fill builders, the Parquet lake
//! stores it, and the Athena DDL is printed from it. JSON keys are matched without regard to
//! case, because real CloudTrail writes `accountId` and `accountid`, `CipherSuite` and
//! `cipherSuite`.

use std::sync::{Arc, OnceLock};

use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};

use crate::format::access_log::schema::UTC;

/// What a node holds and how its JSON value is read.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// A string; numbers and booleans are kept as their JSON text, objects and arrays as JSON.
    Text,
    /// A boolean that real logs write as `true` or `"true"`: kept as the string `true`/`false`.
    Flag,
    /// A free-form object kept as its raw JSON text, as Athena keeps it.
    Json,
    /// A nested object.
    Struct(&'static [Node]),
    /// An array of objects.
    List(&'static [Node]),
}

/// A column (or struct field) read from a JSON key.
#[derive(Debug, Clone, Copy)]
pub struct Node {
    pub name: &'static str,
    /// The JSON key (matched without regard to case).
    pub key: &'static str,
    pub kind: Kind,
}

const fn text(name: &'static str, key: &'static str) -> Node {
    Node {
        name,
        key,
        kind: Kind::Text,
    }
}

const ISSUER: &[Node] = &[
    text("type", "type"),
    text("principalid", "principalId"),
    text("arn", "arn"),
    text("accountid", "accountId"),
    text("username", "userName"),
];

const ATTRIBUTES: &[Node] = &[
    Node {
        name: "mfaauthenticated",
        key: "mfaAuthenticated",
        kind: Kind::Flag,
    },
    text("creationdate", "creationDate"),
];

const WEB_ID: &[Node] = &[
    text("federatedprovider", "federatedProvider"),
    Node {
        name: "attributes",
        key: "attributes",
        kind: Kind::Json,
    },
];

const SESSION: &[Node] = &[
    Node {
        name: "attributes",
        key: "attributes",
        kind: Kind::Struct(ATTRIBUTES),
    },
    Node {
        name: "sessionissuer",
        key: "sessionIssuer",
        kind: Kind::Struct(ISSUER),
    },
    text("ec2roledelivery", "ec2RoleDelivery"),
    Node {
        name: "webidfederationdata",
        key: "webIdFederationData",
        kind: Kind::Struct(WEB_ID),
    },
    text("sourceidentity", "sourceIdentity"),
    Node {
        name: "assumedroot",
        key: "assumedRoot",
        kind: Kind::Flag,
    },
];

const ON_BEHALF_OF: &[Node] = &[
    text("userid", "userId"),
    text("identitystorearn", "identityStoreArn"),
];

pub const IDENTITY: &[Node] = &[
    text("type", "type"),
    text("principalid", "principalId"),
    text("arn", "arn"),
    text("accountid", "accountId"),
    text("invokedby", "invokedBy"),
    text("accesskeyid", "accessKeyId"),
    text("username", "userName"),
    Node {
        name: "sessioncontext",
        key: "sessionContext",
        kind: Kind::Struct(SESSION),
    },
    text("userid", "userId"),
    text("identitystorearn", "identityStoreArn"),
    text("credentialid", "credentialId"),
    Node {
        name: "onbehalfof",
        key: "onBehalfOf",
        kind: Kind::Struct(ON_BEHALF_OF),
    },
    text("identityprovider", "identityProvider"),
];

const RESOURCE: &[Node] = &[
    text("arn", "ARN"),
    text("accountid", "accountId"),
    text("type", "type"),
];

const TLS: &[Node] = &[
    text("tlsversion", "tlsVersion"),
    text("ciphersuite", "cipherSuite"),
    text("clientprovidedhostheader", "clientProvidedHostHeader"),
];

/// The record's own fields, in column order.
pub const RECORD: &[Node] = &[
    text("eventversion", "eventVersion"),
    Node {
        name: "useridentity",
        key: "userIdentity",
        kind: Kind::Struct(IDENTITY),
    },
    // eventtime: typed, see `Column::EventTime`.
    text("eventsource", "eventSource"),
    text("eventname", "eventName"),
    text("awsregion", "awsRegion"),
    text("sourceipaddress", "sourceIPAddress"),
    text("useragent", "userAgent"),
    text("errorcode", "errorCode"),
    text("errormessage", "errorMessage"),
    Node {
        name: "requestparameters",
        key: "requestParameters",
        kind: Kind::Json,
    },
    Node {
        name: "responseelements",
        key: "responseElements",
        kind: Kind::Json,
    },
    Node {
        name: "additionaleventdata",
        key: "additionalEventData",
        kind: Kind::Json,
    },
    text("requestid", "requestID"),
    text("eventid", "eventID"),
    Node {
        name: "resources",
        key: "resources",
        kind: Kind::List(RESOURCE),
    },
    text("eventtype", "eventType"),
    text("apiversion", "apiVersion"),
    Node {
        name: "readonly",
        key: "readOnly",
        kind: Kind::Flag,
    },
    text("recipientaccountid", "recipientAccountId"),
    Node {
        name: "serviceeventdetails",
        key: "serviceEventDetails",
        kind: Kind::Json,
    },
    text("sharedeventid", "sharedEventID"),
    text("vpcendpointid", "vpcEndpointId"),
    text("vpcendpointaccountid", "vpcEndpointAccountId"),
    text("eventcategory", "eventCategory"),
    Node {
        name: "managementevent",
        key: "managementEvent",
        kind: Kind::Flag,
    },
    Node {
        name: "tlsdetails",
        key: "tlsDetails",
        kind: Kind::Struct(TLS),
    },
    Node {
        name: "sessioncredentialfromconsole",
        key: "sessionCredentialFromConsole",
        kind: Kind::Flag,
    },
    Node {
        name: "insightdetails",
        key: "insightDetails",
        kind: Kind::Json,
    },
    Node {
        name: "edgedevicedetails",
        key: "edgeDeviceDetails",
        kind: Kind::Json,
    },
    Node {
        name: "addendum",
        key: "addendum",
        kind: Kind::Json,
    },
];

/// Where a column of the table comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// `RECORD[i]`.
    Record(usize),
    EventTime,
    /// `requestParameters.bucketName`
    S3Bucket,
    /// `requestParameters.key`
    S3Key,
    /// `additionalEventData.bytesTransferredIn`
    BytesIn,
    /// `additionalEventData.bytesTransferredOut`
    BytesOut,
    /// `additionalEventData.SignatureVersion`
    Sigv,
    /// `additionalEventData.CipherSuite`, else `tlsDetails.cipherSuite`
    CipherSuite,
    /// `additionalEventData.AuthenticationMethod`
    AuthType,
    /// `additionalEventData.aclRequired`, as `Yes` like the access logs
    AclRequired,
    /// `tlsDetails.tlsVersion` spelled `TLSv1.2`
    TlsVersion,
    LogObject,
    /// The record's 1-based position in its object.
    LogLine,
    /// UTC day of `eventtime` as `yyyy/MM/dd` (the partition column of AWS's projected table).
    Day,
}

pub struct ColumnDef {
    pub name: &'static str,
    pub column: Column,
    pub doc: &'static str,
}

/// Every column of `cloudtrail`, in order.
pub fn columns() -> &'static [ColumnDef] {
    static COLUMNS: OnceLock<Vec<ColumnDef>> = OnceLock::new();
    COLUMNS.get_or_init(|| {
        let mut out = Vec::new();
        for (i, node) in RECORD.iter().enumerate() {
            out.push(ColumnDef {
                name: node.name,
                column: Column::Record(i),
                doc: "",
            });
            if node.name == "useridentity" {
                out.push(ColumnDef {
                    name: "eventtime",
                    column: Column::EventTime,
                    doc: "Time of the event, UTC",
                });
            }
        }
        out.extend([
            ColumnDef {
                name: "s3_bucket",
                column: Column::S3Bucket,
                doc: "requestParameters.bucketName",
            },
            ColumnDef {
                name: "s3_key",
                column: Column::S3Key,
                doc: "requestParameters.key",
            },
            ColumnDef {
                name: "bytes_in",
                column: Column::BytesIn,
                doc: "additionalEventData.bytesTransferredIn",
            },
            ColumnDef {
                name: "bytes_out",
                column: Column::BytesOut,
                doc: "additionalEventData.bytesTransferredOut",
            },
            ColumnDef {
                name: "sigv",
                column: Column::Sigv,
                doc: "additionalEventData.SignatureVersion",
            },
            ColumnDef {
                name: "ciphersuite",
                column: Column::CipherSuite,
                doc: "additionalEventData.CipherSuite, else tlsDetails.cipherSuite",
            },
            ColumnDef {
                name: "authtype",
                column: Column::AuthType,
                doc: "additionalEventData.AuthenticationMethod",
            },
            ColumnDef {
                name: "aclrequired",
                column: Column::AclRequired,
                doc: "additionalEventData.aclRequired ('Yes' or NULL)",
            },
            ColumnDef {
                name: "tlsversion",
                column: Column::TlsVersion,
                doc: "tlsDetails.tlsVersion, spelled TLSv1.2",
            },
            ColumnDef {
                name: "log_object",
                column: Column::LogObject,
                doc: "Local path or URL of the log object",
            },
            ColumnDef {
                name: "log_line",
                column: Column::LogLine,
                doc: "1-based position of the record in its object",
            },
            ColumnDef {
                name: "timestamp",
                column: Column::Day,
                doc: "UTC day of eventtime as yyyy/MM/dd (computed, not stored)",
            },
        ]);
        out
    })
}

pub fn node_type(node: &Node) -> DataType {
    match node.kind {
        Kind::Text | Kind::Flag | Kind::Json => DataType::Utf8View,
        Kind::Struct(children) => DataType::Struct(struct_fields(children)),
        Kind::List(children) => DataType::List(Arc::new(Field::new(
            "item",
            DataType::Struct(struct_fields(children)),
            true,
        ))),
    }
}

pub fn struct_fields(children: &[Node]) -> Fields {
    children
        .iter()
        .map(|c| Field::new(c.name, node_type(c), true))
        .collect()
}

pub fn column_type(c: &ColumnDef) -> DataType {
    match c.column {
        Column::Record(i) => node_type(&RECORD[i]),
        Column::EventTime => DataType::Timestamp(TimeUnit::Millisecond, Some(UTC.into())),
        Column::BytesIn | Column::BytesOut | Column::LogLine => DataType::Int64,
        _ => DataType::Utf8View,
    }
}

pub fn is_computed(c: &ColumnDef) -> bool {
    c.column == Column::Day
}

fn build(filter: impl Fn(&ColumnDef) -> bool) -> SchemaRef {
    let fields: Vec<Field> = columns()
        .iter()
        .filter(|c| filter(c))
        .map(|c| {
            Field::new(
                c.name,
                column_type(c),
                !matches!(c.column, Column::LogObject | Column::LogLine),
            )
        })
        .collect();
    Arc::new(Schema::new(fields))
}

pub fn schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA.get_or_init(|| build(|_| true)).clone()
}

/// The columns the lake stores.
pub fn stored_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA.get_or_init(|| build(|c| !is_computed(c))).clone()
}

/// Index of a column by name.
pub fn index_of(name: &str) -> usize {
    columns()
        .iter()
        .position(|c| c.name == name)
        .expect("a cloudtrail column")
}

/// The Athena type of an Arrow type, for the DDL.
pub fn athena_type(t: &DataType) -> String {
    match t {
        DataType::Int32 => "int".into(),
        DataType::Int64 => "bigint".into(),
        DataType::Timestamp(..) => "timestamp".into(),
        DataType::Struct(fields) => format!(
            "struct<{}>",
            fields
                .iter()
                .map(|f| format!("{}:{}", f.name(), athena_type(f.data_type())))
                .collect::<Vec<_>>()
                .join(",")
        ),
        DataType::List(item) => format!("array<{}>", athena_type(item.data_type())),
        _ => "string".into(),
    }
}
