//! SIGTERM under load: readiness turns false at once, requests keep being answered
//! through the shutdown delay, a request in flight when draining starts completes, and
//! the process exits 0 — no request fails.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::{hardened_pod, raw_tls, read_response, review, Client, Server, TempDir};
use tokio::io::AsyncWriteExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_without_failed_requests() {
    let dir = TempDir::new("sigterm");
    let delay = Duration::from_secs(2);
    let mut server = Server::start(&["--shutdown-delay", "2", "--shutdown-timeout", "10"], None, dir.path());

    // Bounded load: 8 keep-alive connections sending until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for c in 0..8 {
        let (addr, ca, stop) = (server.addr.clone(), server.ca_pem.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            let mut client = Client::connect(&addr, &ca).await.expect("connect");
            let (mut ok, mut failed) = (0usize, Vec::new());
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                i += 1;
                let uid = format!("{c}-{i}");
                match client.request("POST", "/validate/fail", Some("application/json"), review(&uid, "CREATE", hardened_pod("ok"))).await {
                    Ok(a) if a.status == 200 && a.json()["response"]["uid"] == uid.as_str() => ok += 1,
                    Ok(a) => failed.push(format!("{uid}: {}", a.status)),
                    Err(e) => failed.push(format!("{uid}: {e}")),
                }
            }
            (ok, failed)
        }));
    }
    let mut probe = server.connect().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(probe.get("/health/readiness").await.status, 200);

    let terminated = Instant::now();
    server.signal(libc::SIGTERM);
    // Readiness turns false promptly; the server still answers.
    let start = Instant::now();
    loop {
        if probe.get("/health/readiness").await.status == 503 {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(1), "readiness must turn false");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // Just before draining starts, begin a request whose body arrives slowly: it is in
    // flight when the drain begins and must still be answered.
    tokio::time::sleep(delay.saturating_sub(terminated.elapsed()).saturating_sub(Duration::from_millis(300))).await;
    let body = review("in-flight", "CREATE", hardened_pod("ok"));
    let mut slow = raw_tls(&server.addr, &server.ca_pem).await;
    let head = format!(
        "POST /validate/fail HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    slow.write_all(&body[..body.len() / 2]).await.unwrap();

    // The load stops before the delay ends (in a cluster, the endpoint is gone by then).
    tokio::time::sleep(delay.saturating_sub(terminated.elapsed()).saturating_sub(Duration::from_millis(100))).await;
    stop.store(true, Ordering::SeqCst);
    let mut total = 0;
    for c in clients {
        let (ok, failed) = c.await.expect("client");
        assert!(failed.is_empty(), "failed requests: {failed:?}");
        total += ok;
    }
    assert!(total > 100, "the load ran ({total} requests)");

    // Finish the slow request after the drain has begun.
    tokio::time::sleep(delay.saturating_sub(terminated.elapsed()) + Duration::from_millis(300)).await;
    slow.write_all(&body[body.len() / 2..]).await.unwrap();
    let (status, text) = tokio::time::timeout(Duration::from_secs(5), read_response(&mut slow)).await.expect("answered").expect("response");
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("\"uid\":\"in-flight\""), "{text}");

    let code = tokio::task::spawn_blocking(move || {
        let code = server.wait_exit(Duration::from_secs(15));
        (code, server.log())
    })
    .await
    .unwrap();
    assert_eq!(code.0, Some(0), "kyvm serve must exit 0 after draining:\n{}", code.1);
    assert!(code.1.contains("draining"), "{}", code.1);
}
