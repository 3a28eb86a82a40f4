//! Seeded, deterministic generator of the built-in investigation scenario that every huntglass demo runs on.
