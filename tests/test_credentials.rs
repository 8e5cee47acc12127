//! Credentials the way AWS users have them, against moto on 127.0.0.1 behind our proxy, which
//! logs the access key ID every request is signed with: profiles from the shared config and
//! credentials files (`--profile`, `AWS_PROFILE`), an assume-role profile (STS AssumeRole at
//! the configured endpoint, answered by moto, then S3 requests signed with its temporary
//! credentials), web identity (AssumeRoleWithWebIdentity, answered by moto), container
//! credentials (an ECS-style endpoint the test serves on 127.0.0.1), which of the environment
//! and a profile wins, and a missing profile as an error that names it.
//!
//! Needs `python3`; moto is started by the tests (and installed into `target/` when missing).

mod common;

use std::process::Output;

use common::moto::Moto;
use common::proxy::Proxy;
use common::{access_record, stderr, stdout};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, PutPayload};

const BUCKET: &str = "audited-logs";

struct Lab {
    moto: Moto,
    proxy: Proxy,
    dir: tempfile::TempDir,
}

fn lab() -> Lab {
    let moto = Moto::start();
    moto.create_bucket(BUCKET);
    let t = chrono::DateTime::parse_from_rfc3339("2026-06-01T10:00:00Z")
        .unwrap()
        .to_utc();
    let body = access_record(t, "REQ1", "REST.GET.OBJECT", "a")
        + &access_record(t, "REQ2", "REST.GET.OBJECT", "b");
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(moto.store(BUCKET).put(
            &ObjectPath::from("logs/2026-06-01-10-05-00-AAAA"),
            PutPayload::from(body.into_bytes()),
        ))
        .unwrap();
    let proxy = Proxy::start(&moto.endpoint);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("credentials"),
        "[default]\naws_access_key_id = DEFAULTKEY\naws_secret_access_key = default-secret\n\n\
         [audit]\naws_access_key_id = AUDITKEY\naws_secret_access_key = audit-secret\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("config"),
        "[default]\nregion = us-east-1\n\n[profile audit]\nregion = us-east-1\n\n\
         [profile reader]\nrole_arn = arn:aws:iam::123456789012:role/log-reader\n\
         source_profile = audit\nregion = us-east-1\n",
    )
    .unwrap();
    Lab { moto, proxy, dir }
}

impl Lab {
    /// `sql` counting the bucket's records, with only the shared files (and `env`) as the AWS
    /// setup; its output and the proxy's log lines for it.
    fn count(&self, args: &[&str], env: &[(&str, &str)]) -> (Output, Vec<String>) {
        let before = self.proxy.requests().lines().count();
        let location = format!("s3://{BUCKET}/logs/");
        let mut all = vec!["sql", "--quiet", "--format", "csv", "--logs", &location];
        all.extend_from_slice(args);
        all.push("SELECT count(*) AS n FROM access_logs");
        let files = self.dir.path();
        let mut c = self.moto.command(&self.proxy.endpoint, files, &all);
        for var in [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_PROFILE",
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        ] {
            c.env_remove(var);
        }
        c.env("HOME", files)
            .env("AWS_CONFIG_FILE", files.join("config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", files.join("credentials"))
            // No instance to ask on this machine: do not wait for one.
            .env("AWS_EC2_METADATA_DISABLED", "true");
        for (k, v) in env {
            c.env(k, v);
        }
        let o = c.output().unwrap();
        let lines = self
            .proxy
            .requests()
            .lines()
            .skip(before)
            // Requests only, not the lines about their answers (`= …`) and durations (`~ …`).
            .filter(|l| !l.starts_with("= ") && !l.starts_with("~ "))
            .map(str::to_string)
            .collect();
        (o, lines)
    }
}

/// Asserts the count succeeded and every S3 request was signed with `key`.
fn signed_by(o: &Output, lines: &[String], key: &str) {
    assert_eq!(o.status.code(), Some(0), "{}", stderr(o));
    assert_eq!(stdout(o).lines().nth(1), Some("2"), "{}", stdout(o));
    assert!(!lines.is_empty());
    for line in lines {
        assert!(line.contains(&format!(" key={key} ")), "{line}");
    }
}

#[test]
fn credentials_come_from_profiles_as_aws_tools_find_them() {
    let lab = lab();
    let (o, lines) = lab.count(&[], &[]);
    signed_by(&o, &lines, "DEFAULTKEY");

    let (o, lines) = lab.count(&["--profile", "audit"], &[]);
    signed_by(&o, &lines, "AUDITKEY");

    let (o, lines) = lab.count(&[], &[("AWS_PROFILE", "audit")]);
    signed_by(&o, &lines, "AUDITKEY");

    // The environment's keys win over AWS_PROFILE (every SDK's rule), a profile named on the
    // command line wins over the environment (the AWS CLI's).
    let env_keys = [
        ("AWS_ACCESS_KEY_ID", "ENVKEY"),
        ("AWS_SECRET_ACCESS_KEY", "env-secret"),
    ];
    let (o, lines) = lab.count(&[], &[env_keys[0], env_keys[1], ("AWS_PROFILE", "audit")]);
    signed_by(&o, &lines, "ENVKEY");
    let (o, lines) = lab.count(&["--profile", "audit"], &env_keys);
    signed_by(&o, &lines, "AUDITKEY");
}

#[test]
fn an_assume_role_profile_signs_with_the_roles_temporary_credentials() {
    let lab = lab();
    let (o, lines) = lab.count(&["--profile", "reader"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}\n{lines:?}", stderr(&o));
    assert_eq!(stdout(&o).lines().nth(1), Some("2"));
    // One call to STS, signed by the source profile; the S3 requests by the role's session.
    let (sts, s3): (Vec<&String>, Vec<&String>) =
        lines.iter().partition(|l| l.contains(" AssumeRole "));
    assert_eq!(sts.len(), 1, "{lines:?}");
    assert!(sts[0].contains(" key=AUDITKEY "), "{}", sts[0]);
    assert!(!s3.is_empty());
    for line in s3 {
        assert!(
            line.contains("+token ") && !line.contains("AUDITKEY") && !line.contains("DEFAULTKEY"),
            "{line}"
        );
    }
}

#[test]
fn a_missing_profile_is_an_error_that_names_it() {
    let lab = lab();
    let (o, _) = lab.count(&["--profile", "no-such-profile"], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(
        err.contains("no-such-profile") && err.contains("credentials"),
        "{err}"
    );
}

/// Web identity (EKS service accounts, GitHub Actions): a token file and a role, exchanged at
/// STS (moto's, at the configured endpoint) for the role's temporary credentials.
#[test]
fn web_identity_exchanges_its_token_for_the_roles_credentials() {
    let lab = lab();
    let token = lab.dir.path().join("token");
    std::fs::write(&token, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW0ifQ.c2ln").unwrap();
    // No shared files: only the web identity.
    std::fs::remove_file(lab.dir.path().join("credentials")).unwrap();
    let (o, lines) = lab.count(
        &[],
        &[
            ("AWS_WEB_IDENTITY_TOKEN_FILE", token.to_str().unwrap()),
            ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/log-reader"),
            ("AWS_ROLE_SESSION_NAME", "s3trawl-test"),
            ("AWS_REGION", "us-east-1"),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}\n{lines:?}", stderr(&o));
    assert_eq!(stdout(&o).lines().nth(1), Some("2"));
    let (sts, s3): (Vec<&String>, Vec<&String>) = lines
        .iter()
        .partition(|l| l.contains("Action=AssumeRoleWithWebIdentity") || l.starts_with("POST / "));
    assert_eq!(sts.len(), 1, "{lines:?}");
    assert!(!s3.is_empty());
    for line in s3 {
        assert!(line.contains(" key=") && line.contains("+token "), "{line}");
    }
}

/// ECS and other container credentials: the endpoint in AWS_CONTAINER_CREDENTIALS_FULL_URI
/// (served here by the test on 127.0.0.1) gives the task role's credentials.
#[test]
fn container_credentials_come_from_the_container_endpoint() {
    use std::io::{BufRead, BufReader, Write};
    let lab = lab();
    std::fs::remove_file(lab.dir.path().join("credentials")).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let served = std::thread::spawn(move || {
        let mut asked = 0;
        // One answer is enough: the credentials are cached until they expire. A run that
        // never asks leaves the test after 60 s rather than hanging it.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let accepted = loop {
            match listener.accept() {
                Ok((stream, _)) => break Some(stream),
                Err(_) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(20))
                }
                Err(_) => break None,
            }
        };
        if let Some(stream) = accepted {
            stream.set_nonblocking(false).unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                if line
                    .to_ascii_lowercase()
                    .starts_with("authorization: task-token")
                {
                    asked += 1;
                }
                line.clear();
            }
            let body = r#"{"AccessKeyId":"ECSTASKKEY","SecretAccessKey":"ecs-secret","Token":"ecs-token","Expiration":"2099-01-01T00:00:00Z"}"#;
            let mut stream = stream;
            write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .unwrap();
        }
        asked
    });
    let uri = format!("http://127.0.0.1:{port}/v2/credentials/task");
    let (o, lines) = lab.count(
        &[],
        &[
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", uri.as_str()),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "task-token"),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().nth(1), Some("2"));
    for line in &lines {
        assert!(line.contains(" key=ECSTASKKEY+token "), "{line}");
    }
    assert_eq!(served.join().unwrap(), 1, "the token was sent");
}
