//! The server over TLS: a certificate signed by a test CA, both made by `openssl` (skipped
//! without it); a client trusting the CA is served, a plaintext client is not.

#![allow(clippy::print_stdout, reason = "a skipped test says why")]

use std::process::Command;
use std::time::Duration;

use p4runtime_proto::p4::v1 as p4v1;
use p4runtime_proto::p4::v1::p4_runtime_client::P4RuntimeClient;
use p4tc_p4runtime::server::{self, MemoryDeployer, ServeOptions, Service};
use tonic::transport::{Certificate, Channel, ClientTlsConfig};

#[tokio::test]
async fn tls_serves_a_client_that_trusts_the_certificate_and_not_a_plaintext_one() {
    let dir = std::env::temp_dir().join(format!("p4tc-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key, ca) = (
        dir.join("cert.pem"),
        dir.join("key.pem"),
        dir.join("ca.pem"),
    );
    // A CA and a server certificate it signs (rustls refuses a self-signed CA as the
    // server's own certificate).
    std::fs::write(dir.join("ext.cnf"), "subjectAltName=DNS:localhost\n").unwrap();
    let steps: [&[&str]; 3] = [
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=p4tc test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        ],
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "key.pem",
            "-out",
            "req.csr",
        ],
        &[
            "x509",
            "-req",
            "-in",
            "req.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "1",
            "-extfile",
            "ext.cnf",
            "-out",
            "cert.pem",
        ],
    ];
    let made = steps.iter().all(|args| {
        Command::new("openssl")
            .args(*args)
            .current_dir(&dir)
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if !made {
        println!("skipped: openssl cannot make certificates here");
        let _ = std::fs::remove_dir_all(&dir);
        return;
    }
    let options = ServeOptions {
        addr: "127.0.0.1:0".parse().unwrap(),
        tls: Some((cert.clone(), key.clone())),
        poll_interval: Duration::from_millis(10),
        ..ServeOptions::default()
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        server::serve(
            &options,
            Service::new(1, MemoryDeployer::new()),
            |a| {
                let _ = tx.send(a);
            },
            async {
                let _ = stopped.await;
            },
        )
        .await
        .expect("serves");
    });
    let addr = rx.await.unwrap();
    let pem = std::fs::read(&ca).unwrap();
    let channel = Channel::from_shared(format!("https://localhost:{}", addr.port()))
        .unwrap()
        .tls_config(
            ClientTlsConfig::new()
                .ca_certificate(Certificate::from_pem(pem))
                .domain_name("localhost"),
        )
        .unwrap()
        .connect()
        .await
        .expect("TLS connects");
    let caps = P4RuntimeClient::new(channel)
        .capabilities(p4v1::CapabilitiesRequest { device_id: 1 })
        .await
        .expect("served over TLS")
        .into_inner();
    assert!(caps.p4runtime_api_version.starts_with("1."));
    let plain = async {
        let mut c = P4RuntimeClient::connect(format!("http://{addr}")).await?;
        c.capabilities(p4v1::CapabilitiesRequest { device_id: 1 })
            .await
            .map_err(Into::into)
            .map(|_| ())
    };
    let refused: Result<(), Box<dyn std::error::Error>> =
        tokio::time::timeout(Duration::from_secs(5), plain)
            .await
            .unwrap_or_else(|_| Err("timed out".into()));
    assert!(refused.is_err(), "a plaintext client must not be served");
    let _ = stop.send(());
    let _ = std::fs::remove_dir_all(&dir);
}
