//! The device config: the `PROG.p4tc` file `p4tc compile` writes, and what a controller puts
//! in `ForwardingPipelineConfig.p4_device_config` for `SetForwardingPipelineConfig`.
//!
//! It carries everything needed to load the pipeline on another machine: the pipeline's name,
//! the hook, the P4 source files (the program and every file it includes, except the
//! architecture files built into p4tc) laid out relative to a common root, the `-I` and `-D`
//! options, and, when clang built it, the BPF object. The server writes the files under a
//! directory of its own with [`DeviceConfig::write_sources`] and compiles (or loads the
//! object).
//!
//! Format: the 8 bytes `P4TCDEV\0`, a little-endian `u16` format version ([`VERSION`]), then
//! one protobuf message (fields below). The magic makes a wrong file (a P4Info, a BPF object)
//! fail with a clear message; the version lets a later p4tc refuse an artifact it cannot
//! read. Protobuf keeps the body extensible: unknown fields of a newer minor change are
//! skipped.

use std::path::{Component, Path, PathBuf};

use prost::Message;

/// The first bytes of every device config.
pub const MAGIC: &[u8; 8] = b"P4TCDEV\0";
/// The format version this p4tc writes and reads.
pub const VERSION: u16 = 1;
/// The most a device config may hold (sources and object together); larger inputs are
/// refused before decoding.
pub const MAX_SIZE: usize = 64 << 20;

/// Why bytes are not a device config, or its sources cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum DeviceConfigError {
    /// Fewer bytes than the header.
    #[error("device config: {len} bytes is too short for the 10-byte header (is it empty?)")]
    TooShort {
        /// How many bytes there were.
        len: usize,
    },
    /// The magic is wrong.
    #[error("device config: it does not start with P4TCDEV (found {found:02x?}); give the PROG.p4tc that `p4tc compile` writes")]
    BadMagic {
        /// The first bytes found.
        found: Vec<u8>,
    },
    /// Another format version.
    #[error("device config: format version {found} is not supported (this p4tc reads version {VERSION})")]
    Version {
        /// The version found.
        found: u16,
    },
    /// Too large.
    #[error("device config: {len} bytes is more than the {MAX_SIZE}-byte limit")]
    TooLarge {
        /// Its size.
        len: usize,
    },
    /// The body does not decode.
    #[error("device config: the body at byte 10 does not decode: {0}")]
    Body(#[from] prost::DecodeError),
    /// A required field is empty or a path is unsafe.
    #[error("device config: {0}")]
    Invalid(String),
    /// Writing the sources failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// One source file, by path relative to the config's root.
#[derive(Clone, PartialEq, Eq, Message)]
pub struct SourceFile {
    /// `/`-separated, relative, without `..`.
    #[prost(string, tag = "1")]
    pub path: String,
    /// Its text.
    #[prost(string, tag = "2")]
    pub text: String,
}

/// What a device config holds.
#[derive(Clone, PartialEq, Eq, Message)]
pub struct DeviceConfig {
    /// The pipeline's name.
    #[prost(string, tag = "1")]
    pub pipeline: String,
    /// `tc` or `xdp`.
    #[prost(string, tag = "2")]
    pub hook: String,
    /// The program's file: a [`SourceFile::path`] of `sources`.
    #[prost(string, tag = "3")]
    pub main: String,
    /// The program and the files it includes.
    #[prost(message, repeated, tag = "4")]
    pub sources: Vec<SourceFile>,
    /// `-I` directories, relative to the root like the sources.
    #[prost(string, repeated, tag = "5")]
    pub include_dirs: Vec<String>,
    /// `-D` definitions (`NAME` or `NAME=VALUE`).
    #[prost(string, repeated, tag = "6")]
    pub defines: Vec<String>,
    /// The BPF object clang built, when it did (empty otherwise).
    #[prost(bytes = "vec", tag = "7")]
    pub object: Vec<u8>,
    /// The version of p4tc that wrote it, for messages.
    #[prost(string, tag = "8")]
    pub producer: String,
}

/// Checks a relative, `/`-separated path: no root, no `..`, nothing empty.
fn check_relative(what: &str, path: &str) -> Result<(), DeviceConfigError> {
    let bad = |why: &str| DeviceConfigError::Invalid(format!("{what} `{path}` {why}"));
    if path.is_empty() {
        return Err(bad("is empty"));
    }
    if path.contains('\0') || path.contains('\\') {
        return Err(bad("contains a NUL or a backslash"));
    }
    for c in Path::new(path).components() {
        match c {
            Component::Normal(_) | Component::CurDir => {}
            Component::ParentDir => return Err(bad("leaves its root with `..`")),
            Component::RootDir | Component::Prefix(_) => return Err(bad("is absolute")),
        }
    }
    Ok(())
}

impl DeviceConfig {
    /// The bytes of `PROG.p4tc`.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(10 + self.encoded_len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        self.encode_raw(&mut out);
        out
    }

    /// Reads a device config, checking the header and that the content is usable (a pipeline
    /// name, a main file among the sources, safe relative paths).
    pub fn decode(bytes: &[u8]) -> Result<DeviceConfig, DeviceConfigError> {
        if bytes.len() > MAX_SIZE {
            return Err(DeviceConfigError::TooLarge { len: bytes.len() });
        }
        if bytes.len() < 10 {
            // A short file that starts wrong is more likely a wrong file than a cut one.
            if !bytes.is_empty() && !MAGIC.starts_with(bytes) {
                return Err(DeviceConfigError::BadMagic {
                    found: bytes.to_vec(),
                });
            }
            return Err(DeviceConfigError::TooShort { len: bytes.len() });
        }
        if &bytes[..8] != MAGIC {
            return Err(DeviceConfigError::BadMagic {
                found: bytes[..8].to_vec(),
            });
        }
        let version = u16::from_le_bytes([bytes[8], bytes[9]]);
        if version != VERSION {
            return Err(DeviceConfigError::Version { found: version });
        }
        let config = DeviceConfig::decode_body(&bytes[10..])?;
        config.validate()?;
        Ok(config)
    }

    fn decode_body(body: &[u8]) -> Result<DeviceConfig, prost::DecodeError> {
        <DeviceConfig as Message>::decode(body)
    }

    /// Checks what [`DeviceConfig::decode`] promises.
    pub fn validate(&self) -> Result<(), DeviceConfigError> {
        let invalid = |m: String| Err(DeviceConfigError::Invalid(m));
        if self.pipeline.is_empty() {
            return invalid("the pipeline name is empty".into());
        }
        if !matches!(self.hook.as_str(), "tc" | "xdp") {
            return invalid(format!("hook `{}` is neither `tc` nor `xdp`", self.hook));
        }
        let mut seen = std::collections::HashSet::new();
        for s in &self.sources {
            check_relative("source", &s.path)?;
            if !seen.insert(s.path.as_str()) {
                return invalid(format!("source `{}` is given twice", s.path));
            }
        }
        if !seen.contains(self.main.as_str()) {
            return invalid(format!(
                "the main file `{}` is not among its {} sources",
                self.main,
                self.sources.len()
            ));
        }
        for d in &self.include_dirs {
            check_relative("include directory", d)?;
        }
        Ok(())
    }

    /// The main file's text.
    pub fn main_source(&self) -> Option<&str> {
        self.sources
            .iter()
            .find(|s| s.path == self.main)
            .map(|s| s.text.as_str())
    }

    /// Writes the sources under `root` (created if missing) and returns the main file's path
    /// and the `-I` directories, ready for the front-end.
    pub fn write_sources(&self, root: &Path) -> Result<(PathBuf, Vec<PathBuf>), DeviceConfigError> {
        self.validate()?;
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| DeviceConfigError::Io { path, source }
        };
        for s in &self.sources {
            let path = root.join(&s.path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(io(parent))?;
            }
            std::fs::write(&path, &s.text).map_err(io(&path))?;
        }
        let includes = self.include_dirs.iter().map(|d| root.join(d)).collect();
        Ok((root.join(&self.main), includes))
    }

    /// A device config from files on disk: `main` and the other `files` it read (built-in
    /// files, whose names start with `<`, are skipped), stored relative to the deepest
    /// directory that holds them all and the include directories.
    pub fn from_files(
        pipeline: &str,
        hook: &str,
        main: &Path,
        files: &[PathBuf],
        include_dirs: &[PathBuf],
        defines: &[String],
    ) -> Result<DeviceConfig, DeviceConfigError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| DeviceConfigError::Io { path, source }
        };
        let absolute = |p: &Path| std::path::absolute(p).map_err(io(p));
        let main_abs = absolute(main)?;
        let mut all: Vec<PathBuf> = vec![main_abs.clone()];
        for f in files {
            if f.to_string_lossy().starts_with('<') {
                continue;
            }
            let a = absolute(f)?;
            if !all.contains(&a) {
                all.push(a);
            }
        }
        let dirs: Vec<PathBuf> = include_dirs
            .iter()
            .map(|d| absolute(d))
            .collect::<Result<_, _>>()?;
        let mut root = main_abs.parent().map(Path::to_path_buf).unwrap_or_default();
        for p in all
            .iter()
            .filter_map(|p| p.parent())
            .chain(dirs.iter().map(PathBuf::as_path))
        {
            while !p.starts_with(&root) {
                match root.parent() {
                    Some(up) => root = up.to_path_buf(),
                    None => break,
                }
            }
        }
        let relative = |p: &Path| -> Result<String, DeviceConfigError> {
            let rel = p.strip_prefix(&root).map_err(|_| {
                DeviceConfigError::Invalid(format!("{} is outside {}", p.display(), root.display()))
            })?;
            let parts: Vec<String> = rel
                .components()
                .filter_map(|c| match c {
                    Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                    _ => None,
                })
                .collect();
            Ok(if parts.is_empty() {
                ".".into()
            } else {
                parts.join("/")
            })
        };
        let mut sources = Vec::with_capacity(all.len());
        for p in &all {
            sources.push(SourceFile {
                path: relative(p)?,
                text: std::fs::read_to_string(p).map_err(io(p))?,
            });
        }
        let config = DeviceConfig {
            pipeline: pipeline.into(),
            hook: hook.into(),
            main: relative(&main_abs)?,
            sources,
            include_dirs: dirs.iter().map(|d| relative(d)).collect::<Result<_, _>>()?,
            defines: defines.to_vec(),
            object: Vec::new(),
            producer: format!("p4tc {}", env!("CARGO_PKG_VERSION")),
        };
        config.validate()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> DeviceConfig {
        DeviceConfig {
            pipeline: "simple_l3".into(),
            hook: "tc".into(),
            main: "simple_l3.p4".into(),
            sources: vec![
                SourceFile {
                    path: "simple_l3.p4".into(),
                    text: "#include \"inc/defs.p4\"\n".into(),
                },
                SourceFile {
                    path: "inc/defs.p4".into(),
                    text: "#define N 4\n".into(),
                },
            ],
            include_dirs: vec!["inc".into()],
            defines: vec!["X=1".into()],
            object: vec![0x7f, b'E', b'L', b'F'],
            producer: "p4tc test".into(),
        }
    }

    #[test]
    fn round_trips() {
        let c = sample();
        let bytes = c.encode();
        assert_eq!(&bytes[..8], MAGIC);
        assert_eq!(DeviceConfig::decode(&bytes).unwrap(), c);
        assert_eq!(c.main_source(), Some("#include \"inc/defs.p4\"\n"));
    }

    #[test]
    fn malformed_input_is_refused_with_the_reason() {
        let good = sample().encode();
        assert!(matches!(
            DeviceConfig::decode(&[]),
            Err(DeviceConfigError::TooShort { len: 0 })
        ));
        assert!(matches!(
            DeviceConfig::decode(b"P4TC"),
            Err(DeviceConfigError::TooShort { .. })
        ));
        assert!(matches!(
            DeviceConfig::decode(b"\x7fELF\x02\x01\x01\0\0\0\0\0"),
            Err(DeviceConfigError::BadMagic { .. })
        ));
        let mut v2 = good.clone();
        v2[8] = 2;
        let e = DeviceConfig::decode(&v2).unwrap_err();
        assert!(e.to_string().contains("version 2"), "{e}");
        // Cut in the middle of the body.
        let e = DeviceConfig::decode(&good[..good.len() - 3]).unwrap_err();
        assert!(matches!(e, DeviceConfigError::Body(_)), "{e}");
    }

    #[test]
    fn unsafe_paths_and_missing_main_are_refused() {
        for bad in ["../etc/passwd", "/etc/passwd", "a/../../b", ""] {
            let mut c = sample();
            c.sources[1].path = bad.into();
            let e = DeviceConfig::decode(&c.encode()).unwrap_err();
            assert!(matches!(e, DeviceConfigError::Invalid(_)), "{bad}: {e}");
        }
        let mut c = sample();
        c.main = "other.p4".into();
        let e = DeviceConfig::decode(&c.encode()).unwrap_err();
        assert!(e.to_string().contains("`other.p4` is not among"), "{e}");
        let mut c = sample();
        c.hook = "egress".into();
        assert!(DeviceConfig::decode(&c.encode()).is_err());
    }

    #[test]
    fn writes_sources_under_a_root_and_reads_them_back() {
        let dir = std::env::temp_dir().join(format!("p4tc-devcfg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let c = sample();
        let (main, includes) = c.write_sources(&dir.join("a")).unwrap();
        assert_eq!(std::fs::read_to_string(&main).unwrap(), c.sources[0].text);
        assert_eq!(includes, vec![dir.join("a").join("inc")]);
        let files = vec![
            dir.join("a/inc/defs.p4"),
            PathBuf::from("<builtin>/core.p4"),
        ];
        let again =
            DeviceConfig::from_files("simple_l3", "tc", &main, &files, &includes, &c.defines)
                .unwrap();
        assert_eq!(again.main, "simple_l3.p4");
        assert_eq!(again.sources, c.sources);
        assert_eq!(again.include_dirs, vec!["inc".to_string()]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
