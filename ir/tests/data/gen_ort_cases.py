"""Generates ort_cases.txt: single-op ONNX models run by onnxruntime, with the equivalent kiln IR
text, inputs and onnxruntime's outputs. The Rust test `ort_cases.rs` parses the IR, evaluates it
with the reference interpreter and compares. Python is only needed to regenerate:
    /tmp/kvenv/bin/python ir/tests/data/gen_ort_cases.py > ir/tests/data/ort_cases.txt
"""
import math

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper as h, numpy_helper as nh

rng = np.random.default_rng(7)
ONNX_T = {np.float32: 1, np.float64: 11, np.int32: 6, np.int64: 7, np.bool_: 9}
IR_T = {"float32": "f32", "float64": "f64", "int32": "i32", "int64": "i64", "bool": "bool"}


def ty(a):
    return f"{IR_T[a.dtype.name]}[{','.join(map(str, a.shape))}]"


def vals(a):
    flat = a.ravel()
    if a.dtype == np.bool_:
        return " ".join("1" if v else "0" for v in flat)
    if a.dtype.kind == "f":
        return " ".join(repr(float(v)) for v in flat)
    return " ".join(str(int(v)) for v in flat)


def emit(tag, a):
    dims = ",".join(map(str, a.shape)) if a.shape else "-"
    print(f"{tag} {IR_T[a.dtype.name]} {dims} {vals(a)}".rstrip())


def case(name, onnx_op, inputs, ir_op, ir_attrs="", attrs=None, consts=None, n_out=1, opset=17, ref=None):
    """inputs: graph inputs [(name, array)]; consts: ONNX initializers not in the IR (shape operands);
    ref: a Python reference used instead of onnxruntime where it lacks the kernel (f64 Erf)."""
    attrs = attrs or {}
    consts = consts or []
    in_names = [n for n, _ in inputs] + [n for n, _ in consts]
    outs = [f"y{i}" for i in range(n_out)]
    node = h.make_node(onnx_op, in_names, outs, **attrs)
    g = h.make_graph(
        [node], name,
        [h.make_tensor_value_info(n, ONNX_T[a.dtype.type], a.shape) for n, a in inputs],
        [h.make_empty_tensor_value_info(o) for o in outs],
        initializer=[nh.from_array(a, n) for n, a in consts],
    )
    m = h.make_model(g, opset_imports=[h.make_opsetid("", opset)])
    if ref is None:
        sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
        res = sess.run(None, {n: a for n, a in inputs})
    else:
        res = ref(*[a for _, a in inputs])
    params = ", ".join(f"%{n}: {ty(a)}" for n, a in inputs)
    defs = ", ".join(f"%{o}: {ty(r)}" for o, r in zip(outs, res))
    args = ", ".join(f"%{n}" for n, _ in inputs)
    print(f"case {name}")
    print(f"graph @{name}({params}) {{")
    print(f"  {defs} = {ir_op}({args}){' ' + ir_attrs if ir_attrs else ''}")
    print(f"  return {', '.join('%' + o for o in outs)}")
    print("}")
    for _, a in inputs:
        emit("input", a)
    for r in res:
        emit("expect", r)
    print("end")


def f32(*s):
    return rng.standard_normal(s).astype(np.float32)


def f64(*s):
    return rng.standard_normal(s).astype(np.float64)


def i64(*s, lo=-9, hi=10):
    return rng.integers(lo, hi, s).astype(np.int64)


x = f32(3, 4)
for op in ["Neg", "Exp", "Erf", "Tanh", "Sigmoid", "Relu"]:
    case(f"u_{op}", op, [("x", x)], op)
case("u_Sqrt", "Sqrt", [("x", np.abs(x))], "Sqrt")
case("u_Log", "Log", [("x", np.abs(x) + 0.1)], "Log")
case("u_Reciprocal", "Reciprocal", [("x", x)], "Reciprocal")
case("u_Erf_f64", "Erf", [("x", f64(2, 5) * 2)], "Erf", ref=lambda x: [np.vectorize(math.erf)(x)])

case("b_Add_bcast", "Add", [("a", f32(2, 1, 4)), ("b", f32(3, 1))], "Add")
case("b_Sub_i32", "Sub", [("a", i64(2, 3).astype(np.int32)), ("b", i64(3).astype(np.int32))], "Sub")
case("b_Mul_f64", "Mul", [("a", f64(2, 3)), ("b", f64(1))], "Mul")
case("b_Div_f32", "Div", [("a", f32(4)), ("b", f32(4))], "Div")
divisor = np.array([3, -3, 2, -7, 1, 5], np.int64)
case("b_Div_i64", "Div", [("a", i64(2, 6, lo=-50, hi=50)), ("b", divisor)], "Div")
case("b_Pow_f32", "Pow", [("a", np.abs(f32(2, 3)) + 0.5), ("b", f32(3))], "Pow")
case("b_Pow_int_exp", "Pow", [("a", f32(2, 3)), ("b", np.array([2, 3, 0], np.int64))], "Pow")
case("b_Equal_i64", "Equal", [("a", i64(3, 4, lo=0, hi=3)), ("b", i64(4, lo=0, hi=3))], "Equal")
case("b_Equal_bool", "Equal", [("a", rng.random((2, 2)) > 0.5), ("b", rng.random((2,)) > 0.5)], "Equal")

case("where", "Where", [("c", rng.random((2, 1, 3)) > 0.5), ("x", f32(4, 3)), ("y", f32(1))], "Where")

case("cast_f32_i32", "Cast", [("x", f32(2, 5) * 10)], "Cast", "{to = i32}", {"to": 6})
case("cast_i64_f32", "Cast", [("x", i64(2, 3, lo=-10**12, hi=10**12))], "Cast", "{to = f32}", {"to": 1})
case("cast_f32_bool", "Cast", [("x", np.array([0.0, -0.0, 1.5, -2.0], np.float32))], "Cast", "{to = bool}", {"to": 9})
case("cast_bool_f64", "Cast", [("x", np.array([True, False], np.bool_))], "Cast", "{to = f64}", {"to": 11})
case("cast_i64_i32", "Cast", [("x", i64(4, lo=-(2**40), hi=2**40))], "Cast", "{to = i32}", {"to": 6})

case("matmul_batch", "MatMul", [("a", f32(2, 1, 3, 4)), ("b", f32(5, 4, 2))], "MatMul")
case("matmul_vec_left", "MatMul", [("a", f32(4)), ("b", f32(2, 4, 3))], "MatMul")
case("matmul_vec_right", "MatMul", [("a", f32(3, 4)), ("b", f32(4))], "MatMul")
case("matmul_f64", "MatMul", [("a", f64(3, 5)), ("b", f64(5, 2))], "MatMul")

case("gemm_t", "Gemm", [("a", f32(5, 3)), ("b", f32(4, 5)), ("c", f32(4))], "Gemm",
     "{alpha = 0.5, beta = 2.0, trans_a = true, trans_b = true}", {"alpha": 0.5, "beta": 2.0, "transA": 1, "transB": 1})
case("gemm_col_c", "Gemm", [("a", f32(3, 5)), ("b", f32(5, 4)), ("c", f32(3, 1))], "Gemm",
     "{alpha = 1.0, beta = 1.0, trans_a = false, trans_b = false}")
case("gemm_no_c", "Gemm", [("a", f32(3, 5)), ("b", f32(5, 4))], "Gemm",
     "{alpha = 1.5, beta = 1.0, trans_a = false, trans_b = false}", {"alpha": 1.5})

case("softmax_ax0", "Softmax", [("x", f32(3, 4) * 5)], "Softmax", "{axis = 0}", {"axis": 0})
case("softmax_ax2", "Softmax", [("x", f32(2, 3, 4) * 5)], "Softmax", "{axis = 2}", {"axis": -1})

case("layernorm_ax1", "LayerNormalization", [("x", f32(2, 3, 4)), ("s", f32(3, 4)), ("b", f32(3, 4))], "LayerNorm",
     "{axis = 1, epsilon = 1e-5}", {"axis": 1, "epsilon": 1e-5})
case("layernorm_last", "LayerNormalization", [("x", f32(3, 8) * 3 + 1), ("s", f32(8))], "LayerNorm",
     "{axis = 1, epsilon = 0.001}", {"axis": -1, "epsilon": 1e-3})

case("batchnorm", "BatchNormalization",
     [("x", f32(2, 3, 2, 2)), ("s", f32(3)), ("b", f32(3)), ("m", f32(3)), ("v", np.abs(f32(3)) + 0.1)],
     "BatchNorm", "{epsilon = 1e-5}", {"epsilon": 1e-5})

case("reducesum_keep", "ReduceSum", [("x", f32(2, 3, 4))], "ReduceSum", "{axes = [0, 2], keep_dims = true}",
     {"keepdims": 1}, consts=[("axes", np.array([0, 2], np.int64))])
case("reducesum_i64", "ReduceSum", [("x", i64(3, 4))], "ReduceSum", "{axes = [1], keep_dims = false}",
     {"keepdims": 0}, consts=[("axes", np.array([1], np.int64))])
case("reducemean", "ReduceMean", [("x", f32(2, 3, 4))], "ReduceMean", "{axes = [1], keep_dims = false}",
     {"axes": [1], "keepdims": 0})

case("reshape", "Reshape", [("x", f32(2, 3, 4))], "Reshape", "{shape = [4, 6]}", consts=[("s", np.array([4, 6], np.int64))])
case("transpose", "Transpose", [("x", f32(2, 3, 4))], "Transpose", "{perm = [2, 0, 1]}", {"perm": [2, 0, 1]})
case("concat", "Concat", [("a", f32(2, 1, 3)), ("b", f32(2, 2, 3)), ("c", f32(2, 3, 3))], "Concat", "{axis = 1}", {"axis": 1})
case("split", "Split", [("x", i64(5, 2))], "Split", "{axis = 0, sizes = [2, 3]}",
     consts=[("sp", np.array([2, 3], np.int64))], n_out=2)
case("slice_neg_step", "Slice", [("x", f32(4, 6))], "Slice",
     "{axes = [0, 1], starts = [3, 1], ends = [-1, 6], steps = [-2, 2]}",
     consts=[("st", np.array([-1, 1], np.int64)), ("en", np.array([-100, 100], np.int64)),
             ("ax", np.array([0, 1], np.int64)), ("sp", np.array([-2, 2], np.int64))])
case("gather_neg", "Gather", [("x", f32(3, 4)), ("i", np.array([[0, -1], [2, -4]], np.int64))], "Gather", "{axis = 1}", {"axis": 1})
case("gather_i32_scalar", "Gather", [("x", i64(3, 2)), ("i", np.array(1, np.int32))], "Gather", "{axis = 0}", {"axis": 0})
case("expand", "Expand", [("x", f32(3, 1))], "Expand", "{shape = [2, 3, 4]}", consts=[("s", np.array([2, 1, 4], np.int64))])

case("conv_group_dil", "Conv", [("x", f32(1, 4, 7, 6)), ("w", f32(6, 2, 3, 3)), ("b", f32(6))], "Conv",
     "{strides = [2, 1], pads = [1, 0, 2, 1], dilations = [1, 2], group = 2}",
     {"strides": [2, 1], "pads": [1, 0, 2, 1], "dilations": [1, 2], "group": 2})
case("conv_plain", "Conv", [("x", f32(2, 3, 5, 5)), ("w", f32(4, 3, 3, 3))], "Conv",
     "{strides = [1, 1], pads = [1, 1, 1, 1], dilations = [1, 1], group = 1}", {"pads": [1, 1, 1, 1]})
case("maxpool", "MaxPool", [("x", f32(1, 2, 6, 7))], "MaxPool",
     "{kernel = [3, 2], strides = [2, 1], pads = [1, 1, 1, 0], dilations = [1, 2]}",
     {"kernel_shape": [3, 2], "strides": [2, 1], "pads": [1, 1, 1, 0], "dilations": [1, 2]})
for cip in [0, 1]:
    case(f"avgpool_cip{cip}", "AveragePool", [("x", f32(1, 2, 5, 5))], "AvgPool",
         f"{{kernel = [3, 3], strides = [2, 2], pads = [1, 1, 1, 1], count_include_pad = {'true' if cip else 'false'}}}",
         {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "count_include_pad": cip})
