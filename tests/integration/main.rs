//! All integration tests, linked into one test binary. Each test runs the real
//! `leakscan` executable on a temporary directory or repository.

mod archive;
mod baseline;
mod cli;
mod closed_pipe;
mod detection;
mod fixture;
mod git_formats;
mod history;
mod history_pack;
mod hook;
mod hostile;
mod push;
mod report;
mod rules;
mod scan;
mod second_mile;
mod silent_passes;
mod staged;
mod staged_config;
mod sweep;
mod util;
mod verify;
mod workflow;
