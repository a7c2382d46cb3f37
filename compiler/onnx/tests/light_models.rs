//! The onnx 1.22 "light" CNNs (opset 9; every weight a ConstantOfShape): each imports into a
//! verified graph whose output is the 1000-class vector. Structure and op coverage only; the
//! numerics of these ops are covered by the node tests. Skipped when the data is absent.

use kiln_onnx::{import_file, ImportOptions};
use std::path::PathBuf;

fn light_dir() -> Option<PathBuf> {
    let node = std::env::var("KILN_ONNX_NODE_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("/tmp/kvenv/lib/python3.11/site-packages/onnx/backend/test/data/node"));
    let dir = node.parent()?.join("light");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipping light models: {} not found (set KILN_ONNX_NODE_DATA)", dir.display());
        None
    }
}

#[test]
fn light_cnns_import() {
    let Some(dir) = light_dir() else { return };
    let mut failures = Vec::new();
    for name in [
        "squeezenet",
        "resnet50",
        "inception_v1",
        "inception_v2",
        "densenet121",
        "shufflenet",
        "bvlc_alexnet",
        "zfnet512",
        "vgg19",
    ] {
        let t = std::time::Instant::now();
        match import_file(&dir.join(format!("light_{name}.onnx")), &ImportOptions::default()) {
            Ok(g) => {
                let out = g.value_type(g.outputs()[0].value).clone();
                eprintln!("{name}: {:?} -> {out} in {:?}", g.op_histogram(), t.elapsed());
                if out.shape.iter().product::<usize>() != 1000 {
                    failures.push(format!("{name}: output {out}"));
                }
            }
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
