//! What several rules share: matching against the policy's lists, the analysis of the
//! OAuth client's settings and redirect URIs, and the helpers of the rules' unit tests.

pub(crate) mod matching;
pub(crate) mod oauth_client;
#[cfg(test)]
pub(crate) mod testing;
