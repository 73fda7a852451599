//! [`CliError`]: a command's failure and the exit code it maps to, in the manner of cargo's
//! `CliError`. Commands return [`CliResult`]; `main` prints the error (if not already printed)
//! and exits with its code: 0 ok, 1 run or validation failure, 2 usage (clap's own errors).

use std::process::ExitCode;

/// Exit code of a run or validation failure.
pub const FAILURE: u8 = 1;

/// What a command returns.
pub type CliResult = Result<(), CliError>;

/// A command's failure: an error to print as `error: ...` (or none if the command already
/// printed its diagnostics), and the exit code.
#[derive(Debug)]
pub struct CliError {
    /// Printed as `error: {error:#}` when present.
    pub error: Option<anyhow::Error>,
    /// The process's exit code.
    pub exit_code: u8,
}

impl CliError {
    /// An error to print, with its exit code.
    pub fn new(error: anyhow::Error, exit_code: u8) -> CliError {
        CliError {
            error: Some(error),
            exit_code,
        }
    }

    /// A failure whose messages were already printed (e.g. every problem of a scenario).
    pub fn code(exit_code: u8) -> CliError {
        CliError {
            error: None,
            exit_code,
        }
    }

    /// Print the error, if any, and give the exit code.
    pub fn report(self) -> ExitCode {
        if let Some(e) = &self.error {
            eprintln!(
                "error: {}",
                ecsim_reports::escape::terminal(&format!("{e:#}"))
            );
        }
        ExitCode::from(self.exit_code)
    }
}

impl From<anyhow::Error> for CliError {
    fn from(error: anyhow::Error) -> CliError {
        CliError::new(error, FAILURE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_carry_their_exit_code() {
        let e: CliError = anyhow::anyhow!("boom").into();
        assert_eq!(e.exit_code, FAILURE);
        assert_eq!(e.error.unwrap().to_string(), "boom");
        let e = CliError::code(2);
        assert!(e.error.is_none() && e.exit_code == 2);
    }
}
