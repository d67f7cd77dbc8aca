//! Where SSM put a command's complete output: GetCommandInvocation's StandardOutputUrl and
//! StandardErrorUrl name an S3 object by URL, and fetching it needs bucket, key and region.
//!
//! Parsed by hand rather than with the `url` crate: a WHATWG parser resolves `.` and `..`
//! segments (also written `%2e`) and turns `\` into `/`, which would change the key, and an S3
//! key is an opaque string where those are ordinary characters.

/// An S3 object named by an SSM output URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    /// Percent-decoded; may hold any character, so run it through `render::sanitize` before
    /// showing it on a terminal.
    pub key: String,
    /// None when the host names no region (the global endpoint): the caller then uses its
    /// configured region.
    pub region: Option<String>,
}

impl S3Location {
    /// "s3://bucket/key", for messages.
    pub fn display(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }
}

/// Bucket, key and region of an S3 URL in any of the endpoint forms SSM has used (path style or
/// virtual-hosted, dash or dot region, dualstack, FIPS, China). None for anything else.
pub fn parse(url: &str) -> Option<S3Location> {
    if url.bytes().any(|b| b.is_ascii_control() || b == b' ') {
        return None;
    }
    let (scheme, rest) = url.split_once("://")?;
    if !scheme.eq_ignore_ascii_case("https") && !scheme.eq_ignore_ascii_case("http") {
        return None;
    }
    // Query and fragment are no part of the object's name (a `?` in a key arrives as %3F).
    let rest = rest.split(['?', '#']).next()?;
    let (host, path) = rest.split_once('/')?;
    let host = host.to_ascii_lowercase();
    let (host_bucket, region) = split_host(&host)?;

    let (bucket, key) = if host_bucket.is_empty() {
        let (bucket, key) = path.split_once('/')?;
        let bucket = percent_decode(bucket)?;
        if !is_path_style_bucket(&bucket) {
            return None;
        }
        (bucket, percent_decode(key)?)
    } else {
        (host_bucket, percent_decode(path)?)
    };
    if key.is_empty() {
        return None;
    }
    Some(S3Location {
        bucket,
        key,
        region: region.map(str::to_owned),
    })
}

/// The bucket named left of the S3 endpoint part (empty for path style) and the region the
/// endpoint names. Read from the right, since bucket names may themselves contain dots.
fn split_host(host: &str) -> Option<(String, Option<&str>)> {
    if !host
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return None;
    }
    let (name, china) = if let Some(name) = host.strip_suffix(".amazonaws.com.cn") {
        (name, true)
    } else {
        (host.strip_suffix(".amazonaws.com")?, false)
    };
    let labels: Vec<&str> = name.split('.').collect();
    if labels.iter().any(|l| l.is_empty()) {
        return None;
    }
    let (bucket_len, region) = match labels.as_slice() {
        [bucket @ .., s3, region] if is_s3(s3) && is_region(region) => {
            (bucket.len(), Some(*region))
        }
        [bucket @ .., s3, "dualstack", region] if is_s3(s3) && is_region(region) => {
            (bucket.len(), Some(*region))
        }
        [bucket @ .., "s3"] => (bucket.len(), None),
        // The legacy name of the us-east-1 endpoint.
        [bucket @ .., "s3-external-1"] => (bucket.len(), Some("us-east-1")),
        [bucket @ .., dashed] => {
            let region = dashed
                .strip_prefix("s3-fips-")
                .or_else(|| dashed.strip_prefix("s3-"))?;
            if !is_region(region) {
                return None;
            }
            (bucket.len(), Some(region))
        }
        [] => return None,
    };
    // Regions of the China partition exist only under .com.cn and the others only under .com;
    // a mismatch would send the request to a region that does not hold the bucket.
    let china_region = region.is_some_and(|r| r.starts_with("cn-"));
    if china != china_region {
        return None;
    }
    Some((labels.get(..bucket_len)?.join("."), region))
}

fn is_s3(label: &str) -> bool {
    label == "s3" || label == "s3-fips"
}

/// `us-east-2`, `eu-central-1`, `us-gov-west-1`, `cn-north-1`. The two-letter start keeps
/// `s3-website-us-east-1` (a website endpoint, not the API) from reading as a region.
fn is_region(label: &str) -> bool {
    let parts: Vec<&str> = label.split('-').collect();
    let Some((number, words)) = parts.split_last() else {
        return false;
    };
    let Some((area, names)) = words.split_first() else {
        return false;
    };
    let letters = |s: &&str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase());
    area.len() == 2
        && letters(area)
        && !names.is_empty()
        && names.iter().all(letters)
        && !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
}

/// Path style also reaches the legacy us-east-1 buckets, whose names may have capitals and
/// underscores.
fn is_path_style_bucket(bucket: &str) -> bool {
    !bucket.is_empty()
        && bucket
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// `%XX` escapes to bytes; `+` stays a plus, as it does in a URL path. A malformed escape or a
/// result that is not UTF-8 means the URL was not written by AWS.
fn percent_decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hi = bytes.next().and_then(hex)?;
            let lo = bytes.next().and_then(hex)?;
            out.push(hi << 4 | lo);
        } else {
            out.push(b);
        }
    }
    String::from_utf8(out).ok()
}

fn hex(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc(bucket: &str, key: &str, region: Option<&str>) -> Option<S3Location> {
        Some(S3Location {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            region: region.map(str::to_owned),
        })
    }

    #[test]
    fn aws_docs_example() {
        let url = "https://s3.us-east-2.amazonaws.com/amzn-s3-demo-bucket/my-output/\
                   3e4a5b6c-1111-2222-3333-444455556666/i-02573cafcf0123456/awsrunShellScript/\
                   0.awsrunShellScript/stdout";
        assert_eq!(
            parse(url),
            loc(
                "amzn-s3-demo-bucket",
                "my-output/3e4a5b6c-1111-2222-3333-444455556666/i-02573cafcf0123456/\
                 awsrunShellScript/0.awsrunShellScript/stdout",
                Some("us-east-2"),
            )
        );
    }

    /// Each case: the URL, the bucket and the region it names ("-": none).
    fn check(cases: &[&str]) {
        for case in cases {
            let [url, bucket, region] = case.split(' ').collect::<Vec<_>>()[..] else {
                panic!("bad case {case:?}");
            };
            let region = Some(region).filter(|r| *r != "-");
            let key = url.rsplit('/').next().unwrap_or_default();
            assert_eq!(parse(url), loc(bucket, key, region), "{url}");
        }
    }

    #[test]
    fn path_style_hosts() {
        check(&[
            "https://s3.amazonaws.com/b/k b -",
            "https://s3.eu-central-1.amazonaws.com/b/k b eu-central-1",
            "https://s3-us-west-2.amazonaws.com/b/k b us-west-2",
            "https://s3.dualstack.ap-south-1.amazonaws.com/b/k b ap-south-1",
            "https://s3-external-1.amazonaws.com/b/k b us-east-1",
            "https://s3.cn-north-1.amazonaws.com.cn/b/k b cn-north-1",
            "https://s3-cn-northwest-1.amazonaws.com.cn/b/k b cn-northwest-1",
            "https://s3.us-gov-west-1.amazonaws.com/b/k b us-gov-west-1",
            "https://s3-fips.us-gov-west-1.amazonaws.com/b/k b us-gov-west-1",
            "https://s3-fips.dualstack.us-east-2.amazonaws.com/b/k b us-east-2",
            "https://s3-fips-us-gov-west-1.amazonaws.com/b/k b us-gov-west-1",
            "http://s3.us-east-1.amazonaws.com/b/k b us-east-1",
            "HTTPS://S3.US-EAST-1.AMAZONAWS.COM/b/k b us-east-1",
        ]);
    }

    #[test]
    fn virtual_hosted_hosts() {
        check(&[
            "https://logs.s3.amazonaws.com/k logs -",
            "https://logs.s3.us-east-2.amazonaws.com/k logs us-east-2",
            "https://logs.s3-us-west-1.amazonaws.com/k logs us-west-1",
            "https://logs.s3.dualstack.eu-west-1.amazonaws.com/k logs eu-west-1",
            "https://logs.s3-fips.us-east-1.amazonaws.com/k logs us-east-1",
            "https://logs.s3-external-1.amazonaws.com/k logs us-east-1",
            "https://logs.s3.cn-north-1.amazonaws.com.cn/k logs cn-north-1",
            "https://my.logs.bucket.s3.us-east-1.amazonaws.com/k my.logs.bucket us-east-1",
            "https://my.logs.s3.amazonaws.com/k my.logs -",
            // Bucket labels that look like endpoint parts are still the bucket.
            "https://s3.s3.amazonaws.com/k s3 -",
            "https://a.dualstack.s3.us-east-1.amazonaws.com/k a.dualstack us-east-1",
            "https://us-east-1.s3.amazonaws.com/k us-east-1 -",
        ]);
    }

    #[test]
    fn key_is_the_rest_of_the_path_percent_decoded() {
        let base = "https://s3.us-east-1.amazonaws.com/b/";
        let cases = [
            ("a/b/c/stdout", "a/b/c/stdout"),
            ("my%20output/stdout", "my output/stdout"),
            ("a%2Fb/c", "a/b/c"),
            ("a%2fb", "a/b"),
            ("a+b", "a+b"),
            ("caf%C3%A9/✓", "café/✓"),
            ("a/./b/../c", "a/./b/../c"),
            ("%2e%2e/x", "../x"),
            ("a//b/", "a//b/"),
            ("stdout?versionId=3&x=y", "stdout"),
            ("stdout#frag", "stdout"),
            ("k%3Fq", "k?q"),
        ];
        for (path, key) in cases {
            let url = format!("{base}{path}");
            assert_eq!(parse(&url), loc("b", key, Some("us-east-1")), "{url}");
        }
    }

    #[test]
    fn a_leading_slash_of_the_prefix_stays_in_the_key() {
        assert_eq!(
            parse("https://s3.us-east-1.amazonaws.com/b//prefix/cmd/i-1/stdout"),
            loc("b", "/prefix/cmd/i-1/stdout", Some("us-east-1"))
        );
        assert_eq!(
            parse("https://b.s3.us-east-1.amazonaws.com//prefix/stdout"),
            loc("b", "/prefix/stdout", Some("us-east-1"))
        );
    }

    #[test]
    fn legacy_path_style_bucket_names() {
        assert_eq!(
            parse("https://s3.amazonaws.com/Old_Bucket.x/k"),
            loc("Old_Bucket.x", "k", None)
        );
    }

    #[test]
    fn empty_bucket_or_key() {
        for url in [
            "https://s3.amazonaws.com/",
            "https://s3.amazonaws.com",
            "https://s3.amazonaws.com//k",
            "https://s3.amazonaws.com/b",
            "https://s3.amazonaws.com/b/",
            "https://s3.amazonaws.com/b/?k",
            "https://b.s3.amazonaws.com/",
            "https://b.s3.amazonaws.com",
            "https://b.s3.amazonaws.com/#k",
        ] {
            assert_eq!(parse(url), None, "{url}");
        }
    }

    #[test]
    fn hosts_that_are_not_s3() {
        for url in [
            "https://example.com/b/k",
            "https://s3.example.com/b/k",
            "https://s3.amazonaws.com.evil.net/b/k",
            "https://amazonaws.com/b/k",
            "https://ssm.us-east-1.amazonaws.com/b/k",
            "https://b.s3-website-us-east-1.amazonaws.com/k",
            "https://b.s3-website.us-east-1.amazonaws.com/k",
            "https://s3-accelerate.amazonaws.com/b/k",
            "https://ap.s3-accesspoint.us-east-1.amazonaws.com/k",
            "https://s3.dualstack.amazonaws.com/b/k",
            "https://s3.us-east-1.dualstack.amazonaws.com/b/k",
            "https://s3.us-east.amazonaws.com/b/k",
            "https://s3.us-east-1a.amazonaws.com/b/k",
            "https://b..s3.amazonaws.com/k",
            "https://.s3.amazonaws.com/k",
            // China regions live under .com.cn only, and .com.cn has no global endpoint.
            "https://s3.cn-north-1.amazonaws.com/b/k",
            "https://s3.us-east-1.amazonaws.com.cn/b/k",
            "https://s3.amazonaws.com.cn/b/k",
            // Ports, credentials and addresses are not what SSM hands out.
            "https://s3.amazonaws.com:443/b/k",
            "https://user@s3.amazonaws.com/b/k",
            "https://52.216.0.1/b/k",
            "https://[::1]/b/k",
        ] {
            assert_eq!(parse(url), None, "{url}");
        }
    }

    #[test]
    fn other_schemes_and_garbage() {
        for url in [
            "s3://b/k",
            "ftp://s3.amazonaws.com/b/k",
            "file:///s3.amazonaws.com/b/k",
            "//s3.amazonaws.com/b/k",
            "s3.amazonaws.com/b/k",
            "https:/s3.amazonaws.com/b/k",
            "",
            "https://",
            "not a url",
            " https://s3.amazonaws.com/b/k",
            "https://s3.amazonaws.com/b/k\n",
            "https://s3.amazonaws.com/b/with space",
            "https://s3.amazonaws.com\\b\\k",
        ] {
            assert_eq!(parse(url), None, "{url:?}");
        }
    }

    #[test]
    fn bad_percent_escapes_and_invalid_utf8() {
        for url in [
            "https://s3.amazonaws.com/b/k%",
            "https://s3.amazonaws.com/b/k%2",
            "https://s3.amazonaws.com/b/k%zz",
            "https://s3.amazonaws.com/b/k%ff",
            "https://s3.amazonaws.com/b/k%C3",
            "https://s3.amazonaws.com/b/%C0%AF",
            "https://s3.amazonaws.com/b%2Fc/k",
            "https://s3.amazonaws.com/b%20c/k",
        ] {
            assert_eq!(parse(url), None, "{url}");
        }
    }

    #[test]
    fn display_for_messages() {
        let Some(location) = parse("https://b.s3.amazonaws.com/dir/stdout") else {
            panic!("not parsed");
        };
        assert_eq!(location.display(), "s3://b/dir/stdout");
    }
}
