//! Reading a Piper voice's `.onnx` file into named f32 tensors and conv settings.
//!
//! The ONNX graph itself is not executed: only its initializers (the weights) and the attributes
//! of its Conv/ConvTranspose nodes (stride, padding, dilation, groups) are read. Parameter names are
//! the PyTorch checkpoint paths; see `checkpoint/naming.rs` for how anonymous initializers get theirs, and
//! `docs/parameters.md` for the full list of a Piper VITS voice.

mod naming;
mod onnx_proto;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use prost::Message;

use crate::error::{Error, Result};
use naming::Use;
use onnx_proto::{ModelProto, NodeProto, TensorProto, DATA_TYPE_FLOAT};

/// Attributes of one convolution node, keyed by its module path (`dec.ups.0`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvAttrs {
    pub stride: usize,
    /// Symmetric padding (ONNX `pads` begin == end for every Piper conv).
    pub padding: usize,
    pub dilation: usize,
    pub groups: usize,
}

/// The weights of a voice by parameter name (on the CPU), and its conv node attributes.
#[derive(Debug, Clone, Default)]
pub struct Checkpoint {
    /// Parameter path → f32 tensor.
    pub tensors: HashMap<String, Tensor>,
    /// Conv/ConvTranspose module path → attributes.
    pub convs: HashMap<String, ConvAttrs>,
    /// Names of the graph's inputs (`input`, `input_lengths`, `scales`, and `sid` when multi-speaker).
    pub graph_inputs: Vec<String>,
    /// Where it was read from (for error messages).
    pub path: PathBuf,
}

impl Checkpoint {
    /// Reads and names every parameter of the Piper `.onnx` file at `path`.
    pub fn from_onnx_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Self::from_onnx_bytes(&bytes, path)
    }

    /// Like [`Checkpoint::from_onnx_file`] on bytes already in memory; `path` names them in errors.
    pub fn from_onnx_bytes(bytes: &[u8], path: impl Into<PathBuf>) -> Result<Self> {
        let path = path.into();
        let bad = |reason: String| Error::bad_voice(&path, reason);
        if bytes.is_empty() {
            return Err(bad("the file is empty".into()));
        }
        let model = ModelProto::decode(bytes)
            .map_err(|e| bad(format!("not an ONNX model (protobuf decode failed: {e})")))?;
        let graph = model.graph.ok_or_else(|| bad("the ONNX model has no graph".into()))?;
        if graph.initializer.is_empty() {
            return Err(bad("the ONNX graph has no weights (truncated or not a model file?)".into()));
        }

        let mut uses: HashMap<&str, Vec<Use<'_>>> = HashMap::new();
        for node in &graph.node {
            for (input_index, input) in node.input.iter().enumerate() {
                uses.entry(input.as_str()).or_default().push(Use {
                    node_name: &node.name,
                    op_type: &node.op_type,
                    input_index,
                });
            }
        }

        let mut tensors = HashMap::new();
        let mut folded_logs = Vec::new();
        for init in &graph.initializer {
            let node_uses = uses.get(init.name.as_str()).map(Vec::as_slice).unwrap_or(&[]);
            if let Some(name) = naming::parameter_name(&init.name, node_uses) {
                let t = to_tensor(init).map_err(|r| bad(format!("weight `{name}`: {r}")))?;
                if tensors.insert(name.clone(), t).is_some() {
                    return Err(bad(format!("two initializers map to the parameter `{name}`")));
                }
            } else if let Some(module) = naming::folded_exp_neg_logs(&init.name) {
                folded_logs.push((module, init));
            }
        }
        // ElementwiseAffine's `exp(-logs)` was constant-folded at export: store `logs` again.
        for (module, init) in folded_logs {
            if tensors.contains_key(&format!("{module}.m")) {
                let exp_neg_logs = to_tensor(init).map_err(|r| bad(format!("`{module}.logs`: {r}")))?;
                tensors.insert(format!("{module}.logs"), exp_neg_logs.log()?.neg()?);
            }
        }

        let convs = graph
            .node
            .iter()
            .filter(|n| n.op_type == "Conv" || n.op_type == "ConvTranspose")
            .filter_map(|n| Some((naming::module_path(&n.name)?, conv_attrs(n))))
            .map(|(m, a)| a.map(|a| (m.clone(), a)).map_err(|r| bad(format!("conv `{m}`: {r}"))))
            .collect::<Result<HashMap<_, _>>>()?;

        Ok(Checkpoint {
            tensors,
            convs,
            graph_inputs: graph.input.iter().map(|i| i.name.clone()).collect(),
            path,
        })
    }

    /// The parameter called `name`.
    pub fn get(&self, name: &str) -> Option<&Tensor> {
        self.tensors.get(name)
    }

    /// Attributes of the conv at module path `module`, if the graph had that node.
    pub fn conv(&self, module: &str) -> Option<ConvAttrs> {
        self.convs.get(module).copied()
    }

    /// Sorted parameter names.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.tensors.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// Total number of parameters (scalars).
    pub fn num_parameters(&self) -> usize {
        self.tensors.values().map(Tensor::elem_count).sum()
    }
}

/// An f32 initializer as a CPU tensor; the error says what is wrong with its data.
fn to_tensor(t: &TensorProto) -> std::result::Result<Tensor, String> {
    if t.data_location == 1 {
        return Err("stored as external data, which voices must not use".into());
    }
    if t.data_type != DATA_TYPE_FLOAT {
        return Err(format!("data type {} is not float32", t.data_type));
    }
    let dims = t
        .dims
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| format!("negative dimension {d}")))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let numel = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or("dimensions overflow")?;
    let data: Vec<f32> = if !t.raw_data.is_empty() {
        if t.raw_data.len() != numel * 4 {
            return Err(format!(
                "holds {} bytes but its shape {dims:?} needs {} (truncated file?)",
                t.raw_data.len(),
                numel * 4
            ));
        }
        t.raw_data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
    } else {
        if t.float_data.len() != numel {
            return Err(format!("holds {} values but its shape {dims:?} needs {numel}", t.float_data.len()));
        }
        t.float_data.clone()
    };
    if data.iter().any(|v| !v.is_finite()) {
        return Err("contains NaN or infinite values".into());
    }
    Tensor::from_vec(data, dims, &Device::Cpu).map_err(|e| e.to_string())
}

/// Stride, symmetric padding, dilation and groups of a Conv/ConvTranspose node.
fn conv_attrs(node: &NodeProto) -> std::result::Result<ConvAttrs, String> {
    let mut a = ConvAttrs { stride: 1, padding: 0, dilation: 1, groups: 1 };
    let one = |ints: &[i64], what: &str| -> std::result::Result<usize, String> {
        match ints {
            [v] if *v >= 0 => Ok(*v as usize),
            [b, e] if b == e && *b >= 0 => Ok(*b as usize),
            _ => Err(format!("unsupported {what} {ints:?}")),
        }
    };
    for attr in &node.attribute {
        match attr.name.as_str() {
            "strides" => a.stride = one(&attr.ints, "strides")?,
            "pads" => a.padding = one(&attr.ints, "pads")?,
            "dilations" => a.dilation = one(&attr.ints, "dilations")?,
            "group" => a.groups = usize::try_from(attr.i).map_err(|_| "negative group")?,
            _ => {}
        }
    }
    Ok(a)
}

/// A parameter's path and a change of it (same shape).
pub type Delta = (String, Tensor);

/// `base` with Σ αᵢ·Δᵢ added to the parameters the deltas name (`terms`: α and deltas); the
/// others are the same tensors, shared, not copied. A delta naming no parameter is an error.
pub fn merge(base: &HashMap<String, Tensor>, terms: &[(f32, Vec<Delta>)]) -> Result<HashMap<String, Tensor>> {
    let mut out = base.clone();
    for (alpha, deltas) in terms {
        if *alpha == 0.0 {
            continue;
        }
        for (name, d) in deltas {
            let w = out.get(name).ok_or_else(|| Error::invalid("weight delta", format!("`{name}` is not a parameter")))?;
            let updated = (w + (d.to_device(w.device())? * *alpha as f64)?)?;
            out.insert(name.clone(), updated);
        }
    }
    Ok(out)
}
