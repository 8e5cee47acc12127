//! Properties of the access-log decoder: no input makes it panic, every non-blank line is a
//! row or a reject, and the fields of a well-formed record come back as they were written.

mod common;

use common::*;
use proptest::prelude::*;
use s3trawl::format::access_log::{AccessLogDecoder, DecoderOptions};
use serde_json::{Value, json};

/// Decodes `input` as an access log (no sniffing); returns (rows, rejects, non-blank lines).
fn decode_counts(input: &[u8]) -> (u64, u64, u64) {
    let mut d = AccessLogDecoder::new(
        "p",
        &DecoderOptions {
            batch_size: 7,
            ..Default::default()
        },
    );
    let mut pos = 0;
    let mut rows = 0;
    loop {
        let used = d.decode(&input[pos..], true);
        assert!(used <= input.len() - pos, "consumed more than the input");
        pos += used;
        if let Some(b) = d.flush().unwrap() {
            rows += b.num_rows() as u64;
        } else if used == 0 {
            break;
        }
    }
    assert_eq!(pos, input.len());
    let c = d.counts();
    assert_eq!(c.rows, rows);
    (rows, c.rejects, c.lines - c.blank)
}

fn corpus_lines() -> Vec<String> {
    let mut lines = Vec::new();
    for f in [
        "elastic-beats/test.log",
        "elastic-beats/s3_server_access.log",
        "elastic-integrations/test-s3-server-access.log",
        "logstash-patterns-core/aws_spec_S3_ACCESS_LOG_messages.log",
        "opentelemetry/too_many_values.log",
    ] {
        lines.extend(
            std::fs::read_to_string(corpora().join("access-logs").join(f))
                .unwrap()
                .lines()
                .map(str::to_string),
        );
    }
    lines
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic_and_every_line_is_counted(input in proptest::collection::vec(any::<u8>(), 0..3000)) {
        let (rows, rejects, lines) = decode_counts(&input);
        prop_assert_eq!(rows + rejects, lines);
        // The whole path (sniffing, decompression) takes it too.
        let _ = decode_bytes("p", &input);
    }

    #[test]
    fn random_text_around_real_structure_never_panics(
        words in proptest::collection::vec(prop_oneof![
            Just("\"".to_string()), Just(" ".to_string()), Just("-".to_string()), Just("[06/Feb/2019:00:00:38 +0000]".to_string()),
            Just("REST.GET.OBJECT".to_string()), Just("200".to_string()), Just("\" \"".to_string()), Just("\n".to_string()),
            "[a-zA-Z0-9/:.=+]{0,12}".prop_map(|s| s),
        ], 0..80)
    ) {
        let input = words.concat();
        let (rows, rejects, lines) = decode_counts(input.as_bytes());
        prop_assert_eq!(rows + rejects, lines);
    }

    #[test]
    fn truncations_and_splices_of_real_lines(cuts in proptest::collection::vec((0usize..40, 0usize..400, 0usize..40, 0usize..400), 1..12)) {
        if !corpora_present() {
            return Ok(());
        }
        let lines = corpus_lines();
        let mut input = String::new();
        for (a, cut_a, b, cut_b) in &cuts {
            let la = &lines[a % lines.len()];
            let lb = &lines[b % lines.len()];
            let ca = (*cut_a).min(la.len());
            let cb = (*cut_b).min(lb.len());
            if la.is_char_boundary(ca) && lb.is_char_boundary(cb) {
                input.push_str(&la[..ca]);
                input.push_str(&lb[cb..]);
                input.push('\n');
            }
            input.push_str(la);
            input.push('\n');
        }
        let (rows, rejects, total) = decode_counts(input.as_bytes());
        prop_assert_eq!(rows + rejects, total);
        // Every intact real line is still a row.
        prop_assert!(rows >= cuts.len() as u64);
    }

    #[test]
    fn written_fields_read_back(
        requester in prop_oneof![
            Just("-".to_string()),
            "arn:aws:iam::[0-9]{12}:user/[a-z.@_-]{1,20}",
            "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E[A-Z0-9]{13}",
            "[0-9a-f]{64}",
        ],
        key in prop_oneof![Just("-".to_string()), "[A-Za-z0-9/%+._=-]{1,60}"],
        uri in prop_oneof![Just(None), "[A-Z]{3,6} /[A-Za-z0-9/?=&%._\"-]{0,60} HTTP/1\\.1".prop_map(Some)],
        status in prop_oneof![Just(None), (100i32..600).prop_map(Some)],
        sent in prop_oneof![Just(None), (0i64..1 << 40).prop_map(Some)],
        referer in prop_oneof![Just(None), "[ -!#-~]{1,40}".prop_map(Some)],
        agent in prop_oneof![Just(None), "[ -~]{1,80}".prop_map(Some)],
        tail in proptest::collection::vec("[A-Za-z0-9+/=:._-]{1,20}", 0..11),
    ) {
        let q = |v: &Option<String>| v.as_ref().map_or("-".to_string(), |s| format!("\"{s}\""));
        let n = |v: Option<i64>| v.map_or("-".to_string(), |x| x.to_string());
        let line = format!(
            "owner bucket [06/Feb/2019:00:00:38 +0000] 192.0.2.3 {requester} REQID01 REST.GET.OBJECT {key} {} {} - {} - 7 - {} {} {}",
            q(&uri), n(status.map(i64::from)), n(sent), q(&referer), q(&agent), tail.join(" ")
        );
        let line = line.trim_end().to_string();
        let (batches, report) = decode_bytes("p", line.as_bytes());
        // A user agent or referer that is exactly "-" reads as NULL, as AWS means it.
        prop_assume!(agent.as_deref() != Some("-") && referer.as_deref() != Some("-") && uri.as_deref() != Some("-"));
        prop_assume!(agent.as_deref().is_none_or(|a| !a.trim().is_empty()) && referer.as_deref().is_none_or(|r| !r.trim().is_empty()));
        prop_assert!(report.rejects.is_empty(), "{:?}\n{}", report.rejects, line);
        let r = &rows(&batches)[0];
        let text = |v: &Option<String>| v.clone().map_or(Value::Null, Value::from);
        prop_assert_eq!(&r["requester"], &if requester == "-" { Value::Null } else { json!(requester) });
        prop_assert_eq!(&r["key"], &if key == "-" { Value::Null } else { json!(key) });
        prop_assert_eq!(&r["request_uri"], &text(&uri));
        prop_assert_eq!(&r["httpstatus"], &status.map_or(Value::Null, Value::from));
        prop_assert_eq!(&r["bytessent"], &sent.map_or(Value::Null, Value::from));
        prop_assert_eq!(&r["referrer"], &text(&referer));
        prop_assert_eq!(&r["useragent"], &text(&agent));
        let names = ["versionid", "hostid", "sigv", "ciphersuite", "authtype", "endpoint", "tlsversion", "accesspointarn", "aclrequired", "source_region"];
        for (i, name) in names.iter().enumerate() {
            let want = tail.get(i).filter(|t| *t != "-").cloned().map_or(Value::Null, Value::from);
            prop_assert_eq!(&r[*name], &want, "{}", name);
        }
    }
}

/// Pieces of what a requester can put in a Referer or User-Agent to mislead a parser: quotes,
/// the `" "` between the two headers, a forged tail, a record's time, a whole record's start,
/// terminal escapes, dashes.
fn hostile_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("\"".to_string()),
            Just("\" \"".to_string()),
            Just("\" ".to_string()),
            Just(" \"".to_string()),
            Just(" ".to_string()),
            Just("-".to_string()),
            Just(" - ".to_string()),
            Just("[14/Mar/2025:10:00:01 +0000]".to_string()),
            Just(" - AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= SigV2 ECDHE-RSA-AES128-SHA QueryString evil.example TLSv1.0 - Yes us-east-1".to_string()),
            Just("79a5 bucket [14/Mar/2025:10:00:01 +0000] 198.51.100.9 - FORGED01 REST.GET.OBJECT k".to_string()),
            Just("\u{1b}[2J\u{7}".to_string()),
            "[ -~]{0,12}".prop_map(|s| s),
        ],
        1..14,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Whatever the requester writes in the Referer and User-Agent, every field AWS wrote keeps
    /// its value, the record is not lost, and the requester's text stays in those two fields.
    #[test]
    fn what_a_requester_writes_never_moves_another_field(
        referer in prop_oneof![Just(None), hostile_text().prop_map(Some)],
        agent in prop_oneof![Just(None), hostile_text().prop_map(Some)],
        region in prop_oneof![Just(false), Just(true)],
    ) {
        let q = |v: &Option<String>| v.as_ref().map_or("-".to_string(), |s| format!("\"{s}\""));
        let tail = "3HL4kqtJlcpXroDTDmjVBH40Nrjfkd s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader amzn-s3-demo-bucket1.s3.us-west-1.amazonaws.com TLSv1.2 - -";
        let line = format!(
            "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be amzn-s3-demo-bucket1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 arn:aws:iam::123456789012:user/alice 3E57427F3EXAMPLE REST.GET.OBJECT photos/a.jpg \"GET /amzn-s3-demo-bucket1/photos/a.jpg HTTP/1.1\" 206 - 5368709120 9663676416 70 65 {} {} {tail}{}",
            q(&referer), q(&agent), if region { " eu-west-1" } else { "" }
        );
        // Never refused: a second record is recognised only with its fields up to the Referer
        // (status and numbers included), and the pieces above forge at most its first seven.
        let mut d = AccessLogDecoder::new("p", &DecoderOptions::default());
        d.decode(line.as_bytes(), true);
        let rejects = d.take_rejects();
        prop_assert!(rejects.is_empty(), "{:?}\n{}", rejects, line);
        let batches = d.flush().unwrap().into_iter().collect::<Vec<_>>();
        let r = &rows(&batches)[0];
        prop_assert_eq!(&r["httpstatus"], &json!(206));
        prop_assert_eq!(&r["bytessent"], &json!(5368709120i64));
        prop_assert_eq!(&r["objectsize"], &json!(9663676416i64));
        prop_assert_eq!(&r["turnaroundtime"], &json!(65));
        prop_assert_eq!(&r["request_uri"], &json!("GET /amzn-s3-demo-bucket1/photos/a.jpg HTTP/1.1"));
        prop_assert_eq!(&r["versionid"], &json!("3HL4kqtJlcpXroDTDmjVBH40Nrjfkd"));
        prop_assert_eq!(&r["sigv"], &json!("SigV4"));
        prop_assert_eq!(&r["authtype"], &json!("AuthHeader"));
        prop_assert_eq!(&r["tlsversion"], &json!("TLSv1.2"));
        prop_assert_eq!(&r["endpoint"], &json!("amzn-s3-demo-bucket1.s3.us-west-1.amazonaws.com"));
        prop_assert_eq!(&r["aclrequired"], &Value::Null);
        prop_assert_eq!(&r["source_region"], &if region { json!("eu-west-1") } else { Value::Null });
        prop_assert_eq!(&r["extra_fields"], &Value::Null);
        let got = |name: &str| r[name].as_str().map(str::to_string);
        // `"-"` is AWS's "absent"; `""` is a header sent empty, kept as the empty string.
        let null_if_dash = |v: &Option<String>| v.clone().filter(|s| s != "-");
        // The boundary between the two quoted headers is the first `" "`: unambiguous unless
        // the Referer's text makes one earlier.
        let exact = match (&referer, &agent) {
            (Some(r), Some(a)) => format!("\"{r}\" \"{a}\"").find("\" \"") == Some(r.len() + 1),
            _ => true,
        };
        if exact {
            // The two headers are told apart exactly unless the Referer holds their boundary.
            prop_assert_eq!(got("referrer"), null_if_dash(&referer), "{}", line);
            prop_assert_eq!(got("useragent"), null_if_dash(&agent), "{}", line);
        } else if let Some(a) = agent.as_deref().filter(|a| !a.is_empty() && *a != "-") {
            // Otherwise the User-Agent still holds the whole real one.
            let parsed = got("useragent").unwrap_or_default();
            prop_assert!(parsed.ends_with(a), "{:?} does not end with {:?}\n{}", parsed, a, line);
        }
    }

    /// Fields AWS appends after the known ones, quoted or not, never shift the known ones.
    #[test]
    fn appended_fields_keep_the_known_ones(
        extras in proptest::collection::vec(prop_oneof![
            "[a-z0-9-]{1,10}".prop_map(|s| s),
            "[a-z0-9 ]{0,12}".prop_map(|s| format!("\"{s}\"")),
            Just("-".to_string()),
        ], 1..6),
        agent in hostile_text(),
    ) {
        let line = format!(
            "79a5 b [06/Feb/2019:00:00:38 +0000] 192.0.2.3 - 3E57427F3EXAMPLE REST.GET.OBJECT k \"GET /k HTTP/1.1\" 200 - 1 1 1 1 \"-\" \"{agent}\" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6U= SigV4 TLS_AES_128_GCM_SHA256 AuthHeader b.s3.amazonaws.com TLSv1.3 - Yes eu-west-1 {}",
            extras.join(" ")
        );
        let (batches, report) = decode_bytes("p", line.as_bytes());
        if format!("\"{agent}").contains("\" ") && agent.contains("FORGED01") && !report.rejects.is_empty() {
            // A forged second record's start after a quote and a space: refused as glued.
            prop_assert!(report.rejects[0].reason.contains("glued"));
            return Ok(());
        }
        prop_assert!(report.rejects.is_empty(), "{:?}\n{}", report.rejects, line);
        let r = &rows(&batches)[0];
        prop_assert_eq!(&r["useragent"], &if agent == "-" { Value::Null } else { json!(agent) });
        prop_assert_eq!(&r["sigv"], &json!("SigV4"));
        prop_assert_eq!(&r["tlsversion"], &json!("TLSv1.3"));
        prop_assert_eq!(&r["aclrequired"], &json!("Yes"));
        prop_assert_eq!(&r["source_region"], &json!("eu-west-1"));
        let appended = extras.join(" ");
        prop_assert_eq!(&r["extra_fields"], &if appended == "-" { Value::Null } else { json!(appended) });
    }
}

/// Pieces of hostile log text: controls, escape sequences, bidirectional and zero-width
/// characters, markup of every sink, links, mentions, formulas, quotes.
fn hostile_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("\u{1b}]0;pwned\u{7}".to_string()),
        Just("\u{1b}[2J".to_string()),
        Just("\u{9b}31m".to_string()),
        Just("\r".to_string()),
        Just("\n".to_string()),
        Just("\t".to_string()),
        Just("\0".to_string()),
        Just("\u{202e}".to_string()),
        Just("\u{2066}".to_string()),
        Just("\u{200b}".to_string()),
        Just("\u{feff}".to_string()),
        Just("\u{e0041}".to_string()),
        Just("=HYPERLINK(\"x\")".to_string()),
        Just("+1".to_string()),
        Just("-2".to_string()),
        Just("@channel".to_string()),
        Just("@everyone".to_string()),
        Just("[x](https://evil.example)".to_string()),
        Just("![i](http://evil.example/i.png)".to_string()),
        Just("www.evil.example".to_string()),
        Just("javascript://x".to_string()),
        Just("<script>".to_string()),
        Just("<!channel>".to_string()),
        Just("<https://evil|click>".to_string()),
        Just("`".to_string()),
        Just("```".to_string()),
        Just("|".to_string()),
        Just("\"".to_string()),
        Just("'".to_string()),
        Just("\\".to_string()),
        Just("&amp;".to_string()),
        "[a-zA-Z0-9 ./:]{0,8}".prop_map(|s| s),
    ]
}

fn hostile_sink_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(hostile_piece(), 0..12).prop_map(|p| p.concat())
}

/// No sink of `s3trawl::report::escape` passes a raw control or invisible character, a live
/// formula, markup, a link or a mention, whatever text the logs hold.
fn assert_inert_everywhere(s: &str) -> Result<(), TestCaseError> {
    use s3trawl::report::escape::{self, is_invisible};
    let visible = |out: &str| !out.chars().any(is_invisible);
    let terminal = escape::terminal(s);
    prop_assert!(visible(&terminal), "terminal {terminal:?}");
    let cell = escape::csv_cell(s);
    prop_assert!(visible(&cell), "csv {cell:?}");
    prop_assert!(
        !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
        "csv formula {cell:?}"
    );
    let html = escape::html(s);
    prop_assert!(
        !html.contains(['<', '>', '"']) && !html.chars().any(|c| is_invisible(c) && c != '\n'),
        "html {html:?}"
    );
    for (sink, out) in [
        ("markdown", escape::markdown(s)),
        ("slack", escape::slack(s)),
    ] {
        prop_assert!(visible(&out), "{sink} {out:?}");
        prop_assert!(
            !out.contains('<') && !out.contains('>'),
            "{sink} markup {out:?}"
        );
        let lower = out.to_ascii_lowercase();
        prop_assert!(
            !lower.contains("http://") && !lower.contains("https://") && !lower.contains("www."),
            "{sink} link {out:?}"
        );
        let b = out.as_bytes();
        for i in 0..b.len() {
            if b[i] == b'@' {
                prop_assert!(
                    !b.get(i + 1).is_some_and(|c| c.is_ascii_alphanumeric()),
                    "{sink} mention {out:?}"
                );
            }
        }
        if sink == "markdown" {
            // Every markup character is escaped: `[`, `]`, `(`, `)`, `!`, `` ` ``, `|`.
            for (i, c) in out.char_indices() {
                if "[]()!`|*_".contains(c) {
                    prop_assert!(
                        out[..i].ends_with('\\'),
                        "markdown {c} unescaped in {out:?}"
                    );
                }
            }
        }
    }
    let code = escape::markdown_code(s);
    if s.is_empty() {
        prop_assert!(code.is_empty());
        return Ok(());
    }
    let fence = code.chars().take_while(|c| *c == '`').count();
    prop_assert!(
        fence >= 1 && code.ends_with(&"`".repeat(fence)),
        "code {code:?}"
    );
    let body = &code[fence..code.len() - fence];
    prop_assert!(
        !body.contains(&"`".repeat(fence)),
        "code fence broken {code:?}"
    );
    prop_assert!(visible(body) && !body.contains('\n'), "code {code:?}");
    let json = escape::json(&serde_json::to_string(&serde_json::json!({ "v": s })).unwrap());
    prop_assert!(
        !json.chars().any(|c| (c as u32) >= 0x80 && is_invisible(c)),
        "json {json:?}"
    );
    let back: Value = serde_json::from_str(&json).unwrap();
    prop_assert_eq!(back["v"].as_str().unwrap(), s);
    let mut stream = Vec::new();
    {
        use std::io::Write;
        let mut w = escape::TerminalSafe::new(&mut stream);
        for chunk in s.as_bytes().chunks(3) {
            w.write_all(chunk).unwrap();
        }
        w.flush().unwrap();
    }
    let shown = String::from_utf8(stream).unwrap();
    prop_assert!(
        !shown
            .chars()
            .any(|c| is_invisible(c) && c != '\n' && c != '\t'),
        "terminal stream {shown:?}"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    #[test]
    fn every_sink_makes_the_hostile_corpus_inert(s in hostile_sink_text()) {
        assert_inert_everywhere(&s)?;
    }

    #[test]
    fn every_sink_makes_any_text_inert(s in any::<String>()) {
        assert_inert_everywhere(&s)?;
    }
}
