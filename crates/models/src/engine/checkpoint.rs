//! Checkpoints: named tensors in one safetensors file, written atomically.
//!
//! A checkpoint holds every network's variables under PyTorch `state_dict` names prefixed by the
//! network (`generator.shared.0.dense.weight`, `discriminator.merged.0.conv.bias`, …), so
//! `safetensors.torch.load_file` opens it and a PyTorch module loads its part after stripping
//! the prefix. Training state (optimizer moments, counters) lives in the same file under other
//! prefixes, so one rename makes a checkpoint appear complete or not at all.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use tch::{nn, Tensor};

use crate::Error;

/// Writes `tensors` to `path` as safetensors: first to a temporary file next to it, synced, then
/// renamed over `path`, so a crash leaves either the old file or the new one.
///
/// # Errors
/// [`Error::File`] naming `path` if writing or renaming fails.
pub fn save(path: &Path, tensors: &[(String, Tensor)]) -> Result<(), Error> {
    let mut tmp = PathBuf::from(path);
    tmp.as_mut_os_string().push(".partial");
    let contiguous: Vec<(&str, Tensor)> = tensors
        .iter()
        .map(|(name, t)| (name.as_str(), t.contiguous()))
        .collect();
    let write = || -> Result<(), Error> {
        Tensor::write_safetensors(&contiguous, &tmp)?;
        File::open(&tmp)?.sync_all()?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::file(path, e)
    })
}

/// Reads every tensor of the safetensors file `path`.
///
/// # Errors
/// [`Error::File`] naming `path` if it is missing or not a safetensors file.
pub fn load(path: &Path) -> Result<HashMap<String, Tensor>, Error> {
    if !path.is_file() {
        return Err(Error::file(path, "no such checkpoint file"));
    }
    let tensors = Tensor::read_safetensors(path).map_err(|e| {
        Error::file(
            path,
            format!(
                "not a readable safetensors checkpoint ({})",
                first_line(&e.to_string())
            ),
        )
    })?;
    Ok(tensors.into_iter().collect())
}

/// The first line of a (possibly multi-line libtorch) message.
fn first_line(message: &str) -> &str {
    message.lines().next().unwrap_or(message)
}

/// The variables of `vs` named `PREFIX.NAME`, sorted by name.
pub fn variables(vs: &nn::VarStore, prefix: &str) -> Vec<(String, Tensor)> {
    let mut vars: Vec<(String, Tensor)> = vs
        .variables()
        .into_iter()
        .map(|(name, t)| (format!("{prefix}.{name}"), t))
        .collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    vars
}

/// Copies the tensors `PREFIX.NAME` of `checkpoint` into the variables of `vs`.
///
/// # Errors
/// [`Error::Shape`] naming the first variable the checkpoint lacks or holds in another shape (a
/// checkpoint of another preset); [`Error::Torch`] from libtorch.
pub fn restore(
    vs: &nn::VarStore,
    prefix: &str,
    checkpoint: &HashMap<String, Tensor>,
) -> Result<(), Error> {
    let _guard = tch::no_grad_guard();
    for (name, mut var) in variables(vs, prefix) {
        let saved = checkpoint
            .get(&name)
            .ok_or_else(|| Error::Shape(format!("the checkpoint has no '{name}'")))?;
        if saved.size() != var.size() {
            return Err(Error::Shape(format!(
                "'{name}' has shape {:?} in the checkpoint, the model needs {:?} \
                 (a checkpoint of another preset?)",
                saved.size(),
                var.size()
            )));
        }
        var.f_copy_(saved)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    #[test]
    fn save_then_load_round_trips_and_leaves_no_partial_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ck.safetensors");
        let a = Tensor::from_slice(&[1.5f32, -2.0, 3.25]).view([3, 1]);
        let b = Tensor::from(42i64);
        save(
            &path,
            &[("net.a".into(), a.t_copy()), ("state.step".into(), b)],
        )
        .unwrap();
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["ck.safetensors"]);
        let back = load(&path).unwrap();
        assert_eq!(back["net.a"].size(), [1, 3]);
        assert_eq!(
            Vec::<f32>::try_from(&back["net.a"].view([-1])).unwrap(),
            [1.5, -2.0, 3.25]
        );
        assert_eq!(back["state.step"].int64_value(&[]), 42);
    }

    #[test]
    fn missing_and_corrupt_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("none.safetensors");
        let err = load(&missing).unwrap_err().to_string();
        assert_eq!(
            err,
            format!("{}: no such checkpoint file", missing.display())
        );
        let junk = dir.path().join("junk.safetensors");
        std::fs::write(&junk, b"\x10\0\0\0\0\0\0\0{not json").unwrap();
        let err = load(&junk).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!(
                "{}: not a readable safetensors checkpoint",
                junk.display()
            )),
            "{err}"
        );
        assert!(!err.contains('\n'), "{err}");
    }

    #[test]
    fn restore_checks_names_and_shapes() {
        let _rng = crate::torch_rng();
        let vs = nn::VarStore::new(Device::Cpu);
        let w = vs.root().zeros("w", &[2]);
        let mut checkpoint = HashMap::new();
        checkpoint.insert("g.w".to_string(), Tensor::from_slice(&[3.0f32, 4.0]));
        restore(&vs, "g", &checkpoint).unwrap();
        assert_eq!(w.sum(Kind::Float).double_value(&[]), 7.0);
        let err = restore(&vs, "d", &checkpoint).unwrap_err().to_string();
        assert_eq!(err, "shape: the checkpoint has no 'd.w'");
        checkpoint.insert(
            "g.w".to_string(),
            Tensor::zeros([3], (Kind::Float, Device::Cpu)),
        );
        let err = restore(&vs, "g", &checkpoint).unwrap_err().to_string();
        assert!(
            err.contains("has shape [3] in the checkpoint, the model needs [2]"),
            "{err}"
        );
    }
}
