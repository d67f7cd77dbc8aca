//! Values quoted back in messages.

/// A value echoed in a message, cut to its first `max` characters: a runaway one (a pasted
/// file, a variable gone wrong) keeps enough to be recognised.
pub fn shown(value: &str, max: usize) -> String {
    match value.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &value[..cut]),
        None => value.to_owned(),
    }
}
