//! Hostile and broken input against the real `kyvm serve`: each bad request gets its
//! defined answer, slow clients are cut off, and the server keeps answering correct
//! requests throughout.

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::{hardened_pod, raw_tls, read_response, review, Client, Server, TempDir};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Small enough to test quickly, large enough for every ordinary case below.
const BODY_LIMIT: usize = 1 << 20;

/// (name, content type, body, expected status, expected text in the answer)
type Case = (&'static str, Option<&'static str>, Vec<u8>, u16, &'static str);

fn start(dir: &TempDir) -> Server {
    Server::start(&["--max-request-bytes", &BODY_LIMIT.to_string(), "--header-timeout", "1"], None, dir.path())
}

/// A correct review still gets a correct answer on a new connection.
async fn still_answers(server: &Server, after: &str) {
    let mut client = server.connect().await;
    let answer = client.post("/validate/fail", &review("probe", "CREATE", hardened_pod("ok"))).await;
    assert_eq!(answer.status, 200, "after {after}");
    assert_eq!(answer.json()["response"], json!({"uid": "probe", "allowed": true}), "after {after}");
}

fn valid_review() -> Vec<u8> {
    review("fine", "CREATE", hardened_pod("ok"))
}

/// A review with `value` spliced in as the Pod's annotations.
fn review_with_annotations(raw_value: &[u8]) -> Vec<u8> {
    let text = String::from_utf8(valid_review()).unwrap();
    let marker = "\"metadata\":{";
    let at = text.find(marker).expect("metadata") + marker.len();
    let mut out = text.as_bytes()[..at].to_vec();
    out.extend_from_slice(b"\"annotations\":{\"a\":");
    out.extend_from_slice(raw_value);
    out.extend_from_slice(b"},");
    out.extend_from_slice(&text.as_bytes()[at..]);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_input_gets_its_answer() {
    let dir = TempDir::new("faults");
    let server = start(&dir);

    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes();
    let mut wide_pod = hardened_pod("wide");
    wide_pod["spec"]["containers"][0]["args"] = json!(vec!["x"; 100_000]);
    let mut unknown = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}});
    unknown["spec"] = json!({"replicas": 2});
    let mut missing_uid: serde_json::Value = serde_json::from_slice(&valid_review()).unwrap();
    missing_uid["request"].as_object_mut().unwrap().remove("uid");

    let cases: Vec<Case> = vec![
        ("empty body", Some("application/json"), Vec::new(), 400, "empty body"),
        ("not JSON", Some("application/json"), b"hello".to_vec(), 400, "not valid JSON"),
        ("truncated JSON", Some("application/json"), valid_review()[..200].to_vec(), 400, "not valid JSON"),
        ("wrong content type", Some("text/plain"), valid_review(), 415, "application/json"),
        ("no content type", None, valid_review(), 415, "application/json"),
        (
            "request null",
            Some("application/json"),
            br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":null}"#.to_vec(),
            400,
            "request is missing or null",
        ),
        ("not an object", Some("application/json"), b"[1,2,3]".to_vec(), 400, "not a JSON object"),
        ("missing uid", Some("application/json"), serde_json::to_vec(&missing_uid).unwrap(), 400, "request.uid is missing"),
        (
            "over the body limit",
            Some("application/json"),
            review_with_annotations(format!("\"{}\"", "x".repeat(BODY_LIMIT)).as_bytes()),
            413,
            "larger than",
        ),
        ("nested 10,000 deep", Some("application/json"), deep, 400, "nested too deeply"),
        ("invalid UTF-8", Some("application/json"), review_with_annotations(b"\"\xff\xfe\""), 400, "not valid UTF-8"),
        ("lone surrogate", Some("application/json"), review_with_annotations(br#""\ud800""#), 400, "not valid JSON"),
        ("100,000-element array", Some("application/json"), review("wide", "CREATE", wide_pod), 200, "\"uid\":\"wide\""),
        (
            "unknown kind",
            Some("application/json"),
            review("widget", "CREATE", unknown),
            200,
            r#""response":{"uid":"widget","allowed":true}"#,
        ),
    ];
    for (name, content_type, body, status, needle) in cases {
        let mut client = server.connect().await;
        let answer = client.request("POST", "/validate/fail", content_type, body).await.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(answer.status.as_u16(), status, "{name}: {}", answer.text());
        assert!(answer.text().contains(needle), "{name}: {}", answer.text());
        still_answers(&server, name).await;
    }
    // Other methods and paths.
    let mut client = server.connect().await;
    assert_eq!(client.request("GET", "/validate/fail", None, Vec::new()).await.unwrap().status, 405);
    assert_eq!(client.request("POST", "/nowhere", Some("application/json"), valid_review()).await.unwrap().status, 404);
    still_answers(&server, "wrong method and path").await;
}

/// A client that dribbles its headers is disconnected after the header timeout, one that
/// never starts the TLS handshake likewise, and a body that does not arrive within the
/// API server's `?timeout=` gets 408; correct requests are answered meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_cut_off() {
    let dir = TempDir::new("slow");
    let server = start(&dir);

    // Headers, one byte every 100 ms, never finished.
    let mut slow = raw_tls(&server.addr, &server.ca_pem).await;
    let started = Instant::now();
    let dribble = async {
        for byte in
            b"POST /validate/fail HTTP/1.1\r\nHost: localhost\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".iter()
        {
            if slow.write_all(&[*byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let mut fast = server.connect().await;
    let (_, answers) = tokio::join!(dribble, async {
        let mut statuses = Vec::new();
        for i in 0..5 {
            tokio::time::sleep(Duration::from_millis(150)).await;
            statuses.push(fast.post("/validate/fail", &review(&format!("f{i}"), "CREATE", hardened_pod("ok"))).await.status.as_u16());
        }
        statuses
    });
    assert_eq!(answers, vec![200; 5], "correct requests are answered while a client dribbles");
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the dribbling connection must be closed");
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(6), "closed after {elapsed:?}");

    // A TCP connection that never sends a TLS hello.
    let mut silent = tokio::net::TcpStream::connect(&server.addr).await.unwrap();
    let mut sink = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), silent.read_to_end(&mut sink)).await;
    assert!(closed.is_ok(), "a connection without a handshake must be closed");

    // Headers complete, body dribbled past the API server's deadline.
    let body = review("late", "CREATE", hardened_pod("ok"));
    let mut late = raw_tls(&server.addr, &server.ca_pem).await;
    let head = format!(
        "POST /validate/fail?timeout=1s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    late.write_all(head.as_bytes()).await.unwrap();
    late.write_all(&body[..10]).await.unwrap();
    let (status, text) =
        tokio::time::timeout(Duration::from_secs(5), read_response(&mut late)).await.expect("an answer within 5 s").expect("a response");
    assert_eq!(status, 408, "{text}");

    still_answers(&server, "slow clients").await;
}

/// Many connections at once, each sending a correct review and a broken one: every
/// correct review is answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_good_and_bad_requests() {
    let dir = TempDir::new("mixed");
    let server = start(&dir);
    let mut tasks = Vec::new();
    for t in 0..16 {
        let (addr, ca) = (server.addr.clone(), server.ca_pem.clone());
        tasks.push(tokio::spawn(async move {
            let mut client = Client::connect(&addr, &ca).await.expect("connect");
            for i in 0..20 {
                let bad = client.request("POST", "/validate/fail", Some("application/json"), b"{\"request\":".to_vec()).await.expect("bad");
                assert_eq!(bad.status, 400);
                let good = client.post("/validate/fail", &review(&format!("{t}-{i}"), "CREATE", hardened_pod("ok"))).await;
                assert_eq!(good.json()["response"]["uid"], format!("{t}-{i}"));
            }
        }));
    }
    for t in tasks {
        t.await.expect("client task");
    }
    still_answers(&server, "concurrent load").await;
}
