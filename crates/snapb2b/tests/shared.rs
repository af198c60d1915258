//! `Client::shared`: one client per config text in a process (the parsed
//! key, the cached token, the kept-alive connection), bounded.

#[allow(unused_imports)] // shared helpers
#[path = "support/fault_server.rs"]
mod fault_server;

use std::sync::Arc;

use fault_server::{fixture, Cert, Mode, Server};
use serde_json::json;
use snapb2b::client::{shared_clients, Client, Source, SHARED_CLIENTS};

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
}
