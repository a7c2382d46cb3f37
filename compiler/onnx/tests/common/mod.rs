//! Test helpers: build small ONNX `ModelProto`s with the generated prost types, import them and
//! run them through the IR interpreter.
#![allow(dead_code)]

use kiln_ir::{Graph, Tensor};
use kiln_onnx::proto::{
    attribute_proto::AttributeType, tensor_proto::DataType, tensor_shape_proto, type_proto, AttributeProto, GraphProto,
    ModelProto, NodeProto, OperatorSetIdProto, TensorProto, TensorShapeProto, TypeProto, ValueInfoProto,
};
use kiln_onnx::{import_bytes, ImportError, ImportOptions};
use prost::Message;

pub const F32: i32 = DataType::Float as i32;
pub const I64: i32 = DataType::Int64 as i32;
pub const I32: i32 = DataType::Int32 as i32;
pub const BOOL: i32 = DataType::Bool as i32;

/// A graph under construction.
pub struct ModelBuilder {
    pub opset: i64,
    pub graph: GraphProto,
}

impl ModelBuilder {
    pub fn new(opset: i64) -> Self {
        ModelBuilder { opset, graph: GraphProto { name: Some("test".into()), ..Default::default() } }
    }

    /// A graph input with fixed dims.
    pub fn input(mut self, name: &str, elem: i32, dims: &[usize]) -> Self {
        let d: Vec<Dim> = dims.iter().map(|d| Dim::Fixed(*d)).collect();
        self.graph.input.push(value_info(name, elem, Some(&d)));
        self
    }

    /// A graph input with symbolic (`Dim::Param`) and fixed dims.
    pub fn input_dims(mut self, name: &str, elem: i32, dims: &[Dim]) -> Self {
        self.graph.input.push(value_info(name, elem, Some(dims)));
        self
    }

    pub fn output(mut self, name: &str) -> Self {
        // Declared output types are deliberately wrong: the importer must not trust them.
        self.graph.output.push(value_info(name, F32, Some(&[Dim::Fixed(99)])));
        self
    }

    pub fn init(mut self, t: TensorProto) -> Self {
        self.graph.initializer.push(t);
        self
    }

    pub fn node(mut self, op: &str, inputs: &[&str], outputs: &[&str], attrs: Vec<AttributeProto>) -> Self {
        let name = format!("n{}_{op}", self.graph.node.len());
        self.graph.node.push(NodeProto {
            name: Some(name),
            op_type: Some(op.into()),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: outputs.iter().map(|s| s.to_string()).collect(),
            attribute: attrs,
            ..Default::default()
        });
        self
    }

    pub fn model(self) -> ModelProto {
        ModelProto {
            ir_version: Some(8),
            opset_import: vec![OperatorSetIdProto { domain: Some(String::new()), version: Some(self.opset) }],
            graph: Some(self.graph),
            ..Default::default()
        }
    }

    pub fn bytes(self) -> Vec<u8> {
        self.model().encode_to_vec()
    }

    pub fn import(self) -> Result<Graph, ImportError> {
        import_bytes(&self.bytes(), None, &ImportOptions::default())
    }

    pub fn import_with(self, opts: &ImportOptions) -> Result<Graph, ImportError> {
        import_bytes(&self.bytes(), None, opts)
    }
}

#[derive(Clone, Debug)]
pub enum Dim {
    Fixed(usize),
    Param(&'static str),
    Unknown,
}

pub fn value_info(name: &str, elem: i32, dims: Option<&[Dim]>) -> ValueInfoProto {
    let shape = dims.map(|ds| TensorShapeProto {
        dim: ds
            .iter()
            .map(|d| tensor_shape_proto::Dimension {
                value: match d {
                    Dim::Fixed(v) => Some(tensor_shape_proto::dimension::Value::DimValue(*v as i64)),
                    Dim::Param(p) => Some(tensor_shape_proto::dimension::Value::DimParam(p.to_string())),
                    Dim::Unknown => None,
                },
                denotation: None,
            })
            .collect(),
    });
    ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor { elem_type: Some(elem), shape })),
            denotation: None,
        }),
        ..Default::default()
    }
}

// ---- tensors -------------------------------------------------------------------------------

pub fn tf32(name: &str, dims: &[usize], data: &[f32]) -> TensorProto {
    TensorProto {
        name: Some(name.into()),
        data_type: Some(F32),
        dims: dims.iter().map(|d| *d as i64).collect(),
        float_data: data.to_vec(),
        ..Default::default()
    }
}

/// Same as [`tf32`] but through raw_data.
pub fn tf32_raw(name: &str, dims: &[usize], data: &[f32]) -> TensorProto {
    TensorProto {
        name: Some(name.into()),
        data_type: Some(F32),
        dims: dims.iter().map(|d| *d as i64).collect(),
        raw_data: Some(data.iter().flat_map(|v| v.to_le_bytes()).collect()),
        ..Default::default()
    }
}

pub fn ti64(name: &str, dims: &[usize], data: &[i64]) -> TensorProto {
    TensorProto {
        name: Some(name.into()),
        data_type: Some(I64),
        dims: dims.iter().map(|d| *d as i64).collect(),
        int64_data: data.to_vec(),
        ..Default::default()
    }
}

/// A 1-D i64 initializer.
pub fn ints(name: &str, data: &[i64]) -> TensorProto {
    ti64(name, &[data.len()], data)
}

// ---- attributes ----------------------------------------------------------------------------

pub fn a_int(name: &str, v: i64) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(AttributeType::Int as i32),
        i: Some(v),
        ..Default::default()
    }
}

pub fn a_float(name: &str, v: f32) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(AttributeType::Float as i32),
        f: Some(v),
        ..Default::default()
    }
}

pub fn a_ints(name: &str, v: &[i64]) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(AttributeType::Ints as i32),
        ints: v.to_vec(),
        ..Default::default()
    }
}

pub fn a_floats(name: &str, v: &[f32]) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(AttributeType::Floats as i32),
        floats: v.to_vec(),
        ..Default::default()
    }
}

pub fn a_str(name: &str, v: &str) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(AttributeType::String as i32),
        s: Some(v.as_bytes().to_vec()),
        ..Default::default()
    }
}

pub fn a_tensor(name: &str, t: TensorProto) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(AttributeType::Tensor as i32),
        t: Some(t),
        ..Default::default()
    }
}

// ---- running -------------------------------------------------------------------------------

/// `0, 1, 2, ...` as an f32 tensor of `shape`.
pub fn iota(shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    Tensor::from_f32(shape, (0..n).map(|i| i as f32).collect()).unwrap()
}

pub fn run(g: &Graph, inputs: &[Tensor]) -> Vec<Tensor> {
    kiln_ir::interp::evaluate(g, inputs).unwrap_or_else(|e| panic!("interpreter failed: {e}"))
}

/// Assert `got` has `shape` and is elementwise close to `want` (rtol 1e-5, atol 1e-6).
pub fn assert_close(got: &Tensor, shape: &[usize], want: &[f64]) {
    assert_eq!(got.shape(), shape, "shape");
    let g = got.to_f64_vec();
    assert_eq!(g.len(), want.len(), "element count");
    for (i, (a, b)) in g.iter().zip(want).enumerate() {
        assert!((a - b).abs() <= 1e-6 + 1e-5 * b.abs(), "element {i}: got {a}, want {b} (all: {g:?})");
    }
}

/// The op histogram as (name, count) pairs, for compact assertions.
pub fn histogram(g: &Graph) -> Vec<(String, usize)> {
    g.op_histogram().into_iter().collect()
}

pub fn hist(pairs: &[(&str, usize)]) -> Vec<(String, usize)> {
    let mut v: Vec<(String, usize)> = pairs.iter().map(|(n, c)| (n.to_string(), *c)).collect();
    v.sort();
    v
}
