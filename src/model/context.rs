//! [`RequestContext`]: who asks for an operation.

use serde::{Deserialize, Serialize};

/// The caller of an operation (Nova's `RequestContext`), reduced to the four
/// fields the flows read. Each may be absent, as in Nova.
///
/// ```
/// use nova_sysmeta::RequestContext;
/// let ctx = RequestContext::new("u-1", "p-1").with_names("alice", "demo");
/// assert_eq!(ctx.user_name.as_deref(), Some("alice"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct RequestContext {
    /// Keystone user id (snapshots record it as `user_id`).
    pub user_id: Option<String>,
    /// Keystone project id (compared with the instance's for cross-project
    /// snapshots).
    pub project_id: Option<String>,
    /// User name (create stores it as `owner_user_name`, null when absent).
    pub user_name: Option<String>,
    /// Project name (create stores it as `owner_project_name`, null when
    /// absent).
    pub project_name: Option<String>,
}

impl RequestContext {
    /// A context with ids and no names.
    #[must_use]
    pub fn new(user_id: impl Into<String>, project_id: impl Into<String>) -> Self {
        Self {
            user_id: Some(user_id.into()),
            project_id: Some(project_id.into()),
            ..Self::default()
        }
    }

    /// The same context with user and project names.
    #[must_use]
    pub fn with_names(mut self, user_name: impl Into<String>, project_name: impl Into<String>) -> Self {
        self.user_name = Some(user_name.into());
        self.project_name = Some(project_name.into());
        self
    }
}
