//! The classic Alibaba Cloud RPC signature (SignatureVersion 1.0, HMAC-SHA1), as the ECS API
//! reference documents it and the aliyun CLI sends it: every parameter in the query string,
//! sorted, RFC 3986-encoded, signed with the secret plus "&".

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha1::Sha1;

/// RFC 3986's unreserved characters stay; everything else (space included, as %20) is escaped.
/// The signature is computed over this exact encoding, so it must not follow form encoding.
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

pub fn encode(s: &str) -> String {
    utf8_percent_encode(s, RFC3986).to_string()
}

/// `k=v&k=v…`, sorted by name, each part encoded: the query string that is both signed and sent.
pub fn canonical_query(params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    sorted
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

pub fn string_to_sign(method: &str, canonical_query: &str) -> String {
    format!("{method}&{}&{}", encode("/"), encode(canonical_query))
}

pub fn signature(secret: &str, string_to_sign: &str) -> String {
    let key = format!("{secret}&");
    // HMAC takes a key of any length: this cannot fail.
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(key.as_bytes()) else {
        unreachable!("HMAC accepts keys of any length")
    };
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The full query string of a signed GET: the canonical query plus its Signature.
pub fn signed_query(secret: &str, params: &[(String, String)]) -> String {
    let canonical = canonical_query(params);
    let signature = signature(secret, &string_to_sign("GET", &canonical));
    format!("{canonical}&Signature={}", encode(&signature))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// The worked example of the ECS API reference ("Request signatures"): DescribeRegions with
    /// AccessKeyId testid and secret testsecret, reproduced byte for byte.
    #[test]
    fn reproduces_the_documented_example() {
        let params = pairs(&[
            ("Timestamp", "2016-02-23T12:46:24Z"),
            ("Format", "XML"),
            ("AccessKeyId", "testid"),
            ("Action", "DescribeRegions"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
            ("Version", "2014-05-26"),
            ("SignatureVersion", "1.0"),
        ]);
        let canonical = canonical_query(&params);
        let to_sign = string_to_sign("GET", &canonical);
        assert_eq!(
            to_sign,
            "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML\
             %26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf\
             %26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z\
             %26Version%3D2014-05-26"
        );
        assert_eq!(
            signature("testsecret", &to_sign),
            "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
        );
        assert!(
            signed_query("testsecret", &params)
                .ends_with("&Signature=OLeaidS1JvxuMvnyHOwuJ%2BuX5qY%3D")
        );
    }

    #[test]
    fn encodes_as_rfc_3986() {
        assert_eq!(encode("a b*c~d-_."), "a%20b%2Ac~d-_.");
        assert_eq!(encode("é/+="), "%C3%A9%2F%2B%3D");
        assert_eq!(encode("Tag.1.Key"), "Tag.1.Key");
    }

    #[test]
    fn sorts_by_byte_order() {
        let params = pairs(&[("b", "2"), ("Tag.1.Key", "k"), ("a", "1"), ("B", "x")]);
        assert_eq!(canonical_query(&params), "B=x&Tag.1.Key=k&a=1&b=2");
    }
}
