//! The HTML pages (admin, ops, simulator) are served with a Content-Security-Policy that allows
//! their own inline script and style by hash and nothing else (no other script, no framing, no
//! form posting elsewhere; images also from https, and from the engine itself on loopback, where
//! the simulator's QR codes are), and `X-Frame-Options: DENY` for browsers that predate
//! `frame-ancestors`.

use std::sync::OnceLock;

use actix_web::HttpResponse;
use base64::Engine as _;
use sha2::{Digest, Sha256};

/// A page and the policy made for it once.
pub struct Page {
    html: &'static str,
    policy: OnceLock<String>,
}

impl Page {
    pub const fn new(html: &'static str) -> Page {
        Page { html, policy: OnceLock::new() }
    }

    pub fn respond(&'static self) -> HttpResponse {
        let policy = self.policy.get_or_init(|| policy_for(self.html));
        with_policy(policy, self.html)
    }
}

/// A page made for this request, with the policy made for it.
pub fn respond_made(html: String) -> HttpResponse {
    let policy = policy_for(&html);
    with_policy(&policy, html)
}

fn with_policy(policy: &str, html: impl actix_web::body::MessageBody + 'static) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", policy))
        .insert_header(("X-Frame-Options", "DENY"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .body(html)
}

fn policy_for(html: &str) -> String {
    let scripts = hashes(html, "<script>", "</script>");
    let styles = hashes(html, "<style>", "</style>");
    format!(
        "default-src 'none'; script-src {scripts}; style-src {styles}; img-src 'self' data: https: http://127.0.0.1:* http://localhost:*; connect-src 'self'; \
         frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )
}

/// The CSP hash source of every inline block between `open` and `close`.
fn hashes(html: &str, open: &str, close: &str) -> String {
    let mut sources = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find(open) {
        let body = &rest[start + open.len()..];
        let Some(end) = body.find(close) else { break };
        let digest = Sha256::digest(&body.as_bytes()[..end]);
        sources.push(format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest)));
        rest = &body[end + close.len()..];
    }
    if sources.is_empty() {
        "'none'".to_string()
    } else {
        sources.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_allows_the_pages_own_inline_blocks_by_hash_and_nothing_else() {
        let policy = policy_for("<style>b{}</style><script>go()</script><script>more()</script>");
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        assert_eq!(policy.matches("'sha256-").count(), 3, "{policy}");
        assert!(!policy.contains("unsafe-inline"), "{policy}");
        assert!(policy_for("<p>plain</p>").contains("script-src 'none'"));
    }
}
