//! Host CPU feature checks for `Metadata.target.features` (LLVM feature names without '+').
//!
//! Most features go through `std::arch::is_x86_feature_detected!`; the AMX ones, which that macro
//! only accepts on nightly, are read from CPUID leaf 7 plus the XCR0 tile-state bits (the OS must
//! save tile state), and on Linux the process also asks the kernel for permission to use tile
//! data (`arch_prctl(ARCH_REQ_XCOMP_PERM)`), without which the first AMX instruction faults.

use kiln_abi::RECORDED_FEATURES;

/// Features this runtime checks beyond [`RECORDED_FEATURES`] (the list every kiln compiler may
/// record, defined in kiln-abi): the x86-64 baseline and further ISA extensions.
pub const OTHER_CHECKABLE: &[&str] = &[
    // The x86-64 baseline (always present on x86_64).
    "x87",
    "mmx",
    "sse",
    "cx8",
    "cmov",
    "fxsr",
    // Further checkable ones.
    "amx-fp16",
    "amx-complex",
    "tbm",
    "avx512vp2intersect",
    "avxvnni",
    "avxifma",
    "avxvnniint8",
    "avxvnniint16",
    "avxneconvert",
    "sha",
    "sha512",
    "sm3",
    "sm4",
    "aes",
    "pclmul",
    "adx",
    "rdrnd",
    "rdseed",
    "xsave",
    "xsavec",
    "xsaveopt",
    "xsaves",
    "cx16",
];

/// Every feature name this runtime can check.
pub fn checkable() -> impl Iterator<Item = &'static str> {
    RECORDED_FEATURES.iter().chain(OTHER_CHECKABLE).copied()
}

/// Whether this CPU has `feature`; `None` when the name is not one this runtime can check.
pub fn detect(feature: &str) -> Option<bool> {
    if !RECORDED_FEATURES.contains(&feature) && !OTHER_CHECKABLE.contains(&feature) {
        return None;
    }
    Some(detect_known(feature))
}

#[cfg(not(target_arch = "x86_64"))]
fn detect_known(_feature: &str) -> bool {
    false
}

#[cfg(target_arch = "x86_64")]
fn detect_known(feature: &str) -> bool {
    use std::arch::is_x86_feature_detected as has;
    match feature {
        "x87" | "mmx" | "sse" | "sse2" | "cx8" | "cmov" | "fxsr" => true,
        "sse3" => has!("sse3"),
        "ssse3" => has!("ssse3"),
        "sse4.1" => has!("sse4.1"),
        "sse4.2" => has!("sse4.2"),
        "popcnt" => has!("popcnt"),
        "avx" => has!("avx"),
        "avx2" => has!("avx2"),
        "fma" => has!("fma"),
        "f16c" => has!("f16c"),
        "bmi" => has!("bmi1"),
        "bmi2" => has!("bmi2"),
        "lzcnt" => has!("lzcnt"),
        "movbe" => has!("movbe"),
        "avx512f" => has!("avx512f"),
        "avx512cd" => has!("avx512cd"),
        "avx512bw" => has!("avx512bw"),
        "avx512dq" => has!("avx512dq"),
        "avx512vl" => has!("avx512vl"),
        "avx512vnni" => has!("avx512vnni"),
        "avx512bf16" => has!("avx512bf16"),
        "avx512fp16" => has!("avx512fp16"),
        "avx512vbmi" => has!("avx512vbmi"),
        "avx512vbmi2" => has!("avx512vbmi2"),
        "avx512ifma" => has!("avx512ifma"),
        "avx512bitalg" => has!("avx512bitalg"),
        "avx512vpopcntdq" => has!("avx512vpopcntdq"),
        "gfni" => has!("gfni"),
        "vaes" => has!("vaes"),
        "vpclmulqdq" => has!("vpclmulqdq"),
        "sse4a" => has!("sse4a"),
        "tbm" => has!("tbm"),
        "avx512vp2intersect" => has!("avx512vp2intersect"),
        "avxvnni" => has!("avxvnni"),
        "avxifma" => has!("avxifma"),
        "avxvnniint8" => has!("avxvnniint8"),
        "avxvnniint16" => has!("avxvnniint16"),
        "avxneconvert" => has!("avxneconvert"),
        "sha" => has!("sha"),
        "sha512" => has!("sha512"),
        "sm3" => has!("sm3"),
        "sm4" => has!("sm4"),
        "aes" => has!("aes"),
        "pclmul" => has!("pclmulqdq"),
        "adx" => has!("adx"),
        "rdrnd" => has!("rdrand"),
        "rdseed" => has!("rdseed"),
        "xsave" => has!("xsave"),
        "xsavec" => has!("xsavec"),
        "xsaveopt" => has!("xsaveopt"),
        "xsaves" => has!("xsaves"),
        "cx16" => has!("cmpxchg16b"),
        amx => amx::detect(amx),
    }
}

#[cfg(target_arch = "x86_64")]
#[allow(unused_unsafe)] // CPUID intrinsics became safe fns after Rust 1.85
mod amx {
    use core::arch::x86_64::{__cpuid, __cpuid_count, _xgetbv};
    use std::sync::OnceLock;

    /// CPUID.(EAX=7,ECX=0):EDX and CPUID.(EAX=7,ECX=1):EAX/EDX bit for each AMX feature.
    pub fn detect(feature: &str) -> bool {
        let (leaf7_0_edx, leaf7_1_eax, leaf7_1_edx) = leaf7();
        let cpu_has = match feature {
            "amx-bf16" => leaf7_0_edx >> 22 & 1 == 1,
            "amx-tile" => leaf7_0_edx >> 24 & 1 == 1,
            "amx-int8" => leaf7_0_edx >> 25 & 1 == 1,
            "amx-fp16" => leaf7_1_eax >> 21 & 1 == 1,
            "amx-complex" => leaf7_1_edx >> 8 & 1 == 1,
            _ => false,
        };
        cpu_has && os_saves_tile_state() && *PERMISSION.get_or_init(request_tile_permission)
    }

    static PERMISSION: OnceLock<bool> = OnceLock::new();

    fn leaf7() -> (u32, u32, u32) {
        // SAFETY: CPUID is available on every x86_64 CPU; leaf 0 gives the highest leaf.
        let max_leaf = unsafe { __cpuid(0) }.eax;
        if max_leaf < 7 {
            return (0, 0, 0);
        }
        // SAFETY: leaf 7 exists (checked above).
        let l70 = unsafe { __cpuid_count(7, 0) };
        let l71 = if l70.eax >= 1 { unsafe { __cpuid_count(7, 1) } } else { __cpuid_zero() };
        (l70.edx, l71.eax, l71.edx)
    }

    fn __cpuid_zero() -> core::arch::x86_64::CpuidResult {
        core::arch::x86_64::CpuidResult { eax: 0, ebx: 0, ecx: 0, edx: 0 }
    }

    /// XCR0 bits 17 (XTILECFG) and 18 (XTILEDATA): the OS saves AMX state.
    fn os_saves_tile_state() -> bool {
        // SAFETY: CPUID leaf 1 always exists; bit 27 of ECX is OSXSAVE (XGETBV usable).
        let osxsave = unsafe { __cpuid(1) }.ecx >> 27 & 1 == 1;
        if !osxsave {
            return false;
        }
        // SAFETY: OSXSAVE is set, so XGETBV with ECX=0 is valid.
        let xcr0 = unsafe { xgetbv0() };
        xcr0 & (0b11 << 17) == 0b11 << 17
    }

    #[target_feature(enable = "xsave")]
    unsafe fn xgetbv0() -> u64 {
        _xgetbv(0)
    }

    /// Linux only lets a process use AMX tile data after `arch_prctl(ARCH_REQ_XCOMP_PERM, 18)`.
    #[cfg(target_os = "linux")]
    fn request_tile_permission() -> bool {
        const ARCH_REQ_XCOMP_PERM: libc::c_long = 0x1023;
        const XFEATURE_XTILEDATA: libc::c_long = 18;
        // SAFETY: arch_prctl with these arguments only changes this process's permitted xstate.
        unsafe { libc::syscall(libc::SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0 }
    }

    #[cfg(not(target_os = "linux"))]
    fn request_tile_permission() -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_names_are_none_and_baseline_is_present() {
        assert_eq!(detect("not-a-feature"), None);
        assert_eq!(detect("+avx2"), None);
        if cfg!(target_arch = "x86_64") {
            assert_eq!(detect("sse2"), Some(true));
            for f in checkable() {
                assert!(detect(f).is_some(), "{f}");
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn agrees_with_std_where_std_can_check() {
        assert_eq!(detect("avx2"), Some(std::arch::is_x86_feature_detected!("avx2")));
        assert_eq!(detect("bmi"), Some(std::arch::is_x86_feature_detected!("bmi1")));
        assert_eq!(detect("avx512f"), Some(std::arch::is_x86_feature_detected!("avx512f")));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn amx_tile_agrees_with_proc_cpuinfo() {
        let Ok(info) = std::fs::read_to_string("/proc/cpuinfo") else {
            return;
        };
        let Some(flags) = info.lines().find(|l| l.starts_with("flags")) else {
            return;
        };
        let listed = flags.split_whitespace().any(|f| f == "amx_tile");
        assert_eq!(detect("amx-tile"), Some(listed));
    }
}
