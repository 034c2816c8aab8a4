//! Serve a fake API server on loopback for manual poking:
//! `cargo run -p fakekube --example serve [seconds]` prints the kubeconfig
//! path, then serves for the given time (default 600 s) and prints the
//! request log on exit.

fn main() {
    let secs: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    let api = fakekube::FakeApi::new();
    let serving = api.serve();
    println!("KUBECONFIG={}", serving.kubeconfig().display());
    std::thread::sleep(std::time::Duration::from_secs(secs));
    for r in api.requests() {
        println!("{} {}?{} {:?}", r.method, r.path, r.query, r.content_type);
    }
}
