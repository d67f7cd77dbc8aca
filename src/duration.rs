//! Durations as people type them: `90s`, `5m`, `1h30m`, `500ms`, and a bare number meaning seconds.

use std::time::Duration;

use jiff::SignedDuration;

/// Parses a positive duration. jiff reads the friendly (`1h30m`) and ISO 8601 (`PT5M`) forms;
/// a bare number is seconds because that is what `sleep 90` and the aws CLI's waiters mean.
pub fn parse(input: &str) -> Result<Duration, String> {
    let text = input.trim();
    if text.is_empty() {
        return Err("empty duration (try 90s, 5m or 1h30m)".into());
    }
    // Echoed in the messages: a runaway value (a pasted file) keeps its start only.
    let shown = crate::echo::shown(text, 40);
    let signed = match text.parse::<f64>() {
        Ok(secs) if secs.is_finite() => SignedDuration::try_from_secs_f64(secs)
            .map_err(|_| format!("duration out of range: {shown}"))?,
        Ok(_) => return Err(format!("invalid duration: {shown}")),
        Err(_) => text
            .parse::<SignedDuration>()
            .map_err(|_| format!("invalid duration '{shown}' (try 90s, 5m, 1h30m or 500ms)"))?,
    };
    if signed.is_negative() || signed.is_zero() {
        return Err(format!("duration must be greater than zero: {shown}"));
    }
    let d = Duration::try_from(signed).map_err(|_| format!("duration out of range: {shown}"))?;
    // Deadlines are computed as now + duration; a bound keeps that sum meaningful.
    if d > LONGEST {
        return Err(format!("duration is longer than a year: {shown}"));
    }
    Ok(d)
}

/// Longer than any Run Command can run (its execution timeout is at most 48 hours).
const LONGEST: Duration = Duration::from_secs(366 * 24 * 3600);

/// Compact rendering for messages and the spinner: `850ms`, `42s`, `3m05s`, `1h02m`.
pub fn human(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1_000 {
        return format!("{ms}ms");
    }
    let secs = d.as_secs();
    match secs {
        0..=59 => format!("{secs}s"),
        60..=3599 => format!("{}m{:02}s", secs / 60, secs % 60),
        _ => format!("{}h{:02}m", secs / 3600, (secs % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_friendly_forms_and_bare_seconds() {
        assert_eq!(parse("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse("PT5M"), Ok(Duration::from_secs(300)));
        assert_eq!(parse("8784h"), Ok(Duration::from_secs(366 * 86400)));
    }

    #[test]
    fn rejects_nonsense_zero_and_negative() {
        for bad in [
            "",
            "abc",
            "0",
            "0s",
            "-5s",
            "-3",
            "5 parsecs",
            "NaN",
            "inf",
            "9223372036854775807",
            "8785h",
            "1e30",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn human_is_compact() {
        assert_eq!(human(Duration::from_millis(850)), "850ms");
        assert_eq!(human(Duration::from_secs(42)), "42s");
        assert_eq!(human(Duration::from_secs(185)), "3m05s");
        assert_eq!(human(Duration::from_secs(3720)), "1h02m");
    }
}
