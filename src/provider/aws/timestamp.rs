//! Timestamps as the aws CLI prints them. On the wire (AWS JSON 1.1) they are epoch seconds;
//! botocore turns them into local-time datetimes and prints `isoformat()`:
//! `2024-05-14T09:12:31.291000+00:00`, microseconds only when there are any.

use std::fmt;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochTime(pub f64);

impl<'de> Deserialize<'de> for EpochTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        f64::deserialize(d).map(EpochTime)
    }
}

impl Serialize for EpochTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl EpochTime {
    /// Seconds and microseconds the way Python's `datetime.fromtimestamp` rounds them (to the
    /// nearest microsecond, ties to even), so that the printed digits match the aws CLI's.
    fn split(self) -> (i64, i32) {
        let whole = self.0.floor();
        let mut micros = ((self.0 - whole) * 1e6).round_ties_even() as i32;
        let mut secs = whole as i64;
        if micros >= 1_000_000 {
            secs += 1;
            micros -= 1_000_000;
        }
        (secs, micros)
    }

    pub fn to_timestamp(self) -> Option<Timestamp> {
        let (secs, micros) = self.split();
        Timestamp::new(secs, micros * 1000).ok()
    }

    /// For table cells: local time to the second, `2024-05-14 09:12:31`.
    pub fn short(self) -> String {
        match self.to_timestamp() {
            Some(ts) => ts
                .to_zoned_datetime(TimeZone::system())
                .strftime("%Y-%m-%d %H:%M:%S")
                .to_string(),
            None => self.0.to_string(),
        }
    }
}

impl EpochTime {
    /// `2024-05-14T09:12:31.291000+00:00` in `zone`: Python's `isoformat()`.
    fn isoformat(self, zone: TimeZone) -> Option<String> {
        let z = self.to_timestamp()?.to_zoned_datetime(zone);
        let mut out = z.strftime("%Y-%m-%dT%H:%M:%S").to_string();
        let micros = self.split().1;
        if micros != 0 {
            out.push_str(&format!(".{micros:06}"));
        }
        let offset = z.offset().seconds();
        let sign = if offset < 0 { '-' } else { '+' };
        let abs = offset.unsigned_abs();
        out.push_str(&format!("{sign}{:02}:{:02}", abs / 3600, (abs % 3600) / 60));
        if abs % 60 != 0 {
            out.push_str(&format!(":{:02}", abs % 60));
        }
        Some(out)
    }
}

impl fmt::Display for EpochTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.isoformat(TimeZone::system()) {
            Some(text) => f.write_str(&text),
            None => write!(f, "{}", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Unit tests pin the zone; the end-to-end test compares with the aws CLI itself.
    fn utc(t: f64) -> String {
        EpochTime(t).isoformat(TimeZone::UTC).unwrap_or_default()
    }

    #[test]
    fn microseconds_round_like_python() {
        assert_eq!(utc(1715677951.291), "2024-05-14T09:12:31.291000+00:00");
        assert_eq!(utc(1715677951.0), "2024-05-14T09:12:31+00:00");
        assert_eq!(utc(1715677951.9999996), "2024-05-14T09:12:32+00:00");
        assert_eq!(EpochTime(1715677951.0000005).split(), (1715677951, 0));
    }

    #[test]
    fn offsets_are_written_as_python_writes_them() {
        let zone = |s| TimeZone::fixed(jiff::tz::Offset::from_seconds(s).unwrap());
        let t = EpochTime(1715677951.0);
        assert_eq!(
            t.isoformat(zone(-5 * 3600)).unwrap(),
            "2024-05-14T04:12:31-05:00"
        );
        assert_eq!(
            t.isoformat(zone(5 * 3600 + 45 * 60 + 30)).unwrap(),
            "2024-05-14T14:58:01+05:45:30"
        );
    }
}
