//! Load-time check that an artifact's target (`Metadata.target`) can run on this host: the triple's
//! architecture matches, and every recorded ISA feature is present on this CPU. All missing
//! features are reported at once.

use crate::cpu_features;
use crate::error::Error;
use kiln_abi::Target;
use std::path::Path;

pub(crate) fn check(path: &Path, target: &Target) -> Result<(), Error> {
    let arch = target.triple.split('-').next().unwrap_or("");
    let host = std::env::consts::ARCH;
    if arch != host {
        return Err(Error::WrongHost { path: path.to_path_buf(), triple: target.triple.clone(), host: host.into() });
    }
    let mut missing = Vec::new();
    let mut unknown = Vec::new();
    for feature in &target.features {
        let name = feature.strip_prefix('+').unwrap_or(feature);
        match cpu_features::detect(name) {
            Some(true) => {}
            Some(false) => missing.push(name.to_string()),
            None => unknown.push(name.to_string()),
        }
    }
    if !unknown.is_empty() {
        return Err(Error::UnknownCpuFeatures { path: path.to_path_buf(), unknown, cpu: target.cpu.clone() });
    }
    if !missing.is_empty() {
        return Err(Error::MissingCpuFeatures { path: path.to_path_buf(), missing, cpu: target.cpu.clone() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(triple: &str, features: &[&str]) -> Target {
        Target {
            triple: triple.into(),
            cpu: "test-cpu".into(),
            features: features.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn wrong_arch_is_refused() {
        let other = if cfg!(target_arch = "x86_64") { "aarch64-unknown-linux-gnu" } else { "x86_64-unknown-linux-gnu" };
        let e = check(Path::new("m.so"), &target(other, &[])).unwrap_err().to_string();
        assert!(e.contains("built for target") && e.contains(std::env::consts::ARCH), "{e}");
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn unknown_feature_is_refused_and_baseline_passes() {
        let t = target("x86_64-unknown-linux-gnu", &["sse2", "bogus1", "bogus2"]);
        let e = check(Path::new("m.so"), &t).unwrap_err().to_string();
        assert_eq!(e, "m.so: needs CPU features bogus1, bogus2 that this runtime cannot check (built for test-cpu)");
        check(Path::new("m.so"), &target("x86_64-unknown-linux-gnu", &["sse2", "+sse"])).expect("baseline");
    }
}
