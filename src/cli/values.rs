//! What each value may be, checked before any call: IDs by the services' own patterns, regions,
//! tags, URLs and poll intervals. Each returns the value or a message clap prints.

use std::time::Duration;

use super::STDIN;
use crate::provider::contract::is_region;

/// `s` when it is `ok`, else what it should look like.
pub(super) fn valid(s: &str, ok: bool, expected: &str) -> Result<String, String> {
    match ok {
        true => Ok(s.to_owned()),
        false => Err(expected.to_owned()),
    }
}

/// "-": read from stdin (what `aws ssm send-command` prints), before any call.
pub fn parse_command_id(s: &str) -> Result<String, String> {
    match s {
        STDIN => Ok(s.to_owned()),
        _ => check_command_id(s),
    }
}

pub fn check_command_id(s: &str) -> Result<String, String> {
    let n = s.chars().count();
    valid(
        s,
        n == 36,
        &format!("a command ID is exactly 36 characters, got {n}"),
    )
}

/// The service's pattern for window execution and task IDs: 8-4-4-4-12 hex digits.
pub fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

const UUID: &str = "ID is a 36-character UUID (8-4-4-4-12 hex digits)";

pub fn parse_window_execution_id(s: &str) -> Result<String, String> {
    valid(s, is_uuid(s), &format!("a window execution {UUID}"))
}

pub fn parse_task_id(s: &str) -> Result<String, String> {
    valid(s, is_uuid(s), &format!("a task execution {UUID}"))
}

/// The service's pattern: `(^i-(\w{8}|\w{17})$)|(^mi-\w{17}$)`, where `\w` is `[A-Za-z0-9_]`.
pub fn parse_instance_id(s: &str) -> Result<String, String> {
    let word = |t: &str| t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    let ok = match (s.strip_prefix("i-"), s.strip_prefix("mi-")) {
        (Some(rest), _) => (rest.len() == 8 || rest.len() == 17) && word(rest),
        (_, Some(rest)) => rest.len() == 17 && word(rest),
        _ => false,
    };
    let expected = "expected i- followed by 8 or 17 characters, or mi- followed by 17 (letters, \
                    digits, _)";
    valid(s, ok, expected)
}

/// Alibaba IDs: a prefix, then letters and digits (`t-hz0jdfwd9f2z`, `i-bp1i7gg30r52z2em`).
fn aliyun_id(s: &str, prefixes: &[&str]) -> bool {
    s.len() <= 64
        && prefixes.iter().any(|p| {
            s.strip_prefix(p).is_some_and(|rest| {
                !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric())
            })
        })
}

/// Printable ASCII, within the API's length.
fn graphic(s: &str, max: usize) -> bool {
    !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_graphic())
}

pub fn parse_invoke_id(s: &str) -> Result<String, String> {
    let expected = "an invoke ID is t- followed by letters and digits, e.g. t-hz0jdfwd9f2z";
    valid(s, s == STDIN || aliyun_id(s, &["t-"]), expected)
}

pub fn parse_aliyun_instance_id(s: &str) -> Result<String, String> {
    let expected = "an Alibaba Cloud instance ID is i- (or mi- for a managed instance) followed \
                    by letters and digits";
    valid(s, aliyun_id(s, &["i-", "mi-"]), expected)
}

/// Own commands are c-…; Alibaba's public commands have names such as ACS-ECS-…
pub fn parse_aliyun_command_id(s: &str) -> Result<String, String> {
    let expected = "a command ID is c- followed by letters and digits, or a public command's name";
    valid(s, graphic(s, 128), expected)
}

pub fn parse_resource_group_id(s: &str) -> Result<String, String> {
    valid(
        s,
        graphic(s, 64),
        "a resource group ID looks like rg-acfmxazb4ph6aiy",
    )
}

/// The API's rules for tag filters: a key of 1 to 64 characters that does not start with
/// `aliyun` or `acs:`, a value of up to 128, neither holding a URL scheme.
pub fn parse_tag(s: &str) -> Result<(String, String), String> {
    let Some((key, value)) = s.split_once('=') else {
        return Err("a tag is KEY=VALUE (VALUE may be empty)".into());
    };
    if key.is_empty() || key.chars().count() > 64 {
        return Err("a tag key has 1 to 64 characters".into());
    }
    if value.chars().count() > 128 {
        return Err("a tag value has at most 128 characters".into());
    }
    if key.starts_with("aliyun") || key.starts_with("acs:") {
        return Err("a tag key cannot start with aliyun or acs:".into());
    }
    if [key, value]
        .iter()
        .any(|t| t.contains("http://") || t.contains("https://"))
    {
        return Err("tags cannot contain http:// or https://".into());
    }
    Ok((key.to_owned(), value.to_owned()))
}

/// The API takes at most 20 tag filters.
pub const MAX_TAGS: usize = 20;

pub fn parse_plugin_name(s: &str) -> Result<String, String> {
    let expected = "a plugin (step) name has at least 4 characters";
    valid(s, s.chars().count() >= 4, expected)
}

pub fn parse_region(s: &str) -> Result<String, String> {
    valid(s, is_region(s), "a region looks like us-east-1")
}

pub fn parse_endpoint_url(s: &str) -> Result<String, String> {
    let url = url::Url::parse(s).map_err(|e| format!("not a valid URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("the URL must start with http:// or https://".into());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the URL has no host".into());
    }
    Ok(s.to_owned())
}

/// Below this, polling would hammer the API for no gain: a call takes longer than that.
pub const MIN_POLL_INTERVAL: Duration = Duration::from_millis(10);

pub fn parse_interval(s: &str) -> Result<Duration, String> {
    let d = crate::duration::parse(s)?;
    if d < MIN_POLL_INTERVAL {
        return Err("poll intervals are at least 10ms".into());
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_follow_the_api_rules() {
        assert_eq!(parse_tag("env=prod"), Ok(("env".into(), "prod".into())));
        assert_eq!(parse_tag("team="), Ok(("team".into(), String::new())));
        assert_eq!(parse_tag("k=a=b"), Ok(("k".into(), "a=b".into())));
        for bad in ["noequals", "=v", "aliyun:x=1", "acs:x=1", "k=http://x"] {
            assert!(parse_tag(bad).is_err(), "{bad}");
        }
        assert!(parse_tag(&format!("{}=v", "k".repeat(65))).is_err());
    }

    #[test]
    fn instance_ids_follow_the_service_pattern() {
        for good in [
            "i-0123abcd",
            "i-0123456789abcdef0",
            "mi-0123456789abcdef0",
            "i-ABC_1234",
        ] {
            assert!(parse_instance_id(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "i-0123abc",
            "i-0123456789abcdef",
            "mi-0123abcd",
            "x-0123abcd",
            "i-0123abc-",
            "i-0123456789abcdef0 ",
            "I-0123abcd",
            "i-0123abcé",
        ] {
            assert!(parse_instance_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn command_ids_are_36_characters() {
        assert!(parse_command_id("32d70fe0-ddbc-4a4e-943f-ffcbc0123456").is_ok());
        assert!(parse_command_id("32d70fe0-ddbc-4a4e-943f-ffcbc012345").is_err());
        assert!(parse_command_id("32d70fe0-ddbc-4a4e-943f-ffcbc01234567").is_err());
    }

    #[test]
    fn window_ids_are_uuids() {
        assert!(is_uuid("8f2b8e3c-1a2b-4c3d-9e8f-0123456789AB"));
        for bad in [
            "",
            "8f2b8e3c-1a2b-4c3d-9e8f-0123456789a",
            "8f2b8e3c-1a2b-4c3d-9e8f-0123456789abc",
            "8f2b8e3c1a2b-4c3d-9e8f-0123456789ab-",
            "8f2b8e3g-1a2b-4c3d-9e8f-0123456789ab",
            "8f2b8e3c-1a2b-4c3d-9e8f-0123456789ab ",
        ] {
            assert!(!is_uuid(bad), "{bad:?}");
        }
    }

    #[test]
    fn poll_intervals_have_a_floor() {
        assert!(parse_interval("5ms").is_err());
        assert_eq!(parse_interval("10ms"), Ok(Duration::from_millis(10)));
    }

    #[test]
    fn plugin_names_have_four_characters_or_more() {
        assert!(parse_plugin_name("abc").is_err());
        assert!(parse_plugin_name("aws:runShellScript").is_ok());
    }

    #[test]
    fn endpoint_urls_need_a_scheme_and_host() {
        assert!(parse_endpoint_url("http://127.0.0.1:5000").is_ok());
        assert!(parse_endpoint_url("https://ssm.eu-west-1.amazonaws.com/").is_ok());
        assert!(parse_endpoint_url("127.0.0.1:5000").is_err());
        assert!(parse_endpoint_url("http://").is_err());
        assert!(parse_endpoint_url("ftp://host").is_err());
        assert!(parse_endpoint_url("http://127.0.0.1:99999").is_err());
        assert!(parse_endpoint_url("http://exa mple.com").is_err());
    }
}
