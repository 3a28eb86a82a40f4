//! The `huntglass` command: `serve` for the demo pages and batch subcommands over the huntglass engines.

fn main() {}
