//! Reading every page of a listing. Each page is asked for with the NextToken the previous one
//! gave; a service that hands back a token it gave before would have the same pages read for
//! ever, so that ends the listing with an error, as the aws CLI does.

use std::collections::HashSet;
use std::future::Future;

use crate::error::Error;
use crate::provider::contract::FetchError;

/// One page: its items and the NextToken it came with.
pub type Page<T> = (Vec<T>, Option<String>);

/// Every page, or up to `max_items` items and whether the service had more. `page(token,
/// read)` fetches the page after `token` (none: the first), `read` items in so far. The token
/// only moves on once a page has arrived, so a page that fails after the retries loses and
/// repeats nothing.
pub async fn read_all<T, E, Fut>(
    operation: &'static str,
    max_items: Option<usize>,
    mut page: impl FnMut(Option<String>, usize) -> Fut,
) -> Result<(Vec<T>, bool), E>
where
    Fut: Future<Output = Result<Page<T>, E>>,
    E: From<FetchError>,
{
    let mut all = Vec::new();
    let mut pages = Pages::new(operation);
    loop {
        let (items, next) = page(pages.token(), all.len()).await?;
        all.extend(items);
        let next = next.filter(|t| !t.is_empty());
        if let Some(max) = max_items
            && all.len() >= max
        {
            let more = all.len() > max || next.is_some();
            all.truncate(max);
            return Ok((all, more));
        }
        if !pages.advance(next)? {
            return Ok((all, false));
        }
    }
}

struct Pages {
    operation: &'static str,
    next: Option<String>,
    seen: HashSet<String>,
}

impl Pages {
    fn new(operation: &'static str) -> Pages {
        Pages {
            operation,
            next: None,
            seen: HashSet::new(),
        }
    }

    /// The token to send with the next request (none for the first page).
    fn token(&self) -> Option<String> {
        self.next.clone()
    }

    /// The NextToken a page came with: whether there is another page to read.
    fn advance(&mut self, next: Option<String>) -> Result<bool, FetchError> {
        match next.filter(|t| !t.is_empty()) {
            None => {
                self.next = None;
                Ok(false)
            }
            Some(token) if !self.seen.insert(token.clone()) => {
                Err(FetchError::Fatal(Error::Api(format!(
                    "{}: the service sent the same NextToken twice; stopping rather than \
                     reading the same pages again",
                    self.operation
                ))))
            }
            Some(token) => {
                self.next = Some(token);
                Ok(true)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_seen_before_ends_the_listing() {
        let mut pages = Pages::new("ListThings");
        assert_eq!(pages.token(), None);
        assert!(matches!(pages.advance(Some("a".into())), Ok(true)));
        assert_eq!(pages.token().as_deref(), Some("a"));
        assert!(matches!(pages.advance(Some("b".into())), Ok(true)));
        let Err(FetchError::Fatal(e)) = pages.advance(Some("a".into())) else {
            panic!("a repeated token must end the listing");
        };
        assert!(
            e.to_string()
                .contains("ListThings: the service sent the same NextToken")
        );
        assert!(matches!(pages.advance(Some(String::new())), Ok(false)));
        assert!(matches!(pages.advance(None), Ok(false)));
    }
}
