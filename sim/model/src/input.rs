//! Input files as bytes: the size limit and the UTF-8 check every scenario, sweep, variants,
//! pricing and load file goes through before it is parsed.

use crate::scenario::read::Diagnostic;

/// The largest input file read unless the user allows more (`--max-input-bytes`): 16 MiB,
/// far above any scenario or load CSV written by hand, and small enough that an endless input
/// (`/dev/zero`) stops at once.
pub const DEFAULT_MAX_INPUT_BYTES: u64 = 16 * 1024 * 1024;

/// The text of an input file, or where it stops being UTF-8: a diagnostic with the line, the
/// column and the byte offset of the first bad byte.
pub fn decode(file: &str, bytes: Vec<u8>) -> Result<String, Diagnostic> {
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let at = e.utf8_error().valid_up_to();
        let good = std::str::from_utf8(&bytes[..at]).unwrap_or_default();
        let line = good.matches('\n').count() + 1;
        let line_start = good.rfind('\n').map_or(0, |i| i + 1);
        let column = good[line_start..].chars().count() + 1;
        Diagnostic {
            file: file.to_string(),
            line,
            column,
            path: String::new(),
            message: format!(
                "not UTF-8 text: byte 0x{:02X} at byte offset {at} is not valid UTF-8 (save the file as UTF-8)",
                bytes[at]
            ),
            from_set: None,
        }
    })
}

/// The error for an input larger than `max` bytes.
pub fn too_large(file: &str, max: u64) -> Diagnostic {
    Diagnostic {
        file: file.to_string(),
        line: 0,
        column: 0,
        path: String::new(),
        message: format!(
            "the file is larger than the input limit of {max} bytes; raise it with --max-input-bytes if it is really meant"
        ),
        from_set: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_utf8_names_line_column_and_byte_offset() {
        let d = decode("s.toml", b"a = 1\nname = \"x\xffy\"\n".to_vec()).unwrap_err();
        assert_eq!(
            d.to_string(),
            "s.toml:2:10: not UTF-8 text: byte 0xFF at byte offset 15 is not valid UTF-8 (save the file as UTF-8)"
        );
        assert_eq!(decode("s.toml", b"ok".to_vec()).unwrap(), "ok");
    }
}
