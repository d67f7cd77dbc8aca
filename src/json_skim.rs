//! Reading a JSON document from a stream while keeping only the few fields a caller names, so
//! that memory follows what is kept, not what arrives: `aws ssm list-commands` can print a
//! hundred megabytes of which `--command-id -` needs one ID. Everything else is parsed and
//! dropped as it goes.

use std::fmt;
use std::io::{self, Read};

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// What `--command-id -` reads at most: parsing what is dropped costs time, if not memory.
pub const MAX_INPUT: u64 = 256 << 20;

/// Items kept of any array; the rest are parsed and dropped.
const MAX_ITEMS: usize = 10_000;

/// Values kept in all (each some tens of bytes): past it, everything is dropped, so that
/// arrays of arrays cannot multiply MAX_ITEMS.
const MAX_KEPT: usize = 100_000;

/// Why a document could not be skimmed.
#[derive(Debug)]
pub enum SkimError {
    /// Reading failed.
    Io(io::Error),
    /// More than the limit.
    TooLong,
    /// Not JSON (serde_json's own words).
    Syntax(String),
}

/// The document on `input`, keeping in objects only the members named in `keep` (at any depth)
/// and of arrays their first MAX_ITEMS items; reading no more than `limit` bytes.
/// Input that is not UTF-8 fails with `io::ErrorKind::InvalidData`, even where it is dropped.
pub fn skim(input: impl Read, keep: &[&str], limit: u64) -> Result<Value, SkimError> {
    let mut limited = input.take(limit + 1);
    // serde_json reads byte by byte: the checker needs bigger reads to be cheap.
    let checked = io::BufReader::new(Utf8Checked::new(&mut limited));
    let mut de = serde_json::Deserializer::from_reader(checked);
    let budget = std::cell::Cell::new(MAX_KEPT);
    let parsed = Pruned {
        keep,
        budget: &budget,
    }
    .deserialize(&mut de)
    .and_then(|v| de.end().map(|()| v));
    let read_all = limited.limit() == 0;
    match parsed {
        _ if read_all => Err(SkimError::TooLong),
        Ok(value) => Ok(value),
        Err(e) if e.is_io() => Err(SkimError::Io(e.into())),
        Err(e) => Err(SkimError::Syntax(e.to_string())),
    }
}

/// Passes bytes on once they are known to be UTF-8; a sequence cut between two reads waits
/// for its end.
struct Utf8Checked<R> {
    inner: R,
    /// Checked bytes not handed out yet, from `at`.
    ready: Vec<u8>,
    at: usize,
    /// The start of a sequence the last read cut short.
    tail: Vec<u8>,
}

impl<R: Read> Utf8Checked<R> {
    fn new(inner: R) -> Self {
        Utf8Checked {
            inner,
            ready: Vec::new(),
            at: 0,
            tail: Vec::new(),
        }
    }

    fn not_utf8() -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, "not UTF-8")
    }
}

impl<R: Read> Read for Utf8Checked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.ready.len() {
            let mut chunk = std::mem::take(&mut self.tail);
            let start = chunk.len();
            chunk.resize(start + 64 * 1024, 0);
            let n = self.inner.read(&mut chunk[start..])?;
            chunk.truncate(start + n);
            if n == 0 {
                return match chunk.is_empty() {
                    true => Ok(0),
                    false => Err(Self::not_utf8()),
                };
            }
            let valid = match std::str::from_utf8(&chunk) {
                Ok(_) => chunk.len(),
                Err(e) if e.error_len().is_none() => e.valid_up_to(),
                Err(_) => return Err(Self::not_utf8()),
            };
            self.tail = chunk.split_off(valid);
            (self.ready, self.at) = (chunk, 0);
        }
        let n = buf.len().min(self.ready.len() - self.at);
        buf[..n].copy_from_slice(&self.ready[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[derive(Clone, Copy)]
struct Pruned<'k> {
    keep: &'k [&'k str],
    /// Values that may still be kept.
    budget: &'k std::cell::Cell<usize>,
}

impl Pruned<'_> {
    /// Takes one value from the budget; false once it is spent.
    fn take(&self) -> bool {
        let left = self.budget.get();
        self.budget.set(left.saturating_sub(1));
        left > 0
    }
}

/// A member's name, looked up among those kept without being copied (serde_json hands it over
/// from its own buffer): its index in `keep`, or None.
struct KeyIn<'k>(&'k [&'k str]);

impl<'de> DeserializeSeed<'de> for KeyIn<'_> {
    type Value = Option<usize>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyIn<'_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_str<E>(self, v: &str) -> Result<Option<usize>, E> {
        Ok(self.0.iter().position(|k| *k == v))
    }
}

impl<'de> DeserializeSeed<'de> for Pruned<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Pruned<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(v.into())
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(v.into())
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while items.len() < MAX_ITEMS && self.take() {
            match seq.next_element_seed(self)? {
                Some(item) => items.push(item),
                None => return Ok(Value::Array(items)),
            }
        }
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut kept = Map::new();
        while let Some(key) = map.next_key_seed(KeyIn(self.keep))? {
            match key {
                Some(i) if self.take() => {
                    let value = map.next_value_seed(self)?;
                    kept.insert(self.keep[i].to_owned(), value);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Value::Object(kept))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_named_members_at_any_depth_and_drops_the_rest() {
        let doc = br#"{"Commands": [{"CommandId": "a", "Comment": "x", "Parameters": {"commands": ["ls"]},
            "InstanceIds": ["i-1"]}, {"CommandId": "b"}], "NextToken": "t"}"#;
        let kept = skim(
            &doc[..],
            &["Commands", "CommandId", "InstanceIds"],
            MAX_INPUT,
        )
        .unwrap();
        assert_eq!(
            kept,
            serde_json::json!({"Commands": [{"CommandId": "a", "InstanceIds": ["i-1"]}, {"CommandId": "b"}]})
        );
    }

    #[test]
    fn long_arrays_keep_their_start_and_long_input_ends() {
        let many = format!("[{}1]", "1,".repeat(MAX_ITEMS + 5));
        let kept = skim(many.as_bytes(), &[], MAX_INPUT).unwrap();
        assert_eq!(kept.as_array().map(Vec::len), Some(MAX_ITEMS));
        let endless = io::repeat(b' ');
        let opened = io::Cursor::new(b"[1,").chain(endless);
        assert!(matches!(
            skim(opened, &[], 1 << 20),
            Err(SkimError::TooLong)
        ));
        assert!(matches!(
            skim(&b"[1,"[..], &[], MAX_INPUT),
            Err(SkimError::Syntax(_))
        ));
        assert!(matches!(
            skim(&b"{} x"[..], &[], MAX_INPUT),
            Err(SkimError::Syntax(_))
        ));
    }

    #[test]
    fn arrays_of_arrays_keep_no_more_than_the_budget() {
        let row = format!("[{}0]", "0,".repeat(999));
        let rows = format!("[{}{row}]", format!("{row},").repeat(999));
        let kept = skim(rows.as_bytes(), &[], MAX_INPUT).unwrap();
        fn count(v: &Value) -> usize {
            1 + v.as_array().map_or(0, |a| a.iter().map(count).sum())
        }
        assert!(count(&kept) <= MAX_KEPT + 1, "{}", count(&kept));
    }

    #[test]
    fn text_that_is_not_utf8_is_refused_even_where_it_is_dropped() {
        let latin1 = b"{\"Comment\": \"caf\xe9\", \"CommandId\": \"a\"}";
        let Err(SkimError::Io(e)) = skim(&latin1[..], &["CommandId"], MAX_INPUT) else {
            panic!("accepted");
        };
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        // A sequence cut between two reads is whole once joined.
        let cafe = "{\"CommandId\": \"café\"}".as_bytes();
        let (a, b) = cafe.split_at(cafe.len() - 4);
        let kept = skim(a.chain(b), &["CommandId"], MAX_INPUT).unwrap();
        assert_eq!(kept["CommandId"], "café");
    }
}
