//! The generator's error type: every failure names the schema file and the
//! JSON pointer it concerns, so a schema author can go straight to the fix.

use std::path::PathBuf;

/// Why code generation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodegenError {
    /// A schema file could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// A schema file is not valid JSON.
    #[error("{path} is not valid JSON")]
    Json {
        /// The file.
        path: String,
        /// The parse failure.
        #[source]
        source: serde_json::Error,
    },
    /// A `$ref` points at nothing.
    #[error("{file}#{pointer}: `$ref` \"{target}\" resolves to no schema")]
    DanglingRef {
        /// The file holding the `$ref`.
        file: String,
        /// Where in that file.
        pointer: String,
        /// The reference as written.
        target: String,
    },
    /// Two schemas would become Rust items of the same name.
    #[error("name collision: `{name}` is produced by both {first} and {second}")]
    NameCollision {
        /// The Rust name.
        name: String,
        /// The first schema location.
        first: String,
        /// The second schema location.
        second: String,
    },
    /// A schema uses a shape the generator does not support.
    #[error("{file}#{pointer}: unsupported schema shape: {reason}")]
    Unsupported {
        /// The file.
        file: String,
        /// Where in that file.
        pointer: String,
        /// What is wrong.
        reason: String,
    },
    /// typify refused a schema.
    #[error("typify rejected the schema of `{name}` ({location}): {reason}")]
    Typify {
        /// The Rust name being generated.
        name: String,
        /// Where its schema comes from.
        location: String,
        /// typify's message.
        reason: String,
    },
    /// The produced tokens are not valid Rust (a generator bug).
    #[error("generated code for {file} does not parse as Rust: {reason}")]
    Syntax {
        /// The output file.
        file: String,
        /// syn's message.
        reason: String,
    },
}

/// Result alias for the generator.
pub type Result<T> = std::result::Result<T, CodegenError>;

#[cfg(test)]
mod tests {
    use super::CodegenError;

    #[test]
    fn error_is_send_sync_static() {
        fn check<T: Send + Sync + 'static>() {}
        check::<CodegenError>();
    }
}
