//! `SetForwardingPipelineConfig` and `GetForwardingPipelineConfig`: the device config is our
//! artifact (`PROG.p4tc`, see [`crate::device_config`]) or plain P4 source; either is
//! compiled by the front-end here (VERIFY does no more), and the [`Deployer`] installs it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use p4runtime_proto::p4::v1 as p4v1;
use p4tc_front::PreprocessOptions;
use p4tc_runtime::PipelineModel;
use tonic::Code;

use super::backend::{Deployer, Prepared};
use super::errors::Failure;
use super::schema::Schema;
use super::state::{Device, Installed, Saved};
use crate::device_config::{DeviceConfig, SourceFile, MAGIC};

use p4v1::get_forwarding_pipeline_config_request::ResponseType;
use p4v1::set_forwarding_pipeline_config_request::Action;

/// Deep programs recurse deeply in the front-end: it runs on a thread with this stack (as
/// `p4tc check` does).
const STACK_SIZE: usize = 256 * 1024 * 1024;

/// The name a pipeline given as plain P4 source gets.
pub const SOURCE_PIPELINE: &str = "p4prog";

/// The device config in `bytes`: our artifact (`PROG.p4tc`), or plain P4 source (UTF-8 that
/// does not start with the artifact's magic), taken as one file of pipeline
/// [`SOURCE_PIPELINE`] at TC.
pub fn decode_device_config(bytes: &[u8]) -> Result<DeviceConfig, Failure> {
    let looks_like_source = !bytes.starts_with(&MAGIC[..4])
        && !bytes.contains(&0)
        && std::str::from_utf8(bytes).is_ok_and(|s| !s.trim().is_empty());
    if looks_like_source {
        let text = String::from_utf8_lossy(bytes).into_owned();
        return Ok(DeviceConfig {
            pipeline: SOURCE_PIPELINE.into(),
            hook: "tc".into(),
            main: format!("{SOURCE_PIPELINE}.p4"),
            sources: vec![SourceFile {
                path: format!("{SOURCE_PIPELINE}.p4"),
                text,
            }],
            ..Default::default()
        });
    }
    DeviceConfig::decode(bytes).map_err(|e| Failure::invalid(format!("p4_device_config: {e}")))
}

static SCRATCH: AtomicU64 = AtomicU64::new(0);

/// Compiles a device config into a pipeline model. Its sources are written to a scratch
/// directory for the front-end (the program may include its own files) and removed after.
pub fn prepare(device_config: &[u8]) -> Result<Prepared, Failure> {
    let config = decode_device_config(device_config)?;
    let name = config.pipeline.clone();
    let dir = std::env::temp_dir().join(format!(
        "p4tc-serve-{}-{}",
        std::process::id(),
        SCRATCH.fetch_add(1, Ordering::Relaxed)
    ));
    let written = config.write_sources(&dir);
    let result = written
        .map_err(|e| Failure::invalid(format!("p4_device_config: {e}")))
        .and_then(|(main, include_dirs)| {
            let defines = config
                .defines
                .iter()
                .map(|d| match d.split_once('=') {
                    Some((n, v)) => (n.to_string(), Some(v.to_string())),
                    None => (d.clone(), None),
                })
                .collect();
            compile(
                &name,
                main,
                PreprocessOptions {
                    include_dirs,
                    defines,
                },
            )
        });
    let _ = std::fs::remove_dir_all(&dir);
    let module = result?;
    let model = PipelineModel::new(Arc::new(module), &name)
        .map_err(|e| Failure::invalid(format!("pipeline `{name}`: {e}")))?;
    Ok(Prepared {
        name,
        config,
        model: Arc::new(model),
    })
}

fn compile(
    name: &str,
    main: std::path::PathBuf,
    options: PreprocessOptions,
) -> Result<p4tc_ir::ir::Module, Failure> {
    let worker = std::thread::Builder::new()
        .stack_size(STACK_SIZE)
        .spawn(move || {
            let mut parsed = p4tc_front::parse_file(&main, &options)
                .map_err(|e| format!("cannot read {}: {e}", main.display()))?;
            let module = p4tc_front::check(&mut parsed);
            Ok::<_, String>((module, parsed.has_errors(), parsed.render_diagnostics()))
        })
        .map_err(|e| Failure::new(Code::Internal, format!("cannot start the compiler: {e}")))?;
    let (module, failed, diagnostics) = worker
        .join()
        .map_err(|_| Failure::new(Code::Internal, "the front-end crashed"))?
        .map_err(Failure::invalid)?;
    match module {
        Some(m) if !failed => Ok(m),
        _ => Err(Failure::invalid(format!(
            "the device config's program `{name}` does not compile:\n{diagnostics}"
        ))),
    }
}

fn verify(
    deployer: &dyn Deployer,
    config: Option<&p4v1::ForwardingPipelineConfig>,
) -> Result<(p4v1::ForwardingPipelineConfig, Arc<Schema>, Prepared), Failure> {
    let config = config.ok_or_else(|| Failure::invalid("the request has no config"))?;
    let p4info = config
        .p4info
        .as_ref()
        .ok_or_else(|| Failure::invalid("the config has no p4info"))?;
    let prepared = deployer.verify(&config.p4_device_config)?;
    let schema = Schema::new(p4info, &prepared.model).map_err(|e| {
        Failure::invalid(format!(
            "the p4info does not fit program `{}`: {e}",
            prepared.name
        ))
    })?;
    Ok((config.clone(), Arc::new(schema), prepared))
}

fn install(
    device: &mut Device,
    deployer: &dyn Deployer,
    config: p4v1::ForwardingPipelineConfig,
    schema: Arc<Schema>,
    prepared: &Prepared,
    reconcile: bool,
) -> Result<(), Failure> {
    // Reconciling with the same program keeps the running backend as it is.
    if reconcile {
        if let Some(inst) = device.installed.as_mut() {
            if inst.config.p4_device_config == config.p4_device_config {
                inst.config = config;
                inst.schema = schema;
                return Ok(());
            }
        }
    }
    let backend = deployer.commit(prepared, reconcile)?;
    device.installed = Some(Installed {
        config,
        schema,
        model: Arc::clone(&prepared.model),
        backend,
        meters: HashMap::new(),
        digests: HashMap::new(),
        outstanding: HashMap::new(),
        next_list_id: 1,
    });
    Ok(())
}

/// Carries out a `SetForwardingPipelineConfig` (the caller checked it is the primary's).
pub fn set(
    device: &mut Device,
    deployer: &dyn Deployer,
    req: &p4v1::SetForwardingPipelineConfigRequest,
) -> Result<(), Failure> {
    let action = Action::try_from(req.action).unwrap_or(Action::Unspecified);
    match action {
        Action::Unspecified => Err(Failure::invalid(
            "the action is unspecified (VERIFY, VERIFY_AND_SAVE, VERIFY_AND_COMMIT, COMMIT or RECONCILE_AND_COMMIT)",
        )),
        Action::Verify => verify(deployer, req.config.as_ref()).map(|_| ()),
        Action::VerifyAndSave => {
            let (config, schema, prepared) = verify(deployer, req.config.as_ref())?;
            device.saved = Some(Saved {
                config,
                schema,
                prepared,
            });
            Ok(())
        }
        Action::VerifyAndCommit | Action::ReconcileAndCommit => {
            let (config, schema, prepared) = verify(deployer, req.config.as_ref())?;
            install(
                device,
                deployer,
                config,
                schema,
                &prepared,
                action == Action::ReconcileAndCommit,
            )?;
            device.saved = None;
            Ok(())
        }
        Action::Commit => {
            let Some(saved) = device.saved.take() else {
                return Err(Failure::new(
                    Code::FailedPrecondition,
                    "COMMIT without a config saved by VERIFY_AND_SAVE",
                ));
            };
            if let Some(c) = &req.config {
                // A config may come along only when it is the saved one.
                if c.p4_device_config != saved.config.p4_device_config {
                    let err = Failure::invalid(
                        "COMMIT carries a config other than the one VERIFY_AND_SAVE saved",
                    );
                    device.saved = Some(saved);
                    return Err(err);
                }
            }
            let r = install(
                device,
                deployer,
                saved.config.clone(),
                Arc::clone(&saved.schema),
                &saved.prepared,
                false,
            );
            if r.is_err() {
                device.saved = Some(saved);
            }
            r
        }
    }
}

/// Answers a `GetForwardingPipelineConfig`.
pub fn get(
    device: &Device,
    req: &p4v1::GetForwardingPipelineConfigRequest,
) -> Result<p4v1::GetForwardingPipelineConfigResponse, Failure> {
    let inst = device.installed.as_ref().ok_or_else(|| {
        Failure::new(
            Code::FailedPrecondition,
            "no pipeline is set (SetForwardingPipelineConfig first)",
        )
    })?;
    let ty = ResponseType::try_from(req.response_type)
        .map_err(|_| Failure::invalid(format!("unknown response type {}", req.response_type)))?;
    let c = &inst.config;
    let config = p4v1::ForwardingPipelineConfig {
        p4info: matches!(ty, ResponseType::All | ResponseType::P4infoAndCookie)
            .then(|| c.p4info.clone())
            .flatten(),
        p4_device_config: if matches!(ty, ResponseType::All | ResponseType::DeviceConfigAndCookie) {
            c.p4_device_config.clone()
        } else {
            Vec::new()
        },
        cookie: c.cookie,
    };
    Ok(p4v1::GetForwardingPipelineConfigResponse {
        config: Some(config),
    })
}
