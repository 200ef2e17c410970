//! The browser UI, embedded in the binary: pages and their scripts and
//! styles, all our own (no third-party assets).

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

macro_rules! asset {
    ($file:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/", $file))
    };
}

/// `(URL path, content type, body)` of every asset.
pub const ASSETS: &[(&str, &str, &str)] = &[
    ("/", "text/html; charset=utf-8", asset!("index.html")),
    ("/agent", "text/html; charset=utf-8", asset!("agent.html")),
    ("/wallboard", "text/html; charset=utf-8", asset!("wallboard.html")),
    ("/admin", "text/html; charset=utf-8", asset!("admin.html")),
    ("/reports", "text/html; charset=utf-8", asset!("reports.html")),
    ("/assets/app.css", "text/css; charset=utf-8", asset!("app.css")),
    ("/assets/app.js", "text/javascript; charset=utf-8", asset!("app.js")),
    ("/assets/i18n.js", "text/javascript; charset=utf-8", asset!("i18n.js")),
    ("/assets/agent.js", "text/javascript; charset=utf-8", asset!("agent.js")),
    ("/assets/wallboard.js", "text/javascript; charset=utf-8", asset!("wallboard.js")),
    ("/assets/admin.js", "text/javascript; charset=utf-8", asset!("admin.js")),
    ("/assets/reports.js", "text/javascript; charset=utf-8", asset!("reports.js")),
];

/// Routes serving the assets.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    let mut r = Router::new();
    for &(path, ctype, body) in ASSETS {
        r = r.route(
            path,
            get(move || async move {
                ([(header::CONTENT_TYPE, ctype), (header::CACHE_CONTROL, "no-cache")], body).into_response()
            }),
        );
    }
    r
}
