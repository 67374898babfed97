//! Exit codes: the contract scripts rely on (DESIGN.md, "Exit codes"). Which
//! error gets which code is decided in `command_error`.

/// Process exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Success (also: a closed output pipe).
    Ok = 0,
    /// A check failed (validate found errors).
    Failed = 1,
    /// Usage error or invalid input.
    Usage = 2,
    /// Entity not found or ambiguous.
    NotFound = 3,
    /// Catalog or config cannot be read.
    Catalog = 4,
    /// `scaffold check`: a newer template version exists (copier's convention).
    NewerVersion = 5,
    /// An internal error: a bug in idp (BSD's EX_SOFTWARE).
    Internal = 70,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_documented_ones() {
        assert_eq!(Exit::Ok as i32, 0);
        assert_eq!(Exit::Failed as i32, 1);
        assert_eq!(Exit::Usage as i32, 2);
        assert_eq!(Exit::NotFound as i32, 3);
        assert_eq!(Exit::Catalog as i32, 4);
        assert_eq!(Exit::NewerVersion as i32, 5);
        assert_eq!(Exit::Internal as i32, 70);
    }
}
