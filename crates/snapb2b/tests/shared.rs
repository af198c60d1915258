//! `Client::shared`: one client per config text in a process (the parsed
//! key, the cached token, the kept-alive connection), bounded.

#[allow(unused_imports)] // shared helpers
#[path = "support/fault_server.rs"]
mod fault_server;

use std::sync::Arc;

use fault_server::{fixture, Cert, Mode, Server};
use serde_json::json;
use snapb2b::client::{shared_clients, Client, Source, FILE_RECHECK, SHARED_CLIENTS};

fn token_server() -> Server {
    Server::start(Mode::Tls(Cert::Good), |s| {
        while s.read_request().is_some() {
            s.respond(
                200,
                &[],
                br#"{"responseCode":"2007300","responseMessage":"Successful","accessToken":"tok-shared","tokenType":"Bearer","expiresIn":"900"}"#,
            );
        }
    })
}

fn config(port: u16, client_id: &str) -> String {
    let f = fixture();
    json!({
        "provider": "snap",
        "base_url": format!("https://127.0.0.1:{port}"),
        "client_id": client_id,
        "private_key_file": f.key_file,
        "ca_file": f.ca_file,
    })
    .to_string()
}

// One test: the registry is process-wide, so its counts are only
// meaningful when nothing else in this binary uses it at the same time.
#[test]
fn same_config_shares_one_client_and_the_registry_is_bounded() {
    let server = token_server();
    let a = Client::shared(&config(server.port, "A")).unwrap();
    assert_eq!(a.token().unwrap().1, Source::Fetched);
    drop(a);
    // A later "new client" with the same config: the token is cached, no
    // request reaches the provider.
    let again = Client::shared(&config(server.port, "A")).unwrap();
    assert_eq!(again.token().unwrap().1, Source::Cached);
    assert_eq!(server.requests(), 1);
    assert_eq!(server.connections(), 1);

    // Another config: another client.
    let b = Client::shared(&config(server.port, "B")).unwrap();
    assert!(!Arc::ptr_eq(&again, &b));
    assert_eq!(b.token().unwrap().1, Source::Fetched);
    assert_eq!(server.requests(), 2);

    // Create/free cycles do not grow it; many configs are capped.
    for _ in 0..1000 {
        drop(Client::shared(&config(server.port, "A")).unwrap());
    }
    assert_eq!(shared_clients(), 2);
    for i in 0..SHARED_CLIENTS + 8 {
        drop(Client::shared(&config(server.port, &format!("C{i}"))).unwrap());
    }
    assert_eq!(shared_clients(), SHARED_CLIENTS);
    // A client evicted while held stays usable by its holder.
    assert_eq!(again.token().unwrap().1, Source::Cached);

    // A replaced key file: the registry looks at its files at most once per
    // FILE_RECHECK, then makes a new client from the new file.
    let dir = fixture().dir.join(format!("rotate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key_file = dir.join("key.pem");
    std::fs::copy(&fixture().key_file, &key_file).unwrap();
    let rotating = config(server.port, "R").replace(
        &serde_json::to_string(&fixture().key_file).unwrap(),
        &serde_json::to_string(&key_file).unwrap(),
    );
    assert!(rotating.contains("rotate-"));
    let before = Client::shared(&rotating).unwrap();
    let replacement = dir.join("key.new");
    std::fs::copy(&fixture().key_file, &replacement).unwrap();
    std::fs::rename(&replacement, &key_file).unwrap(); // a new inode
    let started = std::time::Instant::now();
    let soon = Client::shared(&rotating).unwrap();
    if started.elapsed() < FILE_RECHECK / 2 {
        assert!(
            Arc::ptr_eq(&before, &soon),
            "files looked at again within FILE_RECHECK"
        );
    }
    std::thread::sleep(FILE_RECHECK + std::time::Duration::from_millis(100));
    let after = Client::shared(&rotating).unwrap();
    assert!(
        !Arc::ptr_eq(&before, &after),
        "a replaced key file makes a new client"
    );
    // Unchanged since: the new client is the one shared.
    std::thread::sleep(FILE_RECHECK + std::time::Duration::from_millis(100));
    assert!(Arc::ptr_eq(&after, &Client::shared(&rotating).unwrap()));
    std::fs::remove_dir_all(&dir).unwrap();
}
