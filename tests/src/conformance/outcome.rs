//! What happened to one case: its [`Status`], a one-line reason, the graph inputs that had to be
//! bound as constants, the model's op types, and the seconds it took. A child process prints one
//! [`Outcome`] as a JSON line; the driver parses it back.

use serde_json::{json, Value};

/// A case's class, in the order the doc lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    Pass,
    /// Compiled and ran; an output's dtype, shape or values differ from the expected.
    Wrong,
    /// The frontend rejects an op, a dtype or the opset.
    Unsupported,
    /// Any other frontend error.
    ImportError,
    /// The graph passes or codegen failed (or crashed).
    CompileError,
    /// Loading the artifact or running it failed (or crashed).
    RunError,
    /// More than the per-case time limit.
    Timeout,
    /// kiln panicked: a bug whatever the input.
    Panic,
}

impl Status {
    pub const ALL: [Status; 8] = [
        Status::Pass,
        Status::Wrong,
        Status::Unsupported,
        Status::ImportError,
        Status::CompileError,
        Status::RunError,
        Status::Timeout,
        Status::Panic,
    ];

    /// Stable short name (JSON, the doc's tables).
    pub fn name(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Wrong => "wrong values",
            Status::Unsupported => "unsupported",
            Status::ImportError => "import error",
            Status::CompileError => "compile error",
            Status::RunError => "run error",
            Status::Timeout => "timeout",
            Status::Panic => "panic",
        }
    }

    pub fn from_name(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.name() == s)
    }
}

/// One case's result.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub case: String,
    pub status: Status,
    /// One line; empty for a plain pass.
    pub reason: String,
    /// Graph inputs bound as constants from the data set (kiln compiles static shapes).
    pub specialized: Vec<String>,
    /// Every graph input was bound, so the outputs were computed at compile time (the kernels
    /// only copy constants).
    pub folded: bool,
    /// Op types of the model's top-level nodes, in node order, without repeats.
    pub ops: Vec<String>,
    pub seconds: f64,
}

impl Outcome {
    pub fn new(case: &str, status: Status, reason: impl Into<String>) -> Outcome {
        let reason: String = reason.into();
        Outcome {
            case: case.to_string(),
            status,
            reason: reason.replace(['\n', '\r'], " "),
            specialized: Vec::new(),
            folded: false,
            ops: Vec::new(),
            seconds: 0.0,
        }
    }

    /// `pass`, `pass (specialized: a, b)` or `<status>: <reason>`.
    pub fn summary(&self) -> String {
        match (self.status, self.specialized.is_empty()) {
            (Status::Pass, true) => "pass".to_string(),
            (Status::Pass, false) if self.folded => {
                format!(
                    "pass (specialized: {}; every input bound, folded at compile time)",
                    self.specialized.join(", ")
                )
            }
            (Status::Pass, false) => format!("pass (specialized: {})", self.specialized.join(", ")),
            (st, _) => format!("{}: {}", st.name(), self.reason),
        }
    }

    pub fn to_json_line(&self) -> String {
        json!({
            "case": self.case,
            "status": self.status.name(),
            "reason": self.reason,
            "specialized": self.specialized,
            "folded": self.folded,
            "ops": self.ops,
            "seconds": self.seconds,
        })
        .to_string()
    }

    /// Parse a line written by [`Outcome::to_json_line`].
    pub fn from_json_line(line: &str) -> Option<Outcome> {
        let v: Value = serde_json::from_str(line.trim()).ok()?;
        let strings = |k: &str| -> Vec<String> {
            v[k].as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(String::from)).collect()).unwrap_or_default()
        };
        Some(Outcome {
            case: v["case"].as_str()?.to_string(),
            status: Status::from_name(v["status"].as_str()?)?,
            reason: v["reason"].as_str().unwrap_or_default().to_string(),
            specialized: strings("specialized"),
            folded: v["folded"].as_bool().unwrap_or(false),
            ops: strings("ops"),
            seconds: v["seconds"].as_f64().unwrap_or(0.0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip() {
        let mut o = Outcome::new("test_x", Status::Wrong, "output 0: element 3: got 1, want 2\nmore");
        o.specialized = vec!["shape".into()];
        o.folded = true;
        o.ops = vec!["Reshape".into()];
        o.seconds = 0.25;
        let back = Outcome::from_json_line(&o.to_json_line()).unwrap();
        assert_eq!(back, o);
        assert!(!back.reason.contains('\n'));
        assert_eq!(back.summary(), "wrong values: output 0: element 3: got 1, want 2 more");
    }

    #[test]
    fn status_names_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::from_name(s.name()), Some(s));
        }
        assert_eq!(Status::from_name("bogus"), None);
    }
}
