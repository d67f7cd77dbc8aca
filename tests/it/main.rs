//! The integration tests: one test binary, one module per concern, so that the scripted fakes
//! and helpers of `tests/support/` compile and link once (see matklad's "Delete Cargo
//! Integration Tests"). Every test runs the built `ssmres` binary.

#[path = "../support/mod.rs"]
mod support;

mod aliyun;
mod aliyun_fleet;
mod cancel;
mod cli_validation;
mod completions;
mod credentials;
mod e2e_moto;
mod fleet_wait;
mod follow;
mod full_output;
mod get_output;
mod hardening;
mod list;
mod multi_step;
mod remote_exit_code;
mod run;
mod ship;
mod stdin_ids;
mod task_invocations;
mod terminal;
mod wait_timelines;
