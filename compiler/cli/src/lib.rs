//! The kiln command line as a library: the compile driver (ONNX -> IR -> passes -> codegen) and the
//! subcommands, so integration tests and embedders can call them without spawning a process.

pub mod bench;
pub mod compile;
pub mod inspect;
pub mod npy;
pub mod run;

/// Parse `NAME=D0xD1x...` (the `--shape` flag).
pub fn parse_shape_arg(s: &str) -> anyhow::Result<(String, Vec<usize>)> {
    let (name, dims) = s
        .rsplit_once('=')
        .ok_or_else(|| anyhow::anyhow!("--shape '{s}': expected NAME=D0xD1x..., e.g. input_ids=1x128"))?;
    let dims = if dims.is_empty() {
        vec![]
    } else {
        dims.split(['x', 'X'])
            .map(|d| d.trim().parse::<usize>().map_err(|_| anyhow::anyhow!("--shape '{s}': '{d}' is not a dimension")))
            .collect::<anyhow::Result<Vec<_>>>()?
    };
    Ok((name.to_string(), dims))
}

/// Parse `NAME=FILE` (the `--input` flag).
pub fn parse_input_arg(s: &str) -> anyhow::Result<(String, std::path::PathBuf)> {
    let (name, file) = s.rsplit_once('=').ok_or_else(|| anyhow::anyhow!("--input '{s}': expected NAME=FILE.npy"))?;
    Ok((name.to_string(), file.into()))
}
