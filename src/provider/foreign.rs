//! Answers that are not the cloud's: a proxy's or a captive portal's page, a redirect, an
//! emulator lacking a call, an empty body. Named by their HTTP status and a short, one-line
//! start of the body, as the aws CLI names them ("An error occurred (403)"), on both clouds.

/// Characters of the body shown.
const SHOWN: usize = 100;

/// "HTTP 403, not an AWS answer: <html>…" for `service` "AWS".
pub fn describe(status: u16, service: &str, location: Option<&str>, body: &[u8]) -> String {
    let mut text = format!("HTTP {status}, not an {service} answer");
    if let Some(to) = location {
        // Where a redirect points, without its query (which may carry a token).
        let to = to.split(['?', '#']).next().unwrap_or_default();
        text.push_str(&format!(
            " (redirected to {to}: a wrong endpoint or region?)"
        ));
    }
    let body = String::from_utf8_lossy(body);
    let words = body.split_whitespace().collect::<Vec<_>>().join(" ");
    match words.char_indices().nth(SHOWN) {
        _ if words.is_empty() => text.push_str(", with an empty body"),
        Some((cut, _)) => text.push_str(&format!(": {}…", &words[..cut])),
        None => text.push_str(&format!(": {words}")),
    }
    text
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn an_answer_that_is_not_the_cloud_s_is_named_by_its_status_and_start() {
        let page = b"<html>\n  <head><title>403 Forbidden</title></head>\n</html>";
        assert_eq!(
            describe(403, "AWS", None, page),
            "HTTP 403, not an AWS answer: <html> <head><title>403 Forbidden</title></head> </html>"
        );
        assert_eq!(
            describe(502, "Alibaba Cloud", None, b""),
            "HTTP 502, not an Alibaba Cloud answer, with an empty body"
        );
        let long = "x".repeat(500);
        assert!(
            describe(404, "AWS", None, long.as_bytes()).ends_with(&format!("{}…", "x".repeat(100)))
        );
        assert_eq!(
            describe(307, "AWS", Some("https://elsewhere/x?token=s3cr3t"), b""),
            "HTTP 307, not an AWS answer (redirected to https://elsewhere/x: a wrong endpoint or \
             region?), with an empty body"
        );
    }
}
